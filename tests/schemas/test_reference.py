"""The committed schema reference page equals the one generated from ``schemas/`` now."""

from pathlib import Path

import pytest

from schemas.reasons import Reason
from schemas.reference import schema_reference
from schemas.tables import ROW_TYPES

PAGE = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_committed_page_is_the_generated_one():
    assert PAGE.read_text(encoding="utf-8") == schema_reference(), (
        "docs/schema.md is out of date: run `python -m schemas.reference > docs/schema.md`"
    )


@pytest.mark.parametrize("table", sorted(ROW_TYPES))
def test_every_column_of_every_table_is_listed_with_its_comment(table):
    page = schema_reference()
    section = page.split(f"### `{table}` ")[1].split("\n### ")[0]
    for field in ROW_TYPES[table].__dataclass_fields__:
        assert f"| `{field}` |" in section
    # a comment written beside a field in tables.py reaches the page
    if table == "segments":
        assert "| `sync_offset_frames` | float | audio-visual offset (positive: audio lags video) |" in section


def test_every_reason_code_is_listed_with_its_group_and_description():
    page = schema_reference()
    for reason in Reason:
        assert f"| `{reason.value}` |" in page
    assert "| `empty_file` | ingest / probe (entity: video) | the file has zero bytes |" in page
