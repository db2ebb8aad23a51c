"""What a run has finished, kept in the run directory so a killed run resumes where it stopped.

Everything here is versioned plain data (JSON, and ``.npz`` for arrays), written by the worker
that made it, never pickled objects:

``work/ingest/<key>.json``: one input URI's identity (content id, size, or why unreadable).
``work/block<k>/<video_id>.json|.npz``: one video's record after the k-th block of per-video
stages (blocks are separated by run-scope stages; the last block's records are the final ones).
``work/block<k>/<video_id>.summary.json|.npz``: its summary for the run-scope stage after block k.
``work/block<k>/summaries/<part>.json|.npz``: many videos' summaries in one part, what the decide
task reads (``summary_parts``; the per-video copy is read only for a video no part holds once).
``work/block<k>/<video_id>.outcome.json``: its compact outcome, written last: its presence means
the video finished the block. The driver reads outcomes only, never records.
``work/decisions/<stage>.json|.npz``: a run-scope stage's decision, read by every worker.
Each file is written atomically; a run whose ledger has another format is refused, not misread.
"""

import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterable
from typing import Any, Optional

from curation.ingest.content_id import InputIdentity
from curation.runtime.video_outcome import VideoOutcome
from curation.runtime.video_work import VideoWork
from curation.store.concurrent_reads import read_concurrently, store_readers
from curation.store.plain_codec import decode, from_bytes, names_arrays, to_bytes
from curation.store.run_store import RunStore
from curation.store.summary_parts import PARTS_DIR, new_part_name

LEDGER_FORMAT = 2  # 1: pickled VideoWork objects (refused)
INGEST_DIR = "work/ingest"
VIDEOS_DIR = "work/block0"  # the first block: what `status` counts as analysed
DECISIONS_DIR = "work/decisions"
OUTCOME_SUFFIX = ".outcome.json"
PLAN_SUFFIX = ".plan.json"  # beside a decision: its plan, and whether it is stored in parts


class LedgerFormatError(RuntimeError):
    """The run directory was written by a version of the toolkit whose ledger this one cannot read."""


def block_dir(block: int) -> str:
    return f"work/block{block}"


def uri_key(uri: str) -> str:
    return hashlib.sha1(uri.encode("utf-8", "surrogateescape")).hexdigest()[:20]


