"""Near-duplicate segments across the run (re-uploads, repeated clips), rejected with their twin.

Run-scope: each segment is fingerprinted by the perceptual hashes of its key frames (2 per second,
taken during the single analysis decode) and, when the OpenCLIP model is present, an image
embedding of its key frames; the driver walks all segments in a fixed order and keeps the first
of each group of near-duplicates. The order puts the better twin first: a better lip-sync
verdict (``in_sync`` before ``uncertain``), then a sharper picture, then video id and segment id;
never the raw lip-sync score, which a dubbed copy can win by chance. A duplicate leaves the
segments table and becomes a ``duplicate`` rejection whose detail names the kept twin.

Twins whose pictures match but whose audio does not (``annotators.duplicates.audio_fingerprint``:
the loudness envelope of each segment, compared over shifts) are a dub and its original, not a
repeat: both are kept, and the one with the lower verdict (both, when the verdicts are equal) is
flagged with ``picture_twin_of`` and at most ``uncertain`` (``annotators.duplicates.picture_twins``).
"""

import math
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Literal

import numpy as np

from annotators.duplicates.audio_fingerprint import SAME_AUDIO, audio_similarity, loudness_envelope
from annotators.duplicates.near_duplicates import (
    DuplicateCriteria,
    NearDuplicate,
    SegmentFingerprint,
    find_near_duplicates,
)
from annotators.duplicates.picture_twins import picture_twin_flags, verdict_rank
from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice, resolve_device
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples
from curation.store.stored_crops import crop_images
from schemas.reasons import Reason
from schemas.sample_layout import AUDIO_SAMPLE_RATE


@dataclass
class DedupSegmentSummary:
    """One segment as the decide task compares it (summaries of older runs lack the last three)."""

    segment_id: str
    video_id: str
    hashes: list[int | None]  # the key frames' 64-bit pHashes (None: a frame without one)
    embedding: np.ndarray | None = None  # OpenCLIP, when it ran
    sync_verdict: str | None = None
    sharpness: float | None = None
    audio_envelope: np.ndarray | None = None  # float16 loudness, 100 values a second

    def fingerprint(self) -> SegmentFingerprint:
        return SegmentFingerprint(self.segment_id, self.video_id, tuple(self.hashes), self.embedding)


@dataclass
class DedupVerdict:
    """What the run decided about one segment: a ``duplicate`` (dropped; the fields of
    ``NearDuplicate``) or a ``picture_twin`` (kept and flagged). Older decisions carry no kind:
    every entry was a duplicate then."""

    kind: Literal["duplicate", "picture_twin"] = "duplicate"
    segment_id: str | None = None
    kept_segment_id: str | None = None
    evidence: str | None = None
    matched_fraction: float | None = None
    mean_hash_distance: float | None = None
    cosine: float | None = None
    twin_segment_id: str | None = None
    audio_similarity: float | None = None

    @classmethod
    def duplicate(cls, found: NearDuplicate) -> "DedupVerdict":
        return cls("duplicate", **asdict(found))

    @property
    def drops(self) -> bool:
        return self.kind == "duplicate"


@dataclass
class DedupIndexEntry:
    """A kept segment's fingerprint in the index a later run matches against (``match_run``)."""

    segment_id: str
    video_id: str
    hashes: list[int | None]
    embedding: np.ndarray | None = None


DedupDecision = dict[str, DedupVerdict]  # by segment id; a segment absent is kept as it is


