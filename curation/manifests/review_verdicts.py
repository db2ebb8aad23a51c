"""Review verdicts under ``OUT/reviews/``: one small JSON file per verdict, never rewritten.

Why one file per verdict: several reviewers (or several review servers on the same run) can
record at once without a lock, and a crash loses at most the verdict being written. Each file is
written to a temporary name, fsynced, then linked to ``reviews/<reviewer>/<verdict_id>.json``;
the link fails when that name exists, so a retried POST (same ``verdict_id``) is stored once and
never overwrites an earlier verdict. Changing one's mind is a new verdict; readers take each
reviewer's latest verdict per item. An ``undo`` verdict withdraws the reviewer's standing verdict
on that item (the one before it stands again, or none): undo is recorded, never a deletion.

Every field is checked for type and format on the way in (``Verdict.from_dict``) and again on the
way out: a file under ``reviews/`` someone wrote by hand, or broke, is skipped and reported
(``read_verdict_files``), never allowed to stop ``query``, ``export``, ``status`` or ``report``.
Nothing under ``reviews/`` is read or written through a symbolic link (``verdict_files``).
"""

import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from curation.manifests.verdict_files import verdict_files, write_once
from curation.store.run_store import RunStore
from schemas.review_verdict import ITEM_KINDS, REVIEWS, VERDICTS, ReviewReason

REVIEWER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
VERDICT_ID_RE = re.compile(r"[0-9a-f]{32}")
ITEM_RE = re.compile(r"[A-Za-z0-9_:.-]{1,200}")
MAX_NOTE_CHARS = 2000
MAX_STRATUM_CHARS = 200


class VerdictError(ValueError):
    """A verdict that does not fit the closed lists, the field types or the field formats."""


@dataclass(frozen=True)
class Verdict:
    verdict_id: str
    reviewer: str
    time: str  # ISO 8601 UTC, set by whoever records it
    item: str
    item_kind: str
    stratum: str
    verdict: str  # accept | reject | undo
    reason: str | None = None
    note: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> "Verdict":
        """A stored verdict: exactly the fields of a verdict, each of its type and format."""
        if not isinstance(data, dict):
            raise VerdictError(f"a verdict is a JSON object, not {type(data).__name__}")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        missing = [n for n in names if n not in data]
        if unknown or missing:
            problems = [f"unknown field(s) {unknown}"] if unknown else []
            problems += [f"missing field(s) {missing}"] if missing else []
            raise VerdictError("; ".join(problems))
        verdict = cls(**data)
        verdict.check()
        return verdict

    def check(self) -> None:
        problems = _type_problems(self)
        if problems:  # formats are only meaningful on values of the right type
            raise VerdictError("; ".join(problems))
        if not VERDICT_ID_RE.fullmatch(self.verdict_id):
            problems.append("verdict_id must be 32 lowercase hex digits")
        if not REVIEWER_RE.fullmatch(self.reviewer):
            problems.append("reviewer must be 1-64 characters of [A-Za-z0-9_-]")
        if not _is_utc_time(self.time):
            problems.append("time must be an ISO 8601 time with its zone")
        if not ITEM_RE.fullmatch(self.item):
            problems.append("item is not an item id")
        if self.item_kind not in ITEM_KINDS:
            problems.append(f"item_kind must be one of {ITEM_KINDS}")
        if not 0 < len(self.stratum) <= MAX_STRATUM_CHARS:
            problems.append(f"stratum must be 1-{MAX_STRATUM_CHARS} characters")
        if self.verdict not in VERDICTS:
            problems.append(f"verdict must be one of {VERDICTS}")
        if self.verdict == "reject" and self.reason not in set(ReviewReason):
            problems.append(f"a reject needs a reason from {[r.value for r in ReviewReason]}")
        if self.verdict in ("accept", "undo") and self.reason is not None:
            problems.append(f"an {self.verdict} takes no reason")
        if self.note is not None and len(self.note) > MAX_NOTE_CHARS:
            problems.append(f"note longer than {MAX_NOTE_CHARS} characters")
        if problems:
            raise VerdictError("; ".join(problems))