class Ledger:
    def __init__(self, store: RunStore) -> None:
        self.store = store

    def check_format(self) -> None:
        """Refuse a run directory whose ledger holds pickles (format 1) instead of misreading it."""
        if any(True for _ in self.store.list(VIDEOS_DIR, ".pkl")):
            raise LedgerFormatError(
                f"{self.store.uri} was written by an older lpm-curation (pickled ledger, format 1); this version "
                f"reads format {LEDGER_FORMAT}. Run into a new --out directory, or delete {self.store.uri}/work "
                "to redo the analysis there."
            )

    def identity(self, uri: str) -> InputIdentity | None:
        try:
            return InputIdentity.from_json(self.store.read_bytes(f"{INGEST_DIR}/{uri_key(uri)}.json"))
        except FileNotFoundError:
            return None

    def identities(self, uris: Iterable[str]) -> dict[str, InputIdentity | None]:
        """Many inputs' identities (None: not identified yet), read concurrently."""
        return read_concurrently(self.identity, uris, store_readers(self.store.remote))

    def save_identity(self, identity: InputIdentity) -> None:
        self.store.write_bytes(f"{INGEST_DIR}/{uri_key(identity.uri)}.json", identity.to_json())

    # per-video records and outcomes, written by the worker that ran the block

    def record(self, video_id: str, block: int) -> VideoWork | None:
        return self._load(f"{block_dir(block)}/{video_id}", VideoWork, f"the record of video {video_id}")

    def save_record(self, work: VideoWork, block: int) -> None:
        assert work.video_id is not None
        self._save(f"{block_dir(block)}/{work.video_id}", work)

    @staticmethod
    def encoded_record(work: VideoWork) -> tuple[bytes, bytes | None]:
        """(JSON, npz or None): a record as ``save_encoded_record`` stores it. A bench that plants
        10^5 copies of a few videos encodes each once and edits the ids in the bytes."""
        return to_bytes(work, LEDGER_FORMAT)

    def save_encoded_record(self, video_id: str, block: int, text: bytes, npz: bytes | None) -> None:
        self._save_encoded(f"{block_dir(block)}/{video_id}", text, npz)

    def record_field(self, video_id: str, block: int, name: str, hint: Any) -> Any:
        """One array-free field of a record (rows, sample lists), read from its JSON alone."""
        fields = self.record_fields(video_id, block, {name: hint})
        return None if fields is None else fields[name]

    def record_fields(self, video_id: str, block: int, hints: dict[str, Any]) -> dict[str, Any] | None:
        """Several array-free fields of a record, from one read of its JSON (None: no record)."""
        try:
            envelope = json.loads(self.store.read_bytes(f"{block_dir(block)}/{video_id}.json"))
        except FileNotFoundError:
            return None
        if envelope.get("format") != LEDGER_FORMAT:
            raise LedgerFormatError(f"the record of video {video_id} is in format {envelope.get('format')!r}")
        return {name: decode(envelope["data"].get(name), {}, hint) for name, hint in hints.items()}

    def records_fields(
        self, video_ids: Iterable[str], block: int, hints: dict[str, Any]
    ) -> dict[str, dict[str, Any] | None]:
        """``record_fields`` of many videos, read concurrently (the shard plan and the manifest
        parts read one record per video: in series, 10^5 round trips of ~20 ms)."""
        return read_concurrently(
            lambda v: self.record_fields(v, block, hints), video_ids, store_readers(self.store.remote)
        )

    def outcome(self, video_id: str, block: int) -> VideoOutcome | None:
        # One request: read, and a missing object is the answer (an exists() first doubles the
        # round trips, which is what a barrier over 10^5 videos waits for).
        try:
            return VideoOutcome.from_json(self.store.read_bytes(f"{block_dir(block)}/{video_id}{OUTCOME_SUFFIX}"))
        except FileNotFoundError:
            return None

    def outcomes(
        self, video_ids: Iterable[str], block: int, for_driver: bool = False
    ) -> dict[str, VideoOutcome | None]:
        """Many videos' outcomes, read concurrently; ``for_driver``: each in the form the driver
        keeps (``kept_by_driver``) as soon as it is read, so the whole block's telemetry is never
        held at once (half the driver's peak at a resume of 10^5 videos)."""

        def read(video_id: str) -> VideoOutcome | None:
            outcome = self.outcome(video_id, block)
            return outcome.kept_by_driver() if outcome is not None and for_driver else outcome

        return read_concurrently(read, video_ids, store_readers(self.store.remote))

    def save_outcome(self, outcome: VideoOutcome, block: int) -> None:
        self.store.write_bytes(f"{block_dir(block)}/{outcome.video_id}{OUTCOME_SUFFIX}", outcome.to_json())

    def finished_video_ids(self, block: int = 0) -> set[str]:
        return {name.removesuffix(OUTCOME_SUFFIX) for name in self.store.list(block_dir(block), OUTCOME_SUFFIX)}

    # run-scope stages: per-video summaries in, one decision out

    # ``hint``: the type a summary or decision decodes to (``RunScopeStage.summary_hint`` and
    # ``decision_hint``); ``Any`` reads plain data.

    def summary(self, video_id: str, block: int, hint: Any = Any) -> Any:
        return self._load(f"{block_dir(block)}/{video_id}.summary", hint, f"the summary of video {video_id}")

    def summaries(self, video_ids: Iterable[str], block: int, failed: Iterable[str] = (),
                  hint: Any = Any) -> dict[str, Any]:
        """Many videos' summaries (None: none stored): the block's parts, read concurrently, then
        per video those that no part holds, or more than one, or whose video failed
        (``summary_parts``: there the per-video copy is the latest attempt's)."""
        wanted = list(video_ids)
        readers = store_readers(self.store.remote)
        folder = f"{block_dir(block)}/{PARTS_DIR}"
        names = [name.removesuffix(".json") for name in self.store.list(folder, ".json")]
        part_hint = _summary_part(hint)
        parts = read_concurrently(lambda name: self._load(f"{folder}/{name}", part_hint, f"summary part {name}"),
                                  names, readers)
        found: dict[str, Any] = {}
        twice: set[str] = set()
        for part in parts.values():
            for video_id, summary in (part.videos if part is not None else {}).items():
                if video_id in found:
                    twice.add(video_id)
                found[video_id] = summary
        del parts
        again = twice | set(failed)
        direct = [v for v in wanted if v not in found or v in again]
        found.update(read_concurrently(lambda v: self.summary(v, block, hint), direct, readers))
        return {video_id: found.get(video_id) for video_id in wanted}

    def save_summary_part(self, block: int, summaries: dict[str, Any]) -> str:
        """Store many videos' summaries as one part of the block; returns its name."""
        name = new_part_name()
        self._save(f"{block_dir(block)}/{PARTS_DIR}/{name}", {"videos": summaries})
        return name

    def save_summary(self, video_id: str, block: int, summary: Any) -> None:
        self._save(f"{block_dir(block)}/{video_id}.summary", summary)

    def decision(self, stage: str, hint: Any = Any) -> tuple[str, Any] | None:
        """(the plan it was decided for, the decision) or None."""
        stored = self._load(f"{DECISIONS_DIR}/{stage}", _stored_decision(hint), f"the decision of {stage}")
        return None if stored is None else (stored.plan, stored.decision)

    def save_decision(self, stage: str, plan: str, decision: Any, parts: bool | None = False) -> None:
        """Store a decision, then a small note of its plan (and whether it was also stored cut by
        video), which an actor reads instead of the whole decision to learn what to load
        (``parts=None``: no note, for the parts themselves)."""
        self._save(f"{DECISIONS_DIR}/{stage}", {"plan": plan, "decision": decision})
        if parts is not None:
            note = json.dumps({"plan": plan, "parts": parts}).encode()
            self.store.write_bytes(f"{DECISIONS_DIR}/{stage}{PLAN_SUFFIX}", note)

    def decision_plan(self, stage: str) -> tuple[str, bool] | None:
        """(plan, stored in parts) of a stored decision, without loading it; None: none stored."""
        try:
            note = json.loads(self.store.read_bytes(f"{DECISIONS_DIR}/{stage}{PLAN_SUFFIX}"))
            return str(note["plan"]), bool(note["parts"])
        except FileNotFoundError:  # a decision stored before these notes: read its plan from it
            stored = self.decision(stage)
            return None if stored is None else (stored[0], False)

    def forget_decision(self, stage: str) -> None:
        """Delete a stored decision (missing is fine): its plan note and the JSON first, which mark it
        as written, then its arrays and parts."""
        self.store.remove(f"{DECISIONS_DIR}/{stage}{PLAN_SUFFIX}")
        self.store.remove(f"{DECISIONS_DIR}/{stage}.json")
        self.store.remove(f"{DECISIONS_DIR}/{stage}.npz")
        self.store.remove(f"{DECISIONS_DIR}/{stage}.parts")

    def _save(self, stem: str, value: Any) -> None:
        self._save_encoded(stem, *to_bytes(value, LEDGER_FORMAT))

    def _save_encoded(self, stem: str, text: bytes, npz: bytes | None) -> None:
        # The arrays first: the JSON is what marks the pair as written.
        if npz is not None:
            self.store.write_bytes(f"{stem}.npz", npz)
        self.store.write_bytes(f"{stem}.json", text)

    def _load(self, stem: str, hint: Any, what: str) -> Any:
        # The JSON says whether arrays were stored beside it: one request, or two, never four.
        try:
            text = self.store.read_bytes(f"{stem}.json")
        except FileNotFoundError:
            return None
        npz = None
        if names_arrays(text):
            try:
                npz = self.store.read_bytes(f"{stem}.npz")
            except FileNotFoundError:
                npz = None  # decoding names the missing array
        return from_bytes(text, npz, hint, LEDGER_FORMAT, what)


# What a summary part and a stored decision hold around the stage's own type: made once per type,
# so the codec decodes the whole document by its declared fields.


@functools.cache
def _summary_part(hint: Any) -> type:
    return dataclasses.make_dataclass("SummaryPart", [("videos", dict[str, Optional[hint]])])  # noqa: UP045


@functools.cache
def _stored_decision(hint: Any) -> type:
    return dataclasses.make_dataclass("StoredDecision", [("plan", str), ("decision", hint)])
