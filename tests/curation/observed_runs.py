"""Input folders, output patterns and the one shared smoke run of the tests of what a run shows,
logs and measures."""

import re
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from curation.telemetry.ray_metrics import parse_counters
from tests.curation.pipeline_runs import REPO_ROOT, cli_command, cli_env

# Two kept talking heads, a kept clip without audio, a clip with no face (rejected by the
# performer filter) and, with ``empty_file``, an empty file (rejected at ingest): every kind of
# outcome, in well under a minute. fantasy_end1.0, not end0.1: end0.1's lips lag its audio, so its
# one speaking segment is rejected out_of_sync (tests/stages/test_states_lip_sync.py), and these
# tests count the talking heads kept.
MIXED_CLIPS = ("fantasy_end1.0.mp4", "talkvid_tys_gt.mp4", "liveportrait_d0.mp4", "panda_vdGG2_5VM9U.2.mp4")

# Lines that native libraries and Ray print on their own: none may reach a quiet console.
NOISE_PATTERNS = {
    "glog line": re.compile(r"^[IWEF]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\]", re.M),
    "face_landmarker_graph": re.compile(r"face_landmarker_graph\.cc"),
    "XNNPACK delegate": re.compile(r"Created TensorFlow Lite XNNPACK delegate"),
    "inference_feedback_manager": re.compile(r"inference_feedback_manager\.cc"),
    "LiteRT INFO": re.compile(r"^INFO: \[\w+\.cc:\d+\]", re.M),
    "Ray token authentication": re.compile(r"Token authentication is enabled"),
    "Ray Data progress bars": re.compile(r"Progress bars disabled"),
    "Ray core worker": re.compile(r"core_worker\.cc:\d+"),
}

# The ones every smoke run on the embedded Ray produces (MediaPipe, in the workers). The driver has
# none it always prints: Ray's token warning comes and goes, and Ray Data, whose progress-bar line
# it always printed, no longer runs the stages.
ALWAYS_PRESENT = ("face_landmarker_graph", "XNNPACK delegate", "inference_feedback_manager")


def clip_folder(shared_media: Path, folder: Path, names: tuple[str, ...], empty_file: bool = False) -> Path:
    """Symlinks to shared clips (never copies), plus an empty ``empty.mp4`` when asked."""
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).symlink_to(shared_media / name)
    if empty_file:
        (folder / "empty.mp4").write_bytes(b"")
    return folder


def noise_in(text: str) -> dict[str, list[str]]:
    """Pattern name -> the first few lines of ``text`` it matches."""
    found = {}
    for name, pattern in NOISE_PATTERNS.items():
        lines = [line for line in text.splitlines() if pattern.search(line)]
        if lines:
            found[name] = lines[:3]
    return found


def all_logs(out: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted((out / "logs").glob("*.log*")))


@dataclass(frozen=True)
class ScrapedRun:
    """A ``lpm-curate run`` as a user starts it, with what its Prometheus endpoint showed meanwhile."""

    inputs: Path
    out: Path
    stdout: str
    stderr: str
    scrapes: list[float]  # the endpoint's ``lpm_videos_done_total`` while the run was going
    pool_scrapes: list[dict[tuple[str, tuple[tuple[str, str], ...]], float]]  # its lpm_pool_* gauges, same scrapes


def videos_done(prometheus_text: str) -> float:
    return sum(v for (name, _labels), v in parse_counters(prometheus_text).items() if name == "lpm_videos_done_total")


def pool_gauges(prometheus_text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(gauge name without Ray's prefix, sorted labels of ours) -> value, for the pool gauges."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(prometheus_text):
        for sample in family.samples:
            name = sample.name.removeprefix("ray_")
            if name in ("lpm_pool_queued", "lpm_pool_actors"):
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k in ("pool", "state")))
                found[(name, labels)] = float(sample.value)
    return found


def run_scraping_metrics(inputs: Path, out: Path, *args: str, timeout: float = 900) -> ScrapedRun:
    """``lpm-curate run --input INPUTS --out OUT ARGS`` in a fresh interpreter, reading the
    Prometheus endpoint the run prints every half second until it ends."""
    process = subprocess.Popen(
        cli_command("run", "--input", str(inputs), "--out", str(out), *args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
    )
    lines: list[str] = []
    errors: list[str] = []
    # both pipes drained by threads, so a chatty stderr can never block the run
    readers = [threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True),
               threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)]
    for reader in readers:
        reader.start()
    scrapes: list[float] = []
    pools: list[dict[tuple[str, tuple[tuple[str, str], ...]], float]] = []
    url = None
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if url is None:
            found = [m.group(1) for line in list(lines) if (m := re.search(r"Prometheus metrics: (\S+)", line))]
            url = found[0] if found else None
        if url is not None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    text = response.read().decode()
                if process.poll() is None:
                    scrapes.append(videos_done(text))
                    pools.append(pool_gauges(text))
            except OSError:
                pass
        time.sleep(0.5)
    process.wait(timeout=60)
    for reader in readers:
        reader.join(timeout=10)
    stdout, stderr = "".join(lines), "".join(errors)
    assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    return ScrapedRun(inputs=inputs, out=out, stdout=stdout, stderr=stderr, scrapes=scrapes, pool_scrapes=pools)
