"""DuckDB over a run's manifests: each Parquet table registered as a view by its name.

The connection is in memory, the tables are handed to DuckDB as Arrow datasets (every part of a
table as one dataset), and then file and network access are switched off and the configuration
locked: a query can read the manifests and nothing else, and cannot write anywhere. Review
verdicts (``OUT/reviews/``) are the view ``reviews``, empty until someone reviews.
"""

import duckdb
import pyarrow.dataset as pads

from curation.manifests.manifest_writer import MANIFEST_DIR, manifest_parts, read_manifest
from curation.manifests.review_verdicts import reviews_table
from curation.run.run_store import RunStore


def manifest_names(store: RunStore) -> list[str]:
    if store.remote:
        folder = store.path(MANIFEST_DIR)
        entries = store.fs.ls(folder, detail=True) if store.fs.exists(folder) else []
        names = [e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "directory"]
    else:
        folder = store.local_path(MANIFEST_DIR)
        names = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    return sorted(name for name in names if manifest_parts(store, name))


def open_catalog(store: RunStore) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for name in manifest_names(store):
        if store.remote:
            source = read_manifest(store, name)
        else:
            files = [str(store.local_path(p)) for p in manifest_parts(store, name)]
            source = pads.dataset(files, format="parquet")
        con.register(name, source)
    con.register("reviews", reviews_table(store))
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
