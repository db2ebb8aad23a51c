"""The source run's manifests cut down to an export's selection of segments.

Each table keeps the rows the selected segments lead to: their videos, shots, tracks, identities
and references, the pairs whose two ends are both selected, and none of the rejections (they
describe what the source run dropped, not this dataset). ``segments.shard`` is rewritten to the
export's own shard, and ``shards`` lists the export's shards. Rows are ordered by their id, so the
Parquet bytes are the same on every export of the same selection.
"""


from dataclasses import replace

from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.manifest_writer import rows_from_table, write_manifest
from curation.store.run_store import RunStore
from schemas.tables import SegmentRow, ShardRow

# table -> (id column, SQL of the ids to keep given a ``sel`` view of the selected segment rows)
_RESTRICTIONS = {
    "videos": ("uri", "SELECT uri FROM videos WHERE video_id IN (SELECT video_id FROM sel)"),
    "shots": ("shot_id", "SELECT shot_id FROM sel"),
    "tracks": ("track_id", "SELECT track_id FROM sel"),
    "identities": ("identity_id", "SELECT identity_id FROM sel"),
    "references": ("reference_id", "SELECT unnest(reference_ids) FROM sel"),
    "pairs": ("pair_id", "SELECT pair_id FROM pairs WHERE speaking_segment_id IN (SELECT segment_id FROM sel) "
              "AND listening_segment_id IN (SELECT segment_id FROM sel)"),
}


def write_selected_manifests(source: RunStore, dest: RunStore, segment_ids: list[str],
                             shard_rows: list[ShardRow], locations: dict[str, str]) -> None:
    tables = manifest_names(source)
    with open_catalog(source) as con:
        con.execute("CREATE TEMP TABLE chosen (segment_id VARCHAR)")
        con.executemany("INSERT INTO chosen VALUES (?)", [(s,) for s in segment_ids])
        con.execute("CREATE TEMP VIEW sel AS SELECT * FROM segments WHERE segment_id IN (FROM chosen)")
        selected = rows_from_table(con.sql("SELECT * FROM sel ORDER BY segment_id").to_arrow_table(), SegmentRow)
        write_manifest(dest, "segments", [replace(row, shard=locations[row.key or ""]) for row in selected])
        for table, (column, ids) in _RESTRICTIONS.items():
            if table not in tables:
                continue
            rows = con.sql(
                f'SELECT * FROM "{table}" WHERE {column} IN ({ids}) ORDER BY {column}'
            ).to_arrow_table().to_pylist()
            write_manifest(dest, table, rows)
    if "rejections" in tables:
        write_manifest(dest, "rejections", [])
    write_manifest(dest, "shards", shard_rows)
