"""How ``lpm-curate query`` prints its rows in the default ``table`` format.

On a terminal: a rich table whose cells are ``Text``, so data is never parsed as markup (a
transcript ``speaker [laughs]`` printed as ``speaker ``, and ``[/x]`` crashed). Piped or
redirected: tab-separated lines, one row a line, nothing cut at 80 columns and no markup; a tab,
newline, carriage return or backslash inside a value is written as ``\\t``, ``\\n``, ``\\r`` or
``\\\\`` (PostgreSQL's text format), so every row stays one line and ``cut -f`` works.
"""

from collections.abc import Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def cell_text(value: Any) -> str:
    return "" if value is None else str(value)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], console: Console) -> None:
    """Rows as a rich table on a terminal, every header and cell taken literally."""
    table = Table(*(Column(Text(name)) for name in columns))
    for row in rows:
        table.add_row(*(Text(cell_text(value)) for value in row))
    console.print(table)


def write_tsv(columns: Sequence[str], rows: Sequence[Sequence[Any]], stream: TextIO) -> None:
    """Rows as tab-separated lines with a header line, each value whole."""
    for values in (columns, *rows):
        stream.write("\t".join(cell_text(value).translate(_TSV_ESCAPES) for value in values) + "\n")


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], stream: TextIO) -> None:
    """A table for a person at a terminal, TSV for a pipe or a file."""
    if stream.isatty():
        print_table(columns, rows, Console(file=stream))
    else:
        write_tsv(columns, rows, stream)
