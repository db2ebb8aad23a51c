"""Training logs: one JSON object per line in ``<run>/log.jsonl``, TensorBoard event files in
the same folder (``tensorboard --logdir <run>``), and a console line.

Only rank 0 logs (``enabled``). TensorBoard comes with the ``train`` extra; without it the JSON
lines are still written and a warning says once why there are no event files.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("lpm_train")


class MetricsLog:
    def __init__(self, path: Path, enabled: bool = True):
        self.path, self.enabled = path, enabled
        self._board: Any = None
        if enabled:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:  # tensorboard missing: the package's train extra has it
                log.warning("no TensorBoard event files (%s); install lpm-curation[train]", err)
            else:
                self._board = SummaryWriter(log_dir=str(path.parent))

    def write(self, record: dict[str, Any], echo: bool = True) -> None:
        if not self.enabled:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if self._board is not None and "step" in record:
            for key, value in record.items():
                if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
                    self._board.add_scalar(key, value, record["step"])
            # Flushed at every record (records come every ``log_every`` steps): a run being
            # watched shows its latest point, not the one from two minutes ago.
            self._board.flush()
        if echo:
            log.info(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))

    def close(self) -> None:
        if self._board is not None:
            self._board.close()
            self._board = None


def read_log(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
