"""Check a user's ``--where`` before it is pasted into a query: one boolean filter on a table.

The catalog already runs with file and network access off, so a filter cannot read files; this
check makes a bad filter fail early with a message that says what is wrong, instead of a DuckDB
error from the middle of a sampling or export query. The filter is parsed inside
``SELECT * FROM <table> WHERE (<filter>)`` and the parse must still be exactly that statement:
no second statement, no closing parenthesis that turns it into a UNION, no ORDER/LIMIT, no CTE,
and no table function (``read_csv``, ``read_parquet``, ``glob`` ...) anywhere inside.
"""

import json
from collections.abc import Iterator
from typing import Any

import duckdb

# Scalar functions that reach outside the manifests (environment, settings, files).
_FORBIDDEN_FUNCTIONS = {"getenv", "current_setting", "read_text", "read_blob", "glob"}


class FilterError(ValueError):
    """The ``--where`` text is not one boolean filter over the table's columns."""


def check_where(con: duckdb.DuckDBPyConnection, where: str, table: str = "segments") -> str:
    """The filter, parenthesised, once it parses as one filter and runs on ``table``."""
    text = where.strip()
    if not text:
        raise FilterError("--where is empty; leave it out to select everything")
    parsed = json.loads(
        # fetchall, not fetchone: a result left unfinished blocks the connection's next relation
        con.execute("SELECT json_serialize_sql(?)", [f"SELECT * FROM {table} WHERE ({text})"]).fetchall()[0][0]
    )
    if parsed.get("error"):
        raise FilterError(f"--where {where!r} is not a valid SQL filter: {parsed.get('error_message')}")
    statements = parsed["statements"]
    node = statements[0]["node"] if len(statements) == 1 else {}
    from_table = node.get("from_table") or {}
    if (
        node.get("type") != "SELECT_NODE"
        or node.get("modifiers")
        or node.get("cte_map", {}).get("map")
        or node.get("group_expressions")
        or node.get("having")
        or from_table.get("type") != "BASE_TABLE"
        or from_table.get("table_name") != table
    ):
        raise FilterError(f"--where {where!r} must be one boolean condition on {table}, not a query of its own")
    for found in _nodes(node["where_clause"]):
        if found.get("type") == "TABLE_FUNCTION":
            raise FilterError(f"--where {where!r} may not call table functions (it reads manifests only)")
        if found.get("class") == "FUNCTION" and str(found.get("function_name", "")).lower() in _FORBIDDEN_FUNCTIONS:
            raise FilterError(f"--where {where!r} may not call {found['function_name']}()")
    predicate = f"({text})"
    try:
        con.execute(f"SELECT count(*) FROM {table} WHERE {predicate}").fetchall()
    except duckdb.Error as err:
        raise FilterError(f"--where {where!r} does not run on {table}: {err}") from None
    return predicate


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)
