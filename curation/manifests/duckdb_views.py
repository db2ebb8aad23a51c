"""DuckDB over a run's manifests: each Parquet table registered as a view by its name.

The connection is in memory, the tables are handed to DuckDB as Arrow datasets (every part of a
table as one dataset), and then file and network access are switched off and the configuration
locked: a query can read the manifests and nothing else, and cannot write anywhere. Review
verdicts (``OUT/reviews/``) are the view ``reviews``, empty until someone reviews.

DuckDB keeps its ``temp_directory`` (where large sorts and joins spill) allowed after external
access is off. Left at its default, ``.tmp`` under the working directory, a query could write
there (``COPY ... TO '.tmp/x.csv'``) and read back whatever another process put there; it is a
fresh private folder instead, set before the configuration is locked and deleted with the
connection, so all a query can touch is its own spill files.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow.dataset as pads

from curation.faults.store_retry import with_retries
from curation.manifests.manifest_writer import MANIFEST_DIR, manifest_parts, read_manifest
from curation.manifests.review_verdicts import reviews_table
from curation.store.run_store import RunStore
from schemas.tables import TABLES


def manifest_names(store: RunStore) -> list[str]:
    if store.remote:
        folder = store.path(MANIFEST_DIR)
        entries = with_retries(
            lambda: store.fs.ls(folder, detail=True) if store.fs.exists(folder) else [], f"listing {MANIFEST_DIR}"
        )
        names = [e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "directory"]
    else:
        folder = store.local_path(MANIFEST_DIR)
        names = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    return sorted(name for name in names if manifest_parts(store, name))


@contextmanager
def open_catalog(store: RunStore) -> Iterator[duckdb.DuckDBPyConnection]:
    """The locked connection over the run's tables, for a ``with`` block (it is closed after)."""
    spill = tempfile.mkdtemp(prefix="lpm-duckdb-")
    try:
        with duckdb.connect(":memory:") as con:
            _register_tables(con, store, spill)
            yield con
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _register_tables(con: duckdb.DuckDBPyConnection, store: RunStore, spill: str) -> None:
    for name in manifest_names(store):
        if store.remote:
            source = read_manifest(store, name)
        else:
            files = [str(store.local_path(p)) for p in manifest_parts(store, name)]
            # The declared schema: columns that an older run's parts lack read as nulls.
            source = pads.dataset(files, format="parquet", schema=TABLES.get(name))
        con.register(name, source)
    con.register("reviews", reviews_table(store))
    con.execute("SET temp_directory = ?", [spill])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
