"""The query's table: rich cells that are text on a terminal, whole TSV lines through a pipe."""

import io

from rich.console import Console

from apps.cli.query_output import print_rows, print_table, write_tsv


def test_table_cells_are_text_on_an_80_column_console() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    print_table(["said", "[i]x"], [("speaker [laughs]", "[/x]"), (None, 3)], console)
    drawn = console.file.getvalue()
    assert "speaker [laughs]" in drawn and "[/x]" in drawn and "[i]x" in drawn
    assert max(len(line) for line in drawn.splitlines()) <= 80


def test_tsv_keeps_each_row_on_one_line_and_each_value_whole() -> None:
    stream = io.StringIO()
    write_tsv(["a", "b"], [("x\ty", "line\nbreak\\"), (None, "w" * 500)], stream)
    assert stream.getvalue().splitlines() == ["a\tb", "x\\ty\tline\\nbreak\\\\", "\t" + "w" * 500]


def test_a_pipe_gets_tsv() -> None:
    stream = io.StringIO()  # not a terminal
    print_rows(["said"], [("[b]x[/b]",)], stream)
    assert stream.getvalue() == "said\n[b]x[/b]\n"
