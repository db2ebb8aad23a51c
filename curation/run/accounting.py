"""The end-of-run check that every input is accounted for exactly once."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schemas.tables import VideoRow

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


def check_accounting(input_uris: Sequence[str], video_rows: Iterable[VideoRow]) -> Accounting:
    """``video_rows`` are read once, as they come (the pipeline streams them from its index, the
    whole videos table never in memory): what is kept is counts, the problems found, and which
    inputs had a row (the caller's own strings, not copies)."""
    inputs = {uri: uri for uri in input_uris}  # once: built inside the loop it made this O(N^2)
    seen: set[str] = set()
    unknown: dict[str, None] = {}  # dicts: the problems in the order met, each once
    doubled: dict[str, None] = {}
    bad_state: list[str] = []
    unexplained: list[str] = []
    states: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {"rejected": Counter(), "failed": Counter()}
    for row in video_rows:
        uri, state = row.uri, row.state
        known = inputs.get(uri)
        if known is None:
            if uri in unknown:
                doubled[uri] = None
            unknown[uri] = None
        elif known in seen:
            doubled[known] = None
        else:
            seen.add(known)
        if state not in FINAL_STATES:
            bad_state.append(uri)
        if state != "kept" and not (row.stage and row.reason):
            unexplained.append(uri)
        states[state] += 1
        if state in reasons:
            reasons[state][row.reason] += 1
    problems = {
        "inputs without a row": [u for u in input_uris if u not in seen],
        "inputs with several rows": list(doubled),
        "rows for URIs that were not inputs": list(unknown),
        "rows not in a final state": bad_state,
        "rejected/failed rows without stage and reason": unexplained,
    }
    found = {k: v for k, v in problems.items() if v}
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
        rejected_by_reason=dict(reasons["rejected"]),
        failed_by_reason=dict(reasons["failed"]),
    )
