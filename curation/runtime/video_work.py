"""The record one video carries through the per-video stages.

Stages read and extend it; it holds compact features (rows, small arrays and the typed products
of ``curation.runtime.products``), never frames, audio or encoded media: those are artefacts in
the run store (``run_uri``) that the products reference. Its final state is decided by the stages:
``reject``/``fail`` end it, otherwise it is kept.
"""

from dataclasses import dataclass, field
from typing import Literal

from curation.media.media_info import MediaInfo
from curation.runtime.products import (
    AnalysisGrid,
    AudioTrack,
    FaceCrops,
    KeyFrameHashes,
    SampleSet,
    SegmentCaption,
    SegmentReference,
    SpeechResult,
    TrackFeatures,
    TrackIdentityVector,
    VoiceFaces,
)
from schemas.reasons import Reason
from schemas.tables import PairRow, RejectionRow, SegmentRow, ShotRow, TrackRow

VideoState = Literal["pending", "kept", "rejected", "failed"]
# Why a failed video failed: ``content`` (the video itself: a stage raised on it) or ``infra``
# (the machinery: the store after its retries, a disk, a worker that kept dying, the watchdog).
# A resumed run runs ``infra`` failures again; ``--retry-failed`` runs both again.
FailureKind = Literal["content", "infra"]


@dataclass
class VideoWork:
    uri: str
    video_id: str | None = None
    # The run store (a local folder or an fsspec URI) where this video's artefacts are written.
    run_uri: str = ""
    video: MediaInfo | None = None  # the probe's facts (videos table columns); None until the probe ran
    state: VideoState = "pending"
    stage: str | None = None
    reason: str | None = None
    detail: str | None = None
    failure_kind: FailureKind | None = None  # set with state "failed"; None in records older than it
    shots: list[ShotRow] = field(default_factory=list)
    tracks: list[TrackRow] = field(default_factory=list)
    # per-track per-frame arrays: track_id -> its features (a stage's ``track_features.<field>`` names one)
    track_features: dict[str, TrackFeatures] = field(default_factory=dict)
    segments: list[SegmentRow] = field(default_factory=list)
    pairs: list[PairRow] = field(default_factory=list)
    rejections: list[RejectionRow] = field(default_factory=list)  # sub-entity rejections
    # Typed products, each added by one stage (see curation.runtime.products).
    analysis: AnalysisGrid | None = None
    crops: FaceCrops | None = None
    key_frame_hashes: KeyFrameHashes | None = None
    audio: AudioTrack | None = None
    speech: SpeechResult | None = None
    voice_faces: VoiceFaces | None = None
    identity_vectors: dict[str, TrackIdentityVector] = field(default_factory=dict)
    segment_references: dict[str, list[SegmentReference]] | None = None
    captions: dict[str, SegmentCaption] | None = None
    samples: SampleSet | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def probed(self) -> MediaInfo:
        """The probe's facts, for a stage that ``needs`` them (``check_needs`` has made sure)."""
        if self.video is None:
            raise LookupError(f"{self.uri}: the probe has not run on this video")
        return self.video

    @property
    def finished(self) -> bool:
        return self.state in ("rejected", "failed")

    def reject(self, stage: str, reason: Reason, detail: str) -> None:
        self.state, self.stage, self.reason, self.detail = "rejected", stage, str(reason), detail

    def fail(self, stage: str, reason: Reason, detail: str, kind: FailureKind = "content") -> None:
        self.state, self.stage, self.reason, self.detail = "failed", stage, str(reason), detail
        self.failure_kind = kind

    def reject_entity(
        self,
        entity: str,
        entity_id: str,
        stage: str,
        reason: Reason,
        detail: str,
        t_start: float | None = None,
        t_end: float | None = None,
    ) -> None:
        """Record a dropped shot, track or segment; the video itself goes on."""
        self.rejections.append(
            RejectionRow(
                entity=entity,
                entity_id=entity_id,
                video_id=self.video_id,
                uri=self.uri,
                state="rejected",
                stage=stage,
                reason=str(reason),
                detail=detail,
                t_start=t_start,
                t_end=t_end,
            )
        )
