"""``lpm-train score --samples DIR``: lip sync and identity of the mp4s in DIR.

The measures are the curation toolkit's own (``apps/audit/clip_scores.py``: the audio-visual
synchrony estimator and the identity embedder), run as a separate process. That keeps the one
rule of the trainer's imports (``schemas`` only, never ``stages`` or ``annotators``), keeps
MediaPipe and OpenCV out of the training processes, and scores generated clips exactly as the
toolkit scores curated ones. The toolkit is the one installed beside this package (same
distribution), so the child process gets this package's root first on ``PYTHONPATH``.

Writes ``DIR/scores.json`` (per clip and a summary) and returns the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lpm_train.config import LpmTrainConfig

SCORER_MODULE = "apps.audit.clip_scores"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_scorer(directory: Path, timeout_s: float) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", SCORER_MODULE, str(directory), "--json"],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise ValueError(f"{SCORER_MODULE} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_score(config: LpmTrainConfig) -> dict:
    directory = Path(config.score.samples)
    if not config.score.samples or not directory.is_dir():
        raise FileNotFoundError(f"--samples must be a folder of mp4 files, got {config.score.samples!r}")
    result = run_scorer(directory, config.score.timeout_s)
    (directory / "scores.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return {"samples": str(directory), **result["summary"], "scores": str(directory / "scores.json")}