def _type_problems(verdict: Verdict) -> list[str]:
    problems = []
    for f in fields(verdict):
        value = getattr(verdict, f.name)
        optional = f.name in ("reason", "note")
        if not (isinstance(value, str) or (optional and value is None)):
            kind = "a string or null" if optional else "a string"
            problems.append(f"{f.name} must be {kind}, not {_json_type(value)}")
    return problems


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", bool: "a boolean", int: "a number", float: "a number",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _is_utc_time(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def record_verdict(store: RunStore, verdict: Verdict) -> bool:
    """Store a verdict once; ``False`` when a verdict with that id was already stored.

    Raises ``UnsafeReviewsPathError`` when the reviewer's folder is a symbolic link."""
    verdict.check()
    data = json.dumps(asdict(verdict), sort_keys=True).encode()
    return write_once(store, verdict.reviewer, f"{verdict.verdict_id}.json", data)


@dataclass(frozen=True)
class VerdictFiles:
    verdicts: list[Verdict]  # the good ones, ordered by time then id
    bad: list[str]  # "reviews/<reviewer>/<name>: why it was skipped", one per file not used


def read_verdict_files(store: RunStore) -> VerdictFiles:
    """Every good verdict, and every file under ``reviews/`` skipped with the reason why.

    A verdict file must be ``reviews/<reviewer>/<verdict_id>.json`` holding a verdict of that
    reviewer and that id; anything else (a file written by hand, a broken one, a link) is skipped
    so that one bad file never stops the readers of all the others."""
    verdicts, bad = [], []
    for entry in verdict_files(store):
        problem = entry.problem
        if problem is None:
            try:
                verdict = Verdict.from_dict(json.loads(entry.data or b""))
            except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                problem = f"not a verdict: {str(err)[:200]}"
            else:
                if (entry.reviewer, entry.name) != (verdict.reviewer, f"{verdict.verdict_id}.json"):
                    problem = "file name does not match the verdict's reviewer and id"
                else:
                    verdicts.append(verdict)
        if problem is not None:
            bad.append(f"{entry.relative}: {problem}")
    return VerdictFiles(sorted(verdicts, key=lambda v: (v.time, v.verdict_id)), bad)


def read_verdicts(store: RunStore) -> list[Verdict]:
    """Every good verdict, ordered by time then id; bad files are skipped (``read_verdict_files``)."""
    return read_verdict_files(store).verdicts


def reviews_table(store: RunStore) -> pa.Table:
    """The ``reviews`` view's table: one row per verdict, its columns the fields of ``Verdict``."""
    verdicts = read_verdicts(store)
    columns: dict[str, list[Any]] = {name: [getattr(v, name) for v in verdicts] for name in REVIEWS.names}
    columns["time"] = [datetime.fromisoformat(t).astimezone(UTC).replace(tzinfo=None) for t in columns["time"]]
    return pa.Table.from_pydict(columns, schema=REVIEWS)


def latest_verdicts(verdicts: list[Verdict]) -> list[Verdict]:
    """Each reviewer's standing verdict on each item (a reviewer may change their mind or undo).

    An ``undo`` withdraws the reviewer's standing verdict on the item, so the one before it
    stands again (or none, and the item is unreviewed by them)."""
    history: dict[tuple[str, str], list[Verdict]] = {}
    for verdict in sorted(verdicts, key=lambda v: (v.time, v.verdict_id)):
        stack = history.setdefault((verdict.reviewer, verdict.item), [])
        if verdict.verdict == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(verdict)
    return [stack[-1] for stack in history.values() if stack]


def item_decisions(verdicts: list[Verdict]) -> dict[str, str]:
    """One verdict per item from its reviewers' latest verdicts: the majority, a tie counts as reject.

    A tie is read as reject because a sample one of two reviewers doubts is not one to count as
    correct (for precision) or to train on (for ``export --exclude-rejected-by-review``).
    """
    votes: dict[str, list[int]] = {}
    for verdict in latest_verdicts(verdicts):
        tally = votes.setdefault(verdict.item, [0, 0])
        tally[0 if verdict.verdict == "accept" else 1] += 1
    return {item: "accept" if accepts > rejects else "reject" for item, (accepts, rejects) in votes.items()}
