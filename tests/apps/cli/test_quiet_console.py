"""A smoke run on the embedded Ray, as a user runs it: a quiet console, the noise in ``OUT/logs/``.

The session's quiet smoke run (``smoke_run``) and one ``--verbose`` run over one of its talking
heads; the known native and Ray log lines must be absent from the quiet run's console (stdout and
stderr), present in its log files, and on the console of the verbose run.
"""

import json
import re

import pytest

from tests.curation.observed_runs import ALWAYS_PRESENT, all_logs, clip_folder, noise_in
from tests.curation.pipeline_runs import run_cli

# The verbose run needs only one kept talking head to make every kind of noise.
VERBOSE_CLIP = "fantasy_end1.0.mp4"


@pytest.fixture(scope="module")
def runs(smoke_run, shared_media, tmp_path_factory):
    """The session's quiet smoke run (``smoke_run``) and a ``--verbose`` one over one talking head."""
    root = tmp_path_factory.mktemp("console")
    inputs = clip_folder(shared_media, root / "in", (VERBOSE_CLIP,))
    verbose = run_cli("run", "--input", str(inputs), "--out", str(root / "verbose"), "--workflow",
                      "smoke", "--workers", "2", "--verbose", timeout=900)
    assert verbose.returncode == 0, verbose.stdout[-3000:] + verbose.stderr[-3000:]
    return root, smoke_run, verbose


@pytest.mark.slow
def test_quiet_console_holds_no_native_or_ray_log_line(runs):
    _root, quiet, _verbose = runs
    console = quiet.stdout + quiet.stderr
    assert noise_in(console) == {}
    assert quiet.stderr == ""
    # what it does show: the progress of each phase with its speed, and the summary
    # the phase's last row (on a loaded machine the monitor also prints rows while it runs)
    analyse = [line for line in quiet.stdout.splitlines() if line.startswith("analyse")][-1]
    assert re.search(r"4/4 +0\.\d+ h in +\d+\.\d+ h/h \(\d+\.\d+/core\) +ETA 0:00:00 +failed 0", analyse), analyse
    assert "accounting: inputs 5 = kept 3 + rejected 2 + failed 0 OK" in quiet.stdout
    assert re.search(r"h of video analysed at [\d.]+ h per wall hour \([\d.]+ per core, 2 cores\)", quiet.stdout)
    # the warnings that need the user here: one line per capability that runs on a fallback
    # instead of its model, the same ones run.json records (whisper, OpenCLIP and Conv-TasNet are not fetched
    # in the shared models folder; dlib's, Resemblyzer's and learned_sync's weights come with the package)
    recorded = json.loads((quiet.out / "run.json").read_text())["models"]
    fallbacks = [m for m in recorded if "fallback" in m]
    warned = [line for line in quiet.stdout.splitlines() if line.startswith("warning:") and "falls back to" in line]
    assert [f"warning: {m['stage']}: {m['capability']} falls back to {m['fallback']}" for m in fallbacks] == [
        line.split(" (")[0] for line in warned
    ]
    assert {m["capability"] for m in fallbacks} == {
        "transcription", "near-duplicate image embedding", "overlapping speech separation"
    }
    identity = next(m for m in recorded if m["stage"] == "identity")
    assert identity["model"] == "dlib_face_resnet" and len(identity["sha256"]) == 64
    assert f"identity identity embedding: dlib_face_resnet {identity['version']}" in quiet.stdout


@pytest.mark.slow
def test_the_noise_is_in_the_run_logs_per_worker(runs):
    _root, quiet, _verbose = runs
    logs = quiet.out / "logs"
    workers = sorted(logs.glob("worker-*.log"))
    assert (logs / "driver.log").is_file() and len(workers) >= 2, sorted(p.name for p in logs.iterdir())
    found = noise_in(all_logs(quiet.out))
    for name in ALWAYS_PRESENT:
        assert name in found, f"{name} not captured in {logs}"
    # MediaPipe runs in the workers: its lines are in their files, not in the driver's
    assert "face_landmarker_graph" in noise_in("".join(p.read_text() for p in workers))
    assert "face_landmarker_graph" not in noise_in((logs / "driver.log").read_text())


@pytest.mark.slow
def test_verbose_shows_them_on_the_console_and_still_logs_them(runs):
    root, _quiet, verbose = runs
    shown = noise_in(verbose.stdout + verbose.stderr)
    for name in ALWAYS_PRESENT:
        assert name in shown, f"--verbose did not show {name}"
    assert "accounting: inputs 1 = kept 1 + rejected 0 + failed 0 OK" in verbose.stdout
    assert "face_landmarker_graph" in noise_in(all_logs(root / "verbose"))
