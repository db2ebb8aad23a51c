"""Write one manifest table as Parquet under ``OUT/manifest/`` with its declared Arrow schema."""

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.run.run_store import RunStore
from schemas.tables import TABLES

MANIFEST_DIR = "manifest"


def table_from_rows(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as a table of the declared schema: missing columns are null, extra keys an error."""
    schema = TABLES[name]
    extra = {k for row in rows for k in row} - set(schema.names)
    if extra:
        raise KeyError(f"table {name!r} has no column(s) {sorted(extra)}; declare them in schemas/tables.py")
    columns = {
        field.name: [_utf8_safe(row.get(field.name)) for row in rows] if pa.types.is_string(field.type)
        else [row.get(field.name) for row in rows]
        for field in schema
    }
    return pa.Table.from_pydict(columns, schema=schema)


def _utf8_safe(value: Any) -> Any:
    """Text Parquet can store: a file name that is not UTF-8 keeps its odd bytes as ``\\xff``.

    Python holds such names with surrogate escapes, which Arrow refuses; without this, one badly
    named input would stop the whole run at the very end.
    """
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return value


def write_manifest(store: RunStore, name: str, rows: list[dict[str, Any]]) -> pa.Table:
    table = table_from_rows(name, rows)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    store.write_bytes(f"{MANIFEST_DIR}/{name}.parquet", buffer.getvalue())
    return table


def read_manifest(store: RunStore, name: str) -> pa.Table:
    # single-threaded: manifests are small, and a pyarrow thread pool alive at interpreter exit
    # (next to DuckDB's) could abort the process while it tears down
    return pq.read_table(io.BytesIO(store.read_bytes(f"{MANIFEST_DIR}/{name}.parquet")), use_threads=False)
