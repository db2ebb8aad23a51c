"""Review verdicts under ``OUT/reviews/``: one small JSON file per verdict, never rewritten.

Why one file per verdict: several reviewers (or several review servers on the same run) can
record at once without a lock, and a crash loses at most the verdict being written. Each file is
written to a temporary name, fsynced, then linked to ``reviews/<reviewer>/<verdict_id>.json``;
the link fails when that name exists, so a retried POST (same ``verdict_id``) is stored once and
never overwrites an earlier verdict. Changing one's mind is a new verdict; readers take each
reviewer's latest verdict per item.
"""

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from curation.run.run_store import TEMP_PREFIX, RunStore
from schemas.review_verdict import ITEM_KINDS, REVIEWS, VERDICTS, ReviewReason

REVIEWS_DIR = "reviews"
REVIEWER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
VERDICT_ID_RE = re.compile(r"[0-9a-f]{32}")
ITEM_RE = re.compile(r"[A-Za-z0-9_:.-]{1,200}")
MAX_NOTE_CHARS = 2000


class VerdictError(ValueError):
    """A verdict that does not fit the closed lists or the field formats."""


@dataclass(frozen=True)
class Verdict:
    verdict_id: str
    reviewer: str
    time: str  # ISO 8601 UTC, set by whoever records it
    item: str
    item_kind: str
    stratum: str
    verdict: str
    reason: str | None = None
    note: str | None = None

    def check(self) -> None:
        problems = []
        if not VERDICT_ID_RE.fullmatch(self.verdict_id):
            problems.append("verdict_id must be 32 lowercase hex digits")
        if not REVIEWER_RE.fullmatch(self.reviewer):
            problems.append("reviewer must be 1-64 characters of [A-Za-z0-9_-]")
        if not ITEM_RE.fullmatch(self.item):
            problems.append("item is not an item id")
        if self.item_kind not in ITEM_KINDS:
            problems.append(f"item_kind must be one of {ITEM_KINDS}")
        if self.verdict not in VERDICTS:
            problems.append(f"verdict must be one of {VERDICTS}")
        if self.verdict == "reject" and self.reason not in set(ReviewReason):
            problems.append(f"a reject needs a reason from {[r.value for r in ReviewReason]}")
        if self.verdict == "accept" and self.reason is not None:
            problems.append("an accept takes no reason")
        if self.note is not None and len(self.note) > MAX_NOTE_CHARS:
            problems.append(f"note longer than {MAX_NOTE_CHARS} characters")
        if problems:
            raise VerdictError("; ".join(problems))


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def record_verdict(store: RunStore, verdict: Verdict) -> bool:
    """Store a verdict once; ``False`` when a verdict with that id was already stored."""
    verdict.check()
    relative = f"{REVIEWS_DIR}/{verdict.reviewer}/{verdict.verdict_id}.json"
    data = json.dumps(asdict(verdict), sort_keys=True).encode()
    if store.remote:
        # An object store has no link; a PUT is atomic, and the id check keeps a retry from rewriting.
        if store.exists(relative):
            return False
        store.write_bytes(relative, data)
        return True
    target = store.local_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, target)  # atomic create-if-absent: never replaces a stored verdict
        except FileExistsError:
            return False
        _fsync_dir(target.parent)
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_verdicts(store: RunStore) -> list[dict[str, Any]]:
    """Every stored verdict, ordered by time then id (each reviewer's folder read whole)."""
    rows = []
    for reviewer in store.list(REVIEWS_DIR):
        if not REVIEWER_RE.fullmatch(reviewer):
            continue
        for name in store.list(f"{REVIEWS_DIR}/{reviewer}", ".json"):
            rows.append(json.loads(store.read_bytes(f"{REVIEWS_DIR}/{reviewer}/{name}")))
    return sorted(rows, key=lambda r: (r["time"], r["verdict_id"]))


def reviews_table(store: RunStore) -> pa.Table:
    rows = read_verdicts(store)
    columns: dict[str, list[Any]] = {name: [r.get(name) for r in rows] for name in REVIEWS.names}
    columns["time"] = [datetime.fromisoformat(t).astimezone(UTC).replace(tzinfo=None) for t in columns["time"]]
    return pa.Table.from_pydict(columns, schema=REVIEWS)


def latest_verdicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each reviewer's last verdict on each item (a reviewer may change their mind)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["time"], r["verdict_id"])):
        latest[(row["reviewer"], row["item"])] = row
    return list(latest.values())


def item_decisions(rows: list[dict[str, Any]]) -> dict[str, str]:
    """One verdict per item from its reviewers' latest verdicts: the majority, a tie counts as reject.

    A tie is read as reject because a sample one of two reviewers doubts is not one to count as
    correct (for precision) or to train on (for ``export --exclude-rejected-by-review``).
    """
    votes: dict[str, list[int]] = {}
    for row in latest_verdicts(rows):
        tally = votes.setdefault(row["item"], [0, 0])
        tally[0 if row["verdict"] == "accept" else 1] += 1
    return {item: "accept" if accepts > rejects else "reject" for item, (accepts, rejects) in votes.items()}
