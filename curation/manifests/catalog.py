"""DuckDB over a run's manifests: each Parquet table registered as a view by its name.

The connection is in memory, the tables are handed to DuckDB as Arrow datasets, and then file
and network access are switched off and the configuration locked: a query can read the manifests
and nothing else, and cannot write anywhere. Review verdicts (``OUT/reviews/``) are the view
``reviews``, empty until someone reviews.
"""

import duckdb
import pyarrow.dataset as pads

from curation.manifests.manifest_writer import MANIFEST_DIR, read_manifest
from curation.manifests.review_verdicts import reviews_table
from curation.run.run_store import RunStore


def manifest_names(store: RunStore) -> list[str]:
    return [name.removesuffix(".parquet") for name in store.list(MANIFEST_DIR, ".parquet")]


def open_catalog(store: RunStore) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for name in manifest_names(store):
        if store.remote:
            source = read_manifest(store, name)
        else:
            source = pads.dataset(str(store.local_path(f"{MANIFEST_DIR}/{name}.parquet")), format="parquet")
        con.register(name, source)
    con.register("reviews", reviews_table(store))
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
