"""The row look-up count finds string-key reads of row fields, by receiver, and nothing else."""

from pathlib import Path

from benchmarks.row_lookups import count, main


def test_string_key_reads_of_row_fields_are_counted_and_other_keys_and_tests_are_not(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "from typing import Any\n"
        "def f(row: dict[str, Any], other: dict[str, Any]) -> None:\n"
        "    row['segment_id'], row.get('t_start'), other['not_a_row_field'], row.segment_id\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("row = {}\nrow['segment_id']\n")
    report = count(tmp_path)
    assert report["row_lookups"] == 2 and report["dict_str_any_lines"] == 1
    assert report["by_receiver"] == [{"file": "pkg/a.py", "receiver": "row", "lookups": 2}]


def test_the_command_prints_the_counts(tmp_path: Path, capsys) -> None:
    (tmp_path / "b.py").write_text("x = {}\nx['track_id']\n")
    assert main([str(tmp_path), "--by-receiver"]) == 0
    assert "row-field look-ups by string key: 1" in capsys.readouterr().out
