"""What ``lpm-curate run`` shows while it runs, and the metrics it records on the way.

One progress row per phase: videos done/total, hours of input video through the phase, hours of
video per wall-clock hour (and per core), ETA and failures so far. Each video that leaves a phase
feeds the throughput, the run's metrics (Ray's endpoint and ``OUT/metrics.jsonl``) and the
warnings that need the user (inputs failing, the disk filling up). On a terminal the rows are
live bars; otherwise (a log file, ``nohup``, ``ray job submit``) each phase prints a plain row
every ``PLAIN_EVERY_S`` and when it ends, so a long run's log shows it moving.
"""

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from curation.telemetry.metrics_log import MetricsLog
from curation.telemetry.run_metrics import RunMetrics
from curation.telemetry.throughput import RunThroughput, format_duration
from curation.telemetry.user_warnings import DiskWatch, FailureWatch
from curation.telemetry.video_summary import VideoSummary

PLAIN_EVERY_S = 60.0
_ENDED = float("inf")  # the phase's final row is out


def warn(console: Console, message: str) -> None:
    console.print(f"[yellow]warning:[/] {message}", soft_wrap=True)


class RunMonitor:
    def __init__(self, console: Console, metrics: RunMetrics, log: MetricsLog, cores: int,
                 disk_path: Path | None) -> None:
        self.console = console
        self.metrics = metrics
        self.log = log
        self.throughput = RunThroughput(cores=cores)
        self.disk = DiskWatch(disk_path) if disk_path is not None else None
        self.failures = FailureWatch()
        self.phase = "start"
        self.bar = Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[hours]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[failed]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            # Live's default would route every print of every library through our console,
            # the very noise the captured descriptors keep out.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self.live = console.is_terminal
        self._printed: dict[str, float] = {}  # phase -> when its last plain row was printed

    def __enter__(self) -> "RunMonitor":
        if self.live:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.bar.stop()

    def progress(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.log.write(self.phase, force=True)  # the phase that just ended, complete
            self.phase = phase
        rate = self.throughput.progress(phase, done, total)
        now = self.throughput.clock()
        per_hour = rate.hours_per_hour(now)
        fields = {
            "hours": f"{rate.input_seconds / 3600:.3f} h in" if rate.input_seconds else "",
            "rate": (f"{per_hour:.2f} h/h ({self.throughput.per_core(per_hour):.2f}/core)"
                     if rate.input_seconds else ""),
            "eta": format_duration(rate.eta_s(now)),
            "failed": f"[red]failed {rate.failed}[/]" if rate.failed else "failed 0",
        }
        if self.live:
            if phase not in self._tasks:
                self._tasks[phase] = self.bar.add_task(phase, total=total, **fields)
            self.bar.update(self._tasks[phase], completed=done, total=total, **fields)
        else:
            self._plain_row(phase, done, total, fields, rate.wall_s(now))
        self.log.write(phase, {"throughput": self._throughput_fields()})
        if self.disk is not None and (message := self.disk.check()):
            warn(self.console, message)

    def _plain_row(self, phase: str, done: int, total: int, fields: dict[str, str], wall_s: float) -> None:
        now = time.monotonic()
        last = self._printed.get(phase)
        if last == _ENDED:
            return
        finished = done >= total
        if not finished:
            if last is None:  # the phase starts: its first row comes after a while, or at its end
                self._printed[phase] = now
                return
            if now - last < PLAIN_EVERY_S:
                return
        self._printed[phase] = _ENDED if finished else now
        parts = [f"{phase:<9}", f"{done}/{total}", fields["hours"], fields["rate"], f"ETA {fields['eta']}",
                 fields["failed"], format_duration(wall_s)]
        self.console.print(" ".join(p for p in parts if p), soft_wrap=True, highlight=False)

    def on_video(self, summary: VideoSummary) -> None:
        self.metrics.record(summary)
        self.throughput.video(summary)
        if summary.final_state == "failed":
            detail = (summary.detail or "")[:160]
            message = self.failures.check(self.throughput.failed, f"{summary.uri} ({summary.stage}: {detail})")
            if message:
                warn(self.console, message)

    def _throughput_fields(self) -> dict[str, dict[str, float]]:
        now = self.throughput.clock()
        return {
            phase: {"done": rate.done, "total": rate.total, "input_seconds": rate.input_seconds,
                    "wall_s": round(rate.wall_s(now), 3), "failed": rate.failed}
            for phase, rate in self.throughput.phases.items()
        }

    def finish(self, extra: dict[str, object] | None = None) -> None:
        self.log.write("end", {"throughput": self._throughput_fields(), **(extra or {})}, force=True)

    def speed_line(self) -> str | None:
        """Hours of video per wall-clock hour over the phase that reads the videos."""
        rate = self.throughput.phases.get("analyse")
        if rate is None or not rate.input_seconds:
            return None
        per_hour = rate.hours_per_hour(self.throughput.clock())
        return (f"{rate.input_seconds / 3600:.4f} h of video analysed at {per_hour:.2f} h per wall hour "
                f"({self.throughput.per_core(per_hour):.2f} per core, {self.throughput.cores} "
                f"core{'s' if self.throughput.cores != 1 else ''})")
