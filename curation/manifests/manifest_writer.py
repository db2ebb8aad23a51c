"""Manifest tables as Parquet datasets: ``OUT/manifest/<table>/part-*.parquet``, declared schemas.

Each table is written in parts by whoever holds its rows (a task per group of videos, a task per
run-scope stage, the driver for the videos table), so no process holds a whole table; readers
see the parts as one dataset. Part names are deterministic, so a rerun rewrites the same files.
"""

import dataclasses
import io
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from curation.store.run_store import RunStore
from schemas.tables import ROW_TYPES, TABLES

Row = TypeVar("Row")

MANIFEST_DIR = "manifest"


def table_from_rows(name: str, rows: list[Any]) -> pa.Table:
    """Rows (dicts, or the table's row dataclass from ``schemas.tables``) as a table of the declared
    schema: missing columns are null, extra keys an error."""
    schema = TABLES[name]
    rows = [dataclasses.asdict(row) if dataclasses.is_dataclass(row) else row for row in rows]
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


def part_path(name: str, part: str) -> str:
    return f"{MANIFEST_DIR}/{name}/part-{part}.parquet"


def write_manifest(store: RunStore, name: str, rows: list[Any], part: str = "00000") -> pa.Table:
    """Write one part of a table (empty parts too: they carry the schema for readers)."""
    table = table_from_rows(name, rows)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    store.write_bytes(part_path(name, part), buffer.getvalue())
    return table


def manifest_parts(store: RunStore, name: str) -> list[str]:
    return [f"{MANIFEST_DIR}/{name}/{part}" for part in store.list(f"{MANIFEST_DIR}/{name}", ".parquet")]


def has_manifest(store: RunStore, name: str) -> bool:
    return bool(manifest_parts(store, name))


def read_manifest(store: RunStore, name: str) -> pa.Table:
    """Every part of a table, in part order, as one table of its declared schema."""
    # single-threaded: manifests are read part by part, and a pyarrow thread pool alive at
    # interpreter exit (next to DuckDB's) could abort the process while it tears down
    parts = [pq.read_table(io.BytesIO(store.read_bytes(p)), use_threads=False) for p in manifest_parts(store, name)]
    if not parts:
        if name in TABLES and store.exists(MANIFEST_DIR):
            raise FileNotFoundError(f"{store.uri}: no manifest table {name!r}")
        raise FileNotFoundError(f"{store.uri}: no manifest table {name!r} (is this a run directory?)")
    if name not in TABLES:
        return pa.concat_tables(parts)
    return pa.concat_tables([with_declared_columns(part, TABLES[name]) for part in parts])


def read_rows(store: RunStore, row_type: type[Row]) -> list[Row]:
    """Every row of the table whose rows are ``row_type`` (``schemas.tables.ROW_TYPES``), as rows."""
    name = next(table for table, declared in ROW_TYPES.items() if declared is row_type)
    return [row_type(**row) for row in read_manifest(store, name).to_pylist()]


def rows_from_table(table: pa.Table, row_type: type[Row]) -> list[Row]:
    """A query's result as rows: the columns ``row_type`` declares (a column the query did not
    select is None); any other column (a window's rank, a joined value) is left to the caller."""
    names = [f.name for f in dataclasses.fields(row_type)]  # type: ignore[arg-type]
    columns = {name: table.column(name).to_pylist() if name in table.column_names else None for name in names}
    return [row_type(**{name: None if values is None else values[i] for name, values in columns.items()})
            for i in range(table.num_rows)]


def with_declared_columns(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``'s columns and types: a column that a later minor schema version
    added (``schemas/version.py``) and an older part lacks is read as nulls, so the manifests of
    earlier runs still read."""
    missing = [f for f in schema if f.name not in table.column_names]
    for field in missing:
        if not field.nullable:
            raise ValueError(f"manifest part lacks the required column {field.name!r}")
        table = table.append_column(field, pa.nulls(len(table), field.type))
    return table.select(schema.names).cast(schema)
