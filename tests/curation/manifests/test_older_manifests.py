"""A run written before a minor schema change (schema 1.3: segments without ``sync_verdict`` and
``picture_twin_of``) still reads: the new columns are nulls, and ``--where`` on them selects
nothing instead of failing."""

import io

import pyarrow as pa
import pyarrow.parquet as pq

from curation.manifests.duckdb_views import open_catalog
from curation.manifests.manifest_writer import part_path, read_manifest, write_manifest
from curation.manifests.where_filter import check_where
from curation.store.run_store import RunStore
from schemas.tables import TABLES

ADDED_IN_1_4 = ("sync_verdict", "picture_twin_of")


def old_segments_part(store: RunStore, part: str, segment_id: str) -> None:
    """A segments part as schema 1.3 wrote it: the same columns without those added in 1.4."""
    schema = pa.schema([f for f in TABLES["segments"] if f.name not in ADDED_IN_1_4])
    row = {f.name: None for f in schema} | {"segment_id": segment_id, "video_id": "v", "state": "speaking"}
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([row], schema=schema), buffer)
    store.write_bytes(part_path("segments", part), buffer.getvalue())


def test_an_older_part_reads_with_the_new_columns_null(tmp_path):
    store = RunStore(str(tmp_path))
    old_segments_part(store, "00000", "old-g000")
    write_manifest(store, "segments", [{"segment_id": "new-g000", "video_id": "w", "state": "speaking",
                                        "sync_verdict": "uncertain"}], part="00001")
    table = read_manifest(store, "segments")
    assert table.schema == TABLES["segments"]
    rows = {r["segment_id"]: r for r in table.to_pylist()}
    assert rows["old-g000"]["sync_verdict"] is None and rows["old-g000"]["picture_twin_of"] is None
    assert rows["new-g000"]["sync_verdict"] == "uncertain"


def test_where_on_a_new_column_runs_over_an_older_run(tmp_path):
    store = RunStore(str(tmp_path))
    old_segments_part(store, "00000", "old-g000")
    with open_catalog(store) as con:
        predicate = check_where(con, "sync_verdict = 'uncertain'")
        assert con.execute(f"SELECT count(*) FROM segments WHERE {predicate}").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM segments WHERE sync_verdict IS NULL").fetchone()[0] == 1
