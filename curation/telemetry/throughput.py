"""How fast a run goes and when it will end, per phase: what the progress display shows.

Rates count only what this session did (videos a resumed run skips are done but took no time)
and are in hours of input video per wall-clock hour, overall and per core. The ETA assumes the
remaining videos take as long on average as the ones done in this session; videos are started
largest first, so early on it is pessimistic rather than optimistic.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from curation.telemetry.video_summary import VideoSummary


@dataclass
class PhaseRate:
    phase: str
    total: int
    started: float
    done_at_start: int  # already finished by an earlier session
    done: int = 0
    input_seconds: float = 0.0  # of the videos through this phase in this session
    failed: int = 0
    rejected: int = 0
    ended: float | None = None  # when done reached total: rates of a finished phase stop moving

    def wall_s(self, now: float) -> float:
        return max((self.ended if self.ended is not None else now) - self.started, 1e-9)

    @property
    def processed(self) -> int:
        return self.done - self.done_at_start

    def hours_per_hour(self, now: float) -> float:
        return self.input_seconds / self.wall_s(now)

    def eta_s(self, now: float) -> float | None:
        remaining = self.total - self.done
        if remaining <= 0:
            return 0.0
        if self.processed <= 0:
            return None
        return self.wall_s(now) / self.processed * remaining


@dataclass
class RunThroughput:
    cores: int = 1
    clock: Callable[[], float] = time.monotonic
    phases: dict[str, PhaseRate] = field(default_factory=dict)
    failed: int = 0  # inputs failed so far in this session, all phases
    rejected: int = 0
    last_failure: VideoSummary | None = None

    def progress(self, phase: str, done: int, total: int) -> PhaseRate:
        rate = self.phases.get(phase)
        if rate is None:
            rate = self.phases[phase] = PhaseRate(phase, total, self.clock(), done_at_start=done)
        rate.done, rate.total = done, total
        if done >= total and rate.ended is None:
            rate.ended = self.clock()
        return rate

    def video(self, summary: VideoSummary) -> None:
        rate = self.phases.get(summary.phase)
        if rate is not None:
            rate.input_seconds += summary.duration_s
        if summary.final_state == "failed":
            self.failed += 1
            self.last_failure = summary
            if rate is not None:
                rate.failed += 1
        elif summary.final_state == "rejected":
            self.rejected += 1
            if rate is not None:
                rate.rejected += 1

    def per_core(self, hours_per_hour: float) -> float:
        return hours_per_hour / max(self.cores, 1)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock
