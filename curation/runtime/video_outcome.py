"""What the driver learns about one video when a block finishes it: a few numbers and words.

The worker that ran the block writes the video's record to the run store and returns this; the
driver plans, accounts and writes the videos table from outcomes alone, so its memory grows by
about a kilobyte per video, whatever the video's length or the size of its samples.
"""

import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from curation.runtime.video_work import VideoWork

PROBE_COLUMNS = (
    "container", "duration_s", "width", "height", "rotation", "fps", "variable_fps", "n_frames",
    "video_codec", "has_audio", "audio_codec", "audio_sample_rate", "audio_channels",
)


@dataclass
class VideoOutcome:
    video_id: str
    state: str
    stage: str | None = None
    reason: str | None = None
    detail: str | None = None
    failure_kind: str | None = None  # "content" or "infra" on a failed video (None: an older ledger)
    probe: dict[str, Any] = field(default_factory=dict)  # the PROBE_COLUMNS of the videos table
    n_shots: int = 0
    n_tracks: int = 0
    n_segments: int = 0
    n_samples: int = 0
    kept_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    # What the block's own stages added, for progress and metrics: rejection rows counted by
    # "entity/stage/reason"; on a kept video, segment lengths by state and sample bytes.
    block_rejections: dict[str, int] = field(default_factory=dict)
    segment_seconds: dict[str, list[float]] = field(default_factory=dict)
    sample_bytes: int = 0

    @property
    def duration_s(self) -> float:
        return float(self.probe.get("duration_s") or 0.0)

    @classmethod
    def of(cls, work: VideoWork, block_stages: tuple[str, ...] = ()) -> "VideoOutcome":
        names = set(block_stages)
        rejections = Counter(
            f"{row.entity}/{row.stage}/{row.reason}" for row in work.rejections if row.stage in names
        )
        segment_seconds: dict[str, list[float]] = {}
        if work.state == "kept":
            for segment in work.segments:
                segment_seconds.setdefault(segment.state or "unknown", []).append(
                    float(segment.t_end - segment.t_start)
                )
        return cls(
            video_id=work.video_id or "",
            state=work.state,
            stage=work.stage,
            reason=work.reason,
            detail=work.detail,
            failure_kind=work.failure_kind,
            probe={k: getattr(work.video, k, None) for k in PROBE_COLUMNS},
            n_shots=len(work.shots),
            n_tracks=len(work.tracks),
            n_segments=len(work.segments),
            n_samples=len(work.samples.entries) if work.samples is not None else 0,
            kept_seconds=kept_seconds(work),
            timings=dict(work.timings),
            block_rejections=dict(rejections),
            segment_seconds=segment_seconds,
            sample_bytes=sum(sum(e.member_sizes.values()) for e in work.samples.entries) if work.samples else 0,
        )

    def retried_on_resume(self, retry_failed: bool) -> bool:
        """Whether a resumed run runs this video again: an infrastructure failure always, a
        content failure with ``--retry-failed``. A failure recorded before failures had a kind
        counts as content (what it was treated as when it was recorded)."""
        return self.state == "failed" and (retry_failed or self.failure_kind == "infra")

    def kept_by_driver(self) -> "VideoOutcome":
        """What the driver keeps once progress and metrics have seen the block's telemetry. The
        driver holds one per video for the whole run: the stage names and probe words every
        outcome repeats are shared (interned) rather than a copy each, which halves it (3.9 KB a
        video to 2.0, measured on a smoke run's outcome; 10^5 videos, 190 MB less)."""
        return replace(self, block_rejections={}, segment_seconds={}, probe=_shared_words(self.probe),
                       timings=_shared_words(self.timings))

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "VideoOutcome":
        return cls(**json.loads(data))


def _shared_words(values: dict[str, Any]) -> dict[str, Any]:
    return {sys.intern(k): sys.intern(v) if isinstance(v, str) else v for k, v in values.items()}


def kept_seconds(work: VideoWork) -> float:
    """Seconds of training material: kept segments, or the whole video for workflows without them."""
    if work.state != "kept":
        return 0.0
    if work.segments:
        return float(sum(s.t_end - s.t_start for s in work.segments))
    if work.shots:
        return float(sum(s.t_end - s.t_start for s in work.shots if s.usable))
    return float(work.video.duration_s if work.video else 0.0)
