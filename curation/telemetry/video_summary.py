"""What one video's passage through one phase of a run adds up to, for progress and metrics.

The pipeline hands one of these to its ``on_video`` observer each time a video leaves a phase,
so that throughput, failures and per-stage metrics can follow the run as it goes without the
observer holding (or even seeing) the video's record: it is made from the compact outcome the
worker returns. Everything here counts only what *this* phase did: timings and rejections of its
own stages, so that summing over phases never counts a thing twice; the video's final state is
reported by the phase that settles it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from curation.ingest.content_id import InputIdentity
from curation.runtime.video_outcome import VideoOutcome

IDENTIFY_PHASE = "identify"


@dataclass(frozen=True)
class VideoSummary:
    phase: str
    uri: str
    video_id: str | None
    duration_s: float  # seconds of input video (0 when unknown: unreadable, or not probed yet)
    final_state: str | None = None  # kept / rejected / failed when this phase settled it
    stage: str | None = None  # the stage that rejected or failed it
    reason: str | None = None
    detail: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # (entity, stage, reason) -> count, the rows this phase adds to the rejections manifest
    rejections: dict[tuple[str, str, str], int] = field(default_factory=dict)
    segment_seconds: dict[str, list[float]] = field(default_factory=dict)  # state -> lengths, final phase
    sample_bytes: int = 0  # encoded sample members (final phase)

    @property
    def first_phase(self) -> bool:
        """The phase that first reads the video: its input hours count here, once."""
        return self.phase == "analyse"


def summarize_outcome(
    phase: str, uri: str, outcome: VideoOutcome, stage_names: Iterable[str], last_phase: bool
) -> VideoSummary:
    """The video as it leaves ``phase``, whose stages are ``stage_names``; ``last_phase``: no phase follows."""
    names = set(stage_names)
    rejections: dict[tuple[str, str, str], int] = {}
    for key, count in outcome.block_rejections.items():
        entity, stage, reason = key.split("/", 2)
        rejections[(entity, stage, reason)] = count
    settled_here = outcome.state in ("rejected", "failed") and outcome.stage in names
    final_state = outcome.state if settled_here or (last_phase and outcome.state == "kept") else None
    if settled_here:
        key = ("video", outcome.stage or "", outcome.reason or "")
        rejections[key] = rejections.get(key, 0) + 1
    return VideoSummary(
        phase=phase,
        uri=uri,
        video_id=outcome.video_id,
        duration_s=outcome.duration_s,
        final_state=final_state,
        stage=outcome.stage if settled_here else None,
        reason=outcome.reason if settled_here else None,
        detail=outcome.detail if settled_here else None,
        stage_seconds={name: seconds for name, seconds in outcome.timings.items() if name in names},
        rejections=rejections,
        segment_seconds=outcome.segment_seconds if last_phase else {},
        sample_bytes=outcome.sample_bytes if last_phase else 0,
    )


def summarize_identity(identity: InputIdentity) -> VideoSummary:
    """An input as identified; one that cannot be read ends here, rejected by ``ingest``."""
    if identity.reason is None:
        return VideoSummary(phase=IDENTIFY_PHASE, uri=identity.uri, video_id=identity.video_id, duration_s=0.0)
    return VideoSummary(
        phase=IDENTIFY_PHASE,
        uri=identity.uri,
        video_id=identity.video_id,
        duration_s=0.0,
        final_state="rejected",
        stage="ingest",
        reason=str(identity.reason),
        detail=identity.detail,
        rejections={("video", "ingest", str(identity.reason)): 1},
    )
