"""Identity clusters across every video of a run, continued from earlier runs when asked.

Run-scope: each video sends one embedding per usable track (ArcFace on aligned crops when its
model is present, else the no-weights landmark/texture descriptor, which is weaker and marked
so); the driver clusters them (tracks seen together in one video are never merged) and, with
``match_run``, gives a cluster the id of an earlier run's identity it matches; each video then
records ``identity_id`` on its tracks and segments.
"""

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from annotators.identity.identity_clusterer import IdentityTrack, KnownIdentity, cluster_identities
from annotators.identity.track_identity import (
    FaceDescriptorChoice,
    face_embedder,
    face_embedder_choice,
    track_identity_vector,
)
from curation.models.model_choice import ModelChoice
from curation.runtime.device import DeviceChoice
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork
from schemas.tables import IdentityRow, SegmentRow


@dataclass
class IdentityTrackSummary:
    """One usable track of a video as the decide task clusters it."""

    track_id: str
    video_id: str
    t_start: float
    t_end: float
    vector: np.ndarray  # unit vector of ``kind``
    kind: str
    strength: str
    n_segments: int
    seconds: float  # of its segments


@dataclass
class IdentityDecision:
    """The run's identities: each clustered track's identity, and the identities table's rows
    (none in one video's part of it)."""

    of_track: dict[str, str] = field(default_factory=dict)
    rows: list[IdentityRow] = field(default_factory=list)


@dataclass
class IdentityStage(RunScopeStage[list[IdentityTrackSummary], IdentityDecision]):
    name: ClassVar[str] = "identity"
    needs: ClassVar[tuple[str, ...]] = ("tracks", "crops")
    adds: ClassVar[tuple[str, ...]] = ("identity_vectors", "tracks.identity_id", "segments.identity_id")
    resources: ClassVar[Resources] = Resources(cpus=1)
    # 2: dlib's track vectors from 2 frames instead of 4 (the face grouping and identities they give)
    version: ClassVar[int] = 2

    descriptor: FaceDescriptorChoice = "auto"
    distance_threshold: float | None = None  # default: per descriptor kind (annotators/identity/identity_clusterer)
    # frames per track embedded; default: the embedder's own (2 for dlib, 4 for ArcFace, 8 for the descriptor)
    max_frames: int | None = field(default=None, metadata={"range": (1, 64)})
    match_run: str | None = None  # an earlier run directory whose identities this run continues
    device: DeviceChoice = "auto"  # ArcFace on a GPU when the worker sees one
    gpus: float = field(default=0.0, metadata={"range": (0, 8)})

    def setup(self) -> None:
        self._embedder = face_embedder(self.descriptor, self.device)

    def model_choices(self) -> list[ModelChoice]:
        return [face_embedder_choice("identity embedding", self.name, self.descriptor)]

    def summarize(self, work: VideoWork) -> list[IdentityTrackSummary]:
        out = []
        segments_of: dict[str, list[SegmentRow]] = {}
        for segment in work.segments:
            segments_of.setdefault(segment.track_id, []).append(segment)
        for track in work.tracks:
            if not track.usable:
                continue
            embedding = track_identity_vector(work, track.track_id, self._embedder, self.max_frames)
            if embedding is None:
                continue
            segs = segments_of.get(track.track_id, [])
            out.append(IdentityTrackSummary(
                track_id=track.track_id,
                video_id=work.video_id,
                t_start=track.t_start,
                t_end=track.t_end,
                vector=embedding.vector,
                kind=embedding.kind,
                strength=embedding.strength,
                n_segments=len(segs),
                seconds=float(sum(s.t_end - s.t_start for s in segs)),
            ))
        return out

    def decide(self, summaries: dict[str, list[IdentityTrackSummary] | None]) -> IdentityDecision:
        entries = [e for video_id in sorted(summaries) for e in summaries[video_id] or []]
        tracks = [IdentityTrack(e.track_id, e.video_id, e.t_start, e.t_end, e.vector, e.kind) for e in entries]
        identities = cluster_identities(tracks, self._earlier(), self.distance_threshold)
        by_track = {e.track_id: e for e in entries}
        decision = IdentityDecision()
        for identity in identities:
            members = [by_track[t] for t in identity.track_ids]
            decision.of_track.update(dict.fromkeys(identity.track_ids, identity.identity_id))
            decision.rows.append(IdentityRow(
                identity_id=identity.identity_id,
                n_tracks=len(members),
                n_videos=len({m.video_id for m in members}),
                n_segments=sum(m.n_segments for m in members),
                seconds=sum(m.seconds for m in members),
                descriptor=identity.kind,
                cohesion=identity.intra_similarity,
                margin=identity.margin,
                matched_from=identity.identity_id if identity.earlier_similarity is not None else None,
                strength=members[0].strength,
                centroid=np.asarray(identity.centroid, np.float32).tolist(),
            ))
        return decision

    def apply(self, work: VideoWork, decision: IdentityDecision) -> VideoWork:
        for track in work.tracks:
            track.identity_id = decision.of_track.get(track.track_id)
        for segment in work.segments:
            segment.identity_id = decision.of_track.get(segment.track_id)
        return work

    def video_decision(self, decision: IdentityDecision, video_id: str,
                       summary: list[IdentityTrackSummary] | None) -> IdentityDecision:
        """The identities of this video's tracks alone (its summary lists them); no rows."""
        tracks = [entry.track_id for entry in summary or []]
        return IdentityDecision({t: decision.of_track[t] for t in tracks if t in decision.of_track})

    def manifest_rows(self, decision: IdentityDecision) -> dict[str, list[IdentityRow]]:
        return {"identities": decision.rows}

    def _earlier(self) -> list[KnownIdentity]:
        if not self.match_run:
            return []
        from curation.manifests.manifest_writer import read_rows
        from curation.store.run_store import RunStore

        return [KnownIdentity(r.identity_id, np.asarray(r.centroid, np.float64), r.descriptor)
                for r in read_rows(RunStore(self.match_run), IdentityRow)]

