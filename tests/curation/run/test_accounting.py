"""inputs = kept + rejected + failed, or the run fails loudly."""

import pytest

from curation.run.accounting import AccountingError, check_accounting
from schemas.tables import VideoRow

URIS = ["/in/a.mp4", "/in/b.mp4", "/in/c.mp4"]


def _row(uri: str, state: str = "kept", stage: str | None = None, reason: str | None = None) -> VideoRow:
    return VideoRow(uri=uri, state=state, stage=stage, reason=reason)


def test_balanced_rows_are_counted_by_state_and_reason() -> None:
    rows = [_row(URIS[0]), _row(URIS[1], "rejected", "probe", "too_short"), _row(URIS[2], "failed", "probe", "timeout")]
    accounting = check_accounting(URIS, rows)
    assert (accounting.inputs, accounting.kept, accounting.rejected, accounting.failed) == (3, 1, 1, 1)
    assert accounting.rejected_by_reason == {"too_short": 1}
    assert accounting.failed_by_reason == {"timeout": 1}


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([_row(URIS[0]), _row(URIS[1])], "inputs without a row: 1 (e.g. '/in/c.mp4')"),
        ([_row(u) for u in URIS] + [_row(URIS[0])], "inputs with several rows: 1"),
        ([_row(u) for u in URIS] + [_row("/elsewhere.mp4")], "rows for URIs that were not inputs: 1"),
        ([_row(URIS[0]), _row(URIS[1]), _row(URIS[2], "pending")], "rows not in a final state: 1"),
        ([_row(URIS[0]), _row(URIS[1]), _row(URIS[2], "rejected")], "rejected/failed rows without stage and reason: 1"),
    ],
)
def test_imbalance_raises_and_says_what_is_wrong(rows: list[VideoRow], problem: str) -> None:
    with pytest.raises(AccountingError, match="accounting failed: 3 inputs") as caught:
        check_accounting(URIS, rows)
    assert problem in str(caught.value)
