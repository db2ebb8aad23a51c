"""The end-of-run check that every input is accounted for exactly once."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

FINAL_STATES = ("kept", "rejected", "failed")


class AccountingError(RuntimeError):
    """Inputs went missing or were counted twice: the run's manifests cannot be trusted."""


@dataclass(frozen=True)
class Accounting:
    inputs: int
    kept: int
    rejected: int
    failed: int
    rejected_by_reason: dict[str, int]
    failed_by_reason: dict[str, int]


def check_accounting(input_uris: list[str], video_rows: list[dict[str, Any]]) -> Accounting:
    seen = Counter(row["uri"] for row in video_rows)
    missing = [u for u in input_uris if u not in seen]
    doubled = [u for u, n in seen.items() if n > 1]
    inputs = set(input_uris)  # once: built inside the test below it made this O(N^2)
    unknown = [u for u in seen if u not in inputs]
    bad_state = [row["uri"] for row in video_rows if row["state"] not in FINAL_STATES]
    unexplained = [
        row["uri"] for row in video_rows if row["state"] != "kept" and not (row.get("stage") and row.get("reason"))
    ]
    problems = {
        "inputs without a row": missing,
        "inputs with several rows": doubled,
        "rows for URIs that were not inputs": unknown,
        "rows not in a final state": bad_state,
        "rejected/failed rows without stage and reason": unexplained,
    }
    found = {k: v for k, v in problems.items() if v}
    states = Counter(row["state"] for row in video_rows)
    if found or sum(states[s] for s in FINAL_STATES) != len(input_uris):
        lines = [f"{k}: {len(v)} (e.g. {v[0]!r})" for k, v in found.items()]
        raise AccountingError(
            f"accounting failed: {len(input_uris)} inputs != kept {states['kept']} + rejected "
            f"{states['rejected']} + failed {states['failed']}; " + "; ".join(lines)
        )
    return Accounting(
        inputs=len(input_uris),
        kept=states["kept"],
        rejected=states["rejected"],
        failed=states["failed"],
        rejected_by_reason=dict(Counter(r["reason"] for r in video_rows if r["state"] == "rejected")),
        failed_by_reason=dict(Counter(r["reason"] for r in video_rows if r["state"] == "failed")),
    )
