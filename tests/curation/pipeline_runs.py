"""Run a workflow the way the tests need it, in-process or through the CLI, and read the manifests.

Importable from every test under ``tests/curation`` because pytest puts this folder (it holds a
``conftest.py``) on ``sys.path``.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from curation.config.workflow import Workflow, load_workflow
from curation.manifests.manifest_writer import read_manifest
from curation.run.pipeline import RunRequest, RunResult, run_pipeline
from curation.store.run_store import RunStore
from stages.workflow_stages import WORKFLOW_STAGES

REPO_ROOT = Path(__file__).resolve().parents[2]

# A few short real clips of different kinds, for runs that must stay fast.
SMALL_CLIPS = (
    "fantasy_end0.1.mp4",  # talking head, 848 px portrait, audio
    "liveportrait_d0.mp4",  # no audio
    "nemo_test_video.mp4",  # 2 frames/s, no audio
    "panda_UBdicUlzAng.35.mp4",  # 29.97 frames/s, mp3 audio
    "talkvid_tys_gt.mp4",  # edit list: avg_frame_rate disagrees with the real 25 frames/s
    "panda_vdGG2_5VM9U.2.mp4",
)


def ingest_workflow(*overrides: str) -> Workflow:
    return load_workflow("ingest", WORKFLOW_STAGES, list(overrides))


def run_ingest(source: Path | str, out: Path, executor: str = "local", overrides: tuple[str, ...] = ()) -> RunResult:
    request = RunRequest(input=str(source), out=str(out), workflow=ingest_workflow(*overrides), executor=executor)
    return run_pipeline(request)


def manifest(out: Path | str, table: str = "videos") -> list[dict[str, Any]]:
    return read_manifest(RunStore(str(out)), table).to_pylist()


def rows_by_name(out: Path | str) -> dict[str, dict[str, Any]]:
    """The videos manifest keyed by each input's file name."""
    return {row["uri"].rsplit("/", 1)[-1]: row for row in manifest(out)}


def comparable(rows: list[dict[str, Any]], root: Path | str) -> list[dict[str, Any]]:
    """Rows sorted by URI with the run folder made relative, for comparing two runs."""
    prefix = str(root).rstrip("/") + "/"
    return sorted(
        ({k: (v.removeprefix(prefix) if isinstance(v, str) else v) for k, v in row.items()} for row in rows),
        key=lambda r: (str(r.get("uri")), str(r.get("entity_id"))),
    )


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    # No terminal: rich writes plain lines, and nothing may wait for input.
    env.setdefault("TERM", "dumb")
    env["COLUMNS"] = "200"
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "apps.cli.main", *args]


def run_cli(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``lpm-curate ARGS`` in a fresh interpreter, as a user runs it."""
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env or cli_env(),
        cwd=REPO_ROOT,
    )