@dataclass
class DedupStage(RunScopeStage[list[DedupSegmentSummary], DedupDecision]):
    name: ClassVar[str] = "dedup"
    needs: ClassVar[tuple[str, ...]] = ("segments", "key_frame_hashes")
    # a twin flagged (and its verdict lowered to uncertain), an exact copy rejected
    adds: ClassVar[tuple[str, ...]] = ("segments.picture_twin_of", "segments.sync_verdict", "rejections")
    resources: ClassVar[Resources] = Resources(cpus=1)
    # 2: twins ranked by sync verdict, not raw score; same pictures with other audio kept and flagged
    version: ClassVar[int] = 2

    clip: Literal["auto", "on", "off"] = "auto"
    max_frame_distance: int = field(default=10, metadata={"range": (0, 64)})
    min_matched_fraction: float = field(default=0.8, metadata={"range": (0, 1)})
    max_mean_distance: float = field(default=4.0, metadata={"range": (0, 64)})
    clip_eps: float = field(default=0.03, metadata={"range": (0, 1)})
    # Twins whose audio envelopes correlate below this are a dub and its original (both kept).
    same_audio: float = field(default=SAME_AUDIO, metadata={"range": (-1, 1)})
    compare_within_video: bool = False
    # An earlier run directory: its kept segments count as kept footage, so a segment repeating
    # them is a duplicate here too (the corpus can be ingested in several runs).
    match_run: str | None = None
    device: DeviceChoice = "auto"  # OpenCLIP on a GPU when the worker sees one
    gpus: float = field(default=0.0, metadata={"range": (0, 8)})

    def _uses_clip(self) -> bool:
        return self.clip == "on" or (self.clip == "auto" and is_available("openclip"))

    def model_choices(self) -> list[ModelChoice]:
        if self.clip == "off":
            return []
        if self._uses_clip():
            return [ModelChoice.using("near-duplicate image embedding", self.name, "openclip")]
        return [ModelChoice.instead("near-duplicate image embedding", self.name, "perceptual hashes only", "openclip",
                                    "re-graded or re-cropped copies can pass")]

    def setup(self) -> None:
        self._clip = None
        if self._uses_clip():
            from annotators.models.clip_embedder import ClipImageEmbedder

            self._clip = ClipImageEmbedder(device=resolve_device(self.device))
            self._clip.setup()

    def summarize(self, work: VideoWork) -> list[DedupSegmentSummary]:
        hashes = work.key_frame_hashes
        frames = work.crops.all() if work.crops is not None else []
        audio = audio_samples(work)
        out = []
        for segment in work.segments:
            inside = hashes.between(segment.t_start, segment.t_end)
            embedding = None
            if self._clip is not None:
                # one whole-frame image per key time (two faces of one frame share it)
                shown = sorted({c.t: c for c in frames if segment.t_start <= c.t < segment.t_end}.items())
                images = crop_images(work, [c for _t, c in shown], "global")
                embedding = self._clip.embed_segment(images) if images else None
            envelope = loudness_envelope(audio, AUDIO_SAMPLE_RATE, segment.t_start, segment.t_end)
            out.append(DedupSegmentSummary(segment.segment_id, work.video_id, list(inside), embedding,
                                           segment.sync_verdict, segment.sharpness, envelope.astype("float16")))
        return out

    def decide(self, summaries: dict[str, list[DedupSegmentSummary] | None]) -> DedupDecision:
        criteria = DuplicateCriteria(self.max_frame_distance, self.min_matched_fraction, self.max_mean_distance,
                                     self.clip_eps, self.compare_within_video)
        earlier = self._earlier()
        known = {f.segment_id for f in earlier}
        current = _fingerprints(summaries)
        # The same video ingested again (same content id, so same segment ids) repeats what the
        # earlier run kept, segment for segment.
        again = {f.segment_id: DedupVerdict.duplicate(NearDuplicate(f.segment_id, f.segment_id,
                                                                    "same video in the earlier run"))
                 for f in current if f.segment_id in known}
        found = find_near_duplicates([f for f in current if f.segment_id not in known], criteria, earlier=earlier)
        return again | self._split_dubs(found, summaries)

    def _split_dubs(self, found: list[NearDuplicate],
                    summaries: dict[str, list[DedupSegmentSummary] | None]) -> DedupDecision:
        """Duplicates whose audio is the same recording as their twin's (or cannot be compared)
        stay duplicates; the others are picture twins: kept and flagged (``picture_twin_flags``)."""
        entries = {e.segment_id: e for video_id in summaries for e in summaries[video_id] or []}
        decision: DedupDecision = {}
        twins: DedupDecision = {}
        for duplicate in found:
            segment, twin = entries.get(duplicate.segment_id), entries.get(duplicate.kept_segment_id)
            similarity = _audio_similarity(segment, twin)
            if segment is None or twin is None or similarity is None or similarity >= self.same_audio:
                decision[duplicate.segment_id] = DedupVerdict.duplicate(duplicate)
                continue
            for flagged, other in picture_twin_flags(segment, twin):
                twins.setdefault(flagged, DedupVerdict("picture_twin", twin_segment_id=other,
                                                       audio_similarity=similarity))
        return decision | {k: v for k, v in twins.items() if k not in decision}

    def run_index(self, summaries: dict[str, list[DedupSegmentSummary] | None],
                  decision: DedupDecision) -> list[DedupIndexEntry]:
        """The kept segments' fingerprints, the earlier runs' included: what the next run matches."""
        kept = [f for f in _fingerprints(summaries) if not _is_duplicate(decision.get(f.segment_id))]
        return [_index_entry(f) for f in [*self._earlier(), *kept]]

    def _earlier(self) -> list[SegmentFingerprint]:
        if not self.match_run:
            return []
        from curation.run.run_scope_steps import index_name
        from curation.store.ledger import Ledger
        from curation.store.run_store import RunStore

        stored = Ledger(RunStore(self.match_run)).decision(index_name(self.name), list[DedupIndexEntry])
        if stored is None:
            raise FileNotFoundError(f"{self.match_run} holds no dedup index (a run of a workflow with dedup)")
        return [SegmentFingerprint(e.segment_id, e.video_id, tuple(e.hashes), e.embedding) for e in stored[1]]

    def video_decision(self, decision: DedupDecision, video_id: str,
                       summary: list[DedupSegmentSummary] | None) -> DedupDecision:
        """The verdicts on this video's segments alone (its summary lists them)."""
        segments = [entry.segment_id for entry in summary or []]
        return {s: decision[s] for s in segments if s in decision}

    def apply(self, work: VideoWork, decision: DedupDecision) -> VideoWork:
        kept = []
        for segment in work.segments:
            duplicate = decision.get(segment.segment_id)
            if not _is_duplicate(duplicate):
                if duplicate is not None:  # a picture twin: same pictures as another segment, other audio
                    segment.picture_twin_of = duplicate.twin_segment_id
                    if segment.sync_verdict == "in_sync":
                        segment.sync_verdict = "uncertain"
                kept.append(segment)
                continue
            evidence = duplicate.evidence or ""
            if duplicate.matched_fraction is not None:
                evidence += f", {duplicate.matched_fraction:.0%} key frames match"
            work.reject_entity("segment", segment.segment_id, self.name, Reason.DUPLICATE,
                               f"near-duplicate of {duplicate.kept_segment_id} ({evidence})",
                               segment.t_start, segment.t_end)
        if work.segments and not kept:
            twins = sorted({decision[s.segment_id].kept_segment_id or "" for s in work.segments})
            work.reject(self.name, Reason.DUPLICATE, f"every segment repeats kept footage: {', '.join(twins[:3])}")
        work.segments = kept
        return work


