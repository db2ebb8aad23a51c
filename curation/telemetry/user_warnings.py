"""The few things worth interrupting a quiet console for: a fallback instead of a model, a disk
filling up, inputs that keep failing. Everything else goes to ``OUT/logs/``.
"""

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from curation.config.workflow import Workflow
from curation.models.model_choice import fallback_lines


def fallback_warnings(workflow: Workflow) -> list[str]:
    """One line per capability that runs on a fallback instead of its model. The stages fall back
    without stopping (a run must not stop for an optional model), so the user hears it here, once,
    before the run starts; run.json records the same choices."""
    return fallback_lines(workflow.model_choices())


@dataclass
class DiskWatch:
    """Warns when the disk holding the run directory runs low, again each time free space halves."""

    path: Path
    min_free_bytes: int = 5_000_000_000
    every_s: float = 30.0
    _next_check: float = 0.0
    _warned_at: int | None = field(default=None)

    def check(self, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        if now < self._next_check:
            return None
        self._next_check = now + self.every_s
        try:
            usage = shutil.disk_usage(self._existing(self.path))
        except OSError:
            return None
        if usage.free >= self.min_free_bytes:
            return None
        if self._warned_at is not None and usage.free > self._warned_at // 2:
            return None
        self._warned_at = usage.free
        return (f"only {usage.free / 1e9:.2f} GB free on the disk holding {self.path}; a full disk stops the run "
                "(exit 4, resumable)")

    @staticmethod
    def _existing(path: Path) -> Path:
        while not path.exists() and path != path.parent:
            path = path.parent
        return path


@dataclass
class FailureWatch:
    """Says so when inputs fail: at the 1st, 2nd, 4th, 8th... failure, so a rising count is seen
    without a line per failure."""

    _next_at: int = 1

    def check(self, failed: int, latest: str) -> str | None:
        if failed < self._next_at:
            return None
        while self._next_at <= failed:
            self._next_at *= 2
        return f"{failed} input(s) failed so far; latest: {latest}"
