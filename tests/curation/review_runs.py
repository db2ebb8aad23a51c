"""A small real run for the review and export tests, and a review server started as a user does.

The run is made once per test session (``talking_heads_run`` in ``tests/conftest.py``); each test
module works on its own copy (``copy_run``), because both record review verdicts into it.

Importable from tests under ``tests/curation`` (that folder's conftest puts it on ``sys.path``).
"""

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.curation.pipeline_runs import cli_command, cli_env, run_cli

# Two talking heads kept whole, a 15-s and a 20-s one that make several segments, and a clip
# without a face (a rejection with a span to play).
REVIEW_CLIPS = ("fantasy_end0.1.mp4", "talkvid_tys_gt.mp4", "infinitetalk_ref_video.mp4",
                "latentsync_demo3_video.mp4", "panda_1IK5fEEVQdY.102.mp4")


def build_run(root: Path, shared_media: Path, extra: tuple[str, ...] = ()) -> Path:
    """``lpm-curate run --workflow smoke`` over ``REVIEW_CLIPS`` with ``extra`` arguments."""
    inputs = root / "in"
    inputs.mkdir()
    for name in REVIEW_CLIPS:
        (inputs / name).symlink_to(shared_media / name)  # links: media is never copied
    out = root / "run"
    result = run_cli("run", "--input", str(inputs), "--out", str(out), "--workflow", "smoke", "--executor", "local",
                     *extra, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return out


def copy_run(source: Path, root: Path) -> Path:
    """A private copy of a finished run: its manifests and a few MB of shards; the inputs it names
    stay where they are."""
    out = root / "run"
    shutil.copytree(source, out, symlinks=True)
    return out


@contextmanager
def review_server(out: Path, *args: str) -> Iterator[str]:
    """``lpm-curate review OUT --port 0 ARGS`` running; yields its base URL."""
    with review_process(out, *args) as (url, _process):
        yield url.split("/?", 1)[0].rstrip("/")


@contextmanager
def review_process(out: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``lpm-curate review OUT --port 0 ARGS`` running; yields the URL it printed and its process."""
    process = subprocess.Popen(cli_command("review", str(out), "--port", "0", *args), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=cli_env(), stdin=subprocess.DEVNULL)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("reviewing "):
                yield line.rsplit(" ", 1)[-1].strip(), process
                break
        else:
            raise AssertionError("review server did not start: " + "".join(lines)[-2000:])
    finally:
        process.terminate()
        process.wait(timeout=30)