def _fingerprints(summaries: dict[str, list[DedupSegmentSummary] | None]) -> list[SegmentFingerprint]:
    """Every segment's fingerprint in the walk order: the better twin first (``_preference``)."""
    entries = sorted((e for video_id in summaries for e in summaries[video_id] or []), key=_preference)
    return [e.fingerprint() for e in entries]


def _preference(entry: DedupSegmentSummary) -> tuple:
    """Better sync verdict first (in_sync, then uncertain or none, then out_of_sync), then
    sharper, then by id. Not the raw score: between twins of one verdict it is chance."""
    sharpness = entry.sharpness
    sharpness = sharpness if sharpness is not None and math.isfinite(sharpness) else 0.0
    return (verdict_rank(entry.sync_verdict), -sharpness, entry.video_id, entry.segment_id)


def _is_duplicate(entry: DedupVerdict | None) -> bool:
    """A decision entry that drops its segment."""
    return entry is not None and entry.drops


def _audio_similarity(segment: DedupSegmentSummary | None, twin: DedupSegmentSummary | None) -> float | None:
    """How alike the two segments' audio is; None when either has no envelope to compare."""
    if segment is None or twin is None or segment.audio_envelope is None or twin.audio_envelope is None:
        return None
    return audio_similarity(segment.audio_envelope, twin.audio_envelope)


def _index_entry(fingerprint: SegmentFingerprint) -> DedupIndexEntry:
    return DedupIndexEntry(fingerprint.segment_id, fingerprint.video_id, list(fingerprint.key_frame_hashes),
                           fingerprint.embedding)
