"""Identity-aware multi-references: a pool per identity, and per segment a choice from outside it.

Run-scope: every video sends its usable tracks' best candidate crops (best per viewpoint and per
expression bin, with their face, upper-body and whole-frame JPEGs); the driver picks each
identity's pool across all its videos; each video then gives every segment references from that
pool that lie outside the segment's own time window, from other videos first. Without an
identity stage the track stands for the identity, so references still never come from inside
the segment.
"""

from dataclasses import dataclass, field
from typing import ClassVar

from annotators.identity.reference_bins import candidate_facts
from annotators.identity.reference_candidate import ReferenceCandidate
from annotators.identity.reference_selector import choose_pool, references_for_segment
from curation.runtime.products import CROP_KINDS, SegmentReference, crop_jpeg_name
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork
from curation.store.stored_crops import crop_jpegs
from schemas.tables import ReferenceRow

KINDS = CROP_KINDS


@dataclass
class ReferencesSummary:
    """A video's candidates, and the owner (identity, else track) of each of its tracks."""

    candidates: list[ReferenceCandidate]
    owners: list[str]


# Summaries stored before they named their tracks' owners were the candidates alone.
StoredReferencesSummary = ReferencesSummary | list[ReferenceCandidate]
ReferencesDecision = dict[str, list[ReferenceCandidate]]  # each owner's pool


@dataclass
class ReferencesStage(RunScopeStage[StoredReferencesSummary, ReferencesDecision]):
    name: ClassVar[str] = "references"
    needs: ClassVar[tuple[str, ...]] = ("crops", "analysis")
    adds: ClassVar[tuple[str, ...]] = ("segment_references", "segments.reference_ids")
    resources: ClassVar[Resources] = Resources(cpus=0.5)

    max_pool: int = field(default=12, metadata={"range": (1, 200)})
    refs_per_segment: int = field(default=3, metadata={"range": (0, 50)})
    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    margin_s: float = field(default=1.0, metadata={"range": (0, None)})

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"kinds: unknown {sorted(unknown)}; choose from {list(KINDS)}")

    def summarize(self, work: VideoWork) -> ReferencesSummary:
        """This video's candidates, and the owner (identity, else track) of every track, whose pool
        ``apply`` looks up: a track with no candidate of its own still takes its person's pool from
        other videos, so the video's part of the decision (``video_decision``) names them all."""
        owners = sorted({track.identity_id or track.track_id for track in work.tracks})
        return ReferencesSummary(self._candidates(work), owners)

    def _candidates(self, work: VideoWork) -> list[ReferenceCandidate]:
        scale = work.analysis.scale
        out: list[ReferenceCandidate] = []
        for track in work.tracks:
            if not track.usable:
                continue
            crops = work.crops.of_track(track.track_id)
            facts = []
            for crop, face_jpeg in zip(crops, crop_jpegs(work, crops, "face"), strict=True):
                # The JPEGs stay in this video's crop archive; the pool names them.
                facts.append(ReferenceCandidate(
                    **candidate_facts(crop.signals, face_jpeg, scale),
                    id=f"{track.track_id}@{crop.t:.3f}",
                    owner=track.identity_id or track.track_id,
                    identity_id=track.identity_id,
                    video_id=work.video_id,
                    track_id=track.track_id,
                    t=float(crop.t),
                    archive=work.crops.archive,
                    crop_name=crop.name,
                ))
            out.extend(choose_pool(facts, max_pool=len(facts)))  # best per bin of this track
        return out

    def decide(self, summaries: dict[str, StoredReferencesSummary | None]) -> ReferencesDecision:
        by_owner: dict[str, list[ReferenceCandidate]] = {}
        for video_id in sorted(summaries):
            for candidate in candidates_of(summaries[video_id]):
                by_owner.setdefault(candidate.owner, []).append(candidate)
        return {owner: choose_pool(cands, self.max_pool) for owner, cands in sorted(by_owner.items())}

    def apply(self, work: VideoWork, decision: ReferencesDecision) -> VideoWork:
        tracks = {t.track_id: t for t in work.tracks}
        chosen: dict[str, list[SegmentReference]] = {}
        for segment in work.segments:
            track = tracks[segment.track_id]
            pool = decision.get(track.identity_id or track.track_id, [])
            picks = references_for_segment(
                pool, work.video_id, segment.t_start, segment.t_end, self.refs_per_segment, self.margin_s
            )
            refs = [
                SegmentReference(
                    reference_id=f"{c.id}:{kind}",
                    kind=kind,
                    view_bin=c.view_bin,
                    expression_bin=c.expression_bin,
                    video_id=c.video_id,
                    track_id=c.track_id,
                    t=c.t,
                    score=c.score,
                    archive=c.archive,
                    jpeg_name=crop_jpeg_name(c.crop_name, kind),
                )
                for c in picks
                for kind in self.kinds
            ]
            chosen[segment.segment_id] = refs
            segment.reference_ids = [r.reference_id for r in refs]
        work.segment_references = chosen
        return work

    def video_decision(self, decision: ReferencesDecision, video_id: str,
                       summary: StoredReferencesSummary | None) -> ReferencesDecision:
        """The pools of this video's tracks' owners alone (at 10^4 videos the whole decision is 375,000
        candidates, 279 MB in an actor); ``NotImplemented`` for a summary stored before it named
        them (the actors then load the whole decision)."""
        if isinstance(summary, list):
            return NotImplemented
        owners = summary.owners if summary is not None else []
        return {owner: decision[owner] for owner in owners if owner in decision}

    def manifest_rows(self, decision: ReferencesDecision) -> dict[str, list[ReferenceRow]]:
        rows = [
            ReferenceRow(
                reference_id=f"{c.id}:{kind}",
                identity_id=c.identity_id,
                video_id=c.video_id,
                track_id=c.track_id,
                t=c.t,
                kind=kind,
                view_bin=c.view_bin,
                expression_bin=c.expression_bin,
                score=c.score,
                sharpness=c.sharpness,
                face_height_px=c.face_height_px,
                yaw=c.yaw,
                pitch=c.pitch,
            )
            for pool in decision.values()
            for c in pool
            for kind in self.kinds
        ]
        return {"references": rows}


def candidates_of(summary: StoredReferencesSummary | None) -> list[ReferenceCandidate]:
    """A video's candidates from its summary (a bare list before summaries named their owners)."""
    if summary is None:
        return []
    return summary.candidates if isinstance(summary, ReferencesSummary) else summary
