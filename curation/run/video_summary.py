"""What one video's passage through one phase of a run adds up to, for progress and metrics.

The pipeline hands one of these to its ``on_video`` observer each time a video leaves a phase,
so that throughput, failures and per-stage metrics can follow the run as it goes without the
observer holding (or even seeing) the video's record. Everything here counts only what *this*
phase did: timings and rejections of its own stages, so that summing over phases never counts a
thing twice; the video's final state is reported by the phase that settles it.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from curation.ingest.content_id import InputIdentity
from curation.runtime.video_work import VideoWork

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


def summarize_work(phase: str, work: VideoWork, stage_names: Iterable[str], last_phase: bool) -> VideoSummary:
    """``work`` as it leaves ``phase``, whose stages are ``stage_names``; ``last_phase``: no phase follows."""
    names = set(stage_names)
    rejections = Counter(
        (row["entity"], row["stage"], row["reason"]) for row in work.rejections if row.get("stage") in names
    )
    settled_here = work.state in ("rejected", "failed") and work.stage in names
    final_state = work.state if settled_here or (last_phase and work.state == "kept") else None
    if settled_here:
        rejections[("video", work.stage or "", work.reason or "")] += 1
    segments: dict[str, list[float]] = {}
    sample_bytes = 0
    if last_phase:
        for segment in work.segments:
            segments.setdefault(segment.get("state") or "unknown", []).append(
                float(segment["t_end"] - segment["t_start"])
            )
        for _key, members in work.extras.get("samples", []):
            sample_bytes += sum(len(value) for value in members.values() if isinstance(value, bytes | bytearray))
    return VideoSummary(
        phase=phase,
        uri=work.uri,
        video_id=work.video_id,
        duration_s=float(work.video.get("duration_s") or 0.0),
        final_state=final_state,
        stage=work.stage if settled_here else None,
        reason=work.reason if settled_here else None,
        detail=work.detail if settled_here else None,
        stage_seconds={name: seconds for name, seconds in work.timings.items() if name in names},
        rejections=dict(rejections),
        segment_seconds=segments,
        sample_bytes=sample_bytes,
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
