"""Project-wide fixtures: the shared media and models beside the checkout, and one local Ray.

The media and models live in ``../shared`` (next to the repository, never inside it);
``LPM_SHARED_MEDIA`` points the tests at another media folder. One Ray session serves the whole
test run, because starting Ray costs seconds and two Ray instances cannot share a process.
"""

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.curation.observed_runs import MIXED_CLIPS, ScrapedRun, clip_folder, run_scraping_metrics
from tests.curation.pipeline_runs import SMALL_CLIPS
from tests.curation.review_runs import build_run
from tests.stages.two_camera_runs import build_two_camera_run

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
MODELS_ENV = "LPM_MODELS_DIR"


@dataclass(frozen=True)
class MediaEntry:
    """One row of ``MANIFEST.csv``: what the shared clip is known to be."""

    file: str
    label: str  # talking_head | no_face | face_other | multi_face
    duration_s: float
    has_audio: bool
    source_repo: str


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``ci_core`` keeps a slow test in CI's suite (``bash bootstrap.sh test``: ``not slow or
    ci_core``); on a test not marked slow it would say nothing, so it is refused there."""
    unmarked = [
        item.nodeid for item in items if item.get_closest_marker("ci_core") and not item.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError(f"marked ci_core but not slow: {', '.join(unmarked)}")


def shared_media_dir() -> Path:
    override = os.environ.get("LPM_SHARED_MEDIA")
    return Path(override) if override else SHARED_DIR / "media"


@pytest.fixture(scope="session")
def shared_media() -> Path:
    folder = shared_media_dir()
    if not (folder / "MANIFEST.csv").is_file():
        # A missing corpus is a broken checkout, not a reason to skip: fail and say where to look.
        pytest.fail(f"shared media not found at {folder} (expected ../shared/media or LPM_SHARED_MEDIA)")
    return folder


@pytest.fixture(scope="session")
def media_manifest(shared_media: Path) -> list[MediaEntry]:
    with (shared_media / "MANIFEST.csv").open(newline="", encoding="utf-8") as f:
        return [
            MediaEntry(
                file=row["file"],
                label=row["label"],
                duration_s=float(row["duration_s"]),
                has_audio=row["has_audio"] == "True",
                source_repo=row["source_repo"],
            )
            for row in csv.DictReader(f)
        ]


@pytest.fixture(scope="session", autouse=True)
def models_dir() -> Iterator[Path]:
    """``LPM_MODELS_DIR`` for every test and every subprocess a test starts.

    An explicit ``LPM_MODELS_DIR`` (CI's bootstrap sets it) wins; otherwise ``../shared/models``.
    """
    previous = os.environ.get(MODELS_ENV)
    folder = Path(previous) if previous else SHARED_DIR / "models"
    os.environ[MODELS_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(MODELS_ENV, None)
    else:
        os.environ[MODELS_ENV] = previous


@pytest.fixture(scope="session")
def ray_session() -> Iterator[str]:
    """A local two-CPU Ray shared by every test that needs one; yields its GCS address."""
    import ray

    if not ray.is_initialized():
        # address="local": never join another Ray that happens to run on this machine.
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def small_clip_folder(shared_media: Path, tmp_path: Path) -> Path:
    """A folder of symlinks to a few shared clips (links, so nothing is copied)."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in SMALL_CLIPS:
        (folder / name).symlink_to(shared_media / name)
    return folder


@pytest.fixture(scope="session")
def smoke_run(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> ScrapedRun:
    """One quiet ``lpm-curate run --workflow smoke --workers 2`` on the embedded Ray over every kind
    of outcome (``MIXED_CLIPS`` and an empty file), its endpoint scraped while it runs.

    Shared by the tests of what a run shows and leaves (the quiet console, the metrics and their
    totals, the run report) and by ``--match-run``'s test as its earlier run: they only read it,
    and one run instead of one each keeps the suite inside its time budget.
    """
    root = tmp_path_factory.mktemp("smoke")
    inputs = clip_folder(shared_media, root / "in", MIXED_CLIPS, empty_file=True)
    return run_scraping_metrics(inputs, root / "run", "--workflow", "smoke", "--workers", "2")


@pytest.fixture(scope="session")
def talking_heads_run(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished smoke run over ``REVIEW_CLIPS`` (four people talking, two of them long enough
    for several segments, and a rejection), in shards of about 400 kB so that there are several.

    Made once for the review and export tests, which each work on a copy (both record verdicts),
    and for the trainer's test on pipeline shards, which only reads it."""
    return build_run(tmp_path_factory.mktemp("talking_heads"), shared_media,
                     extra=("--set", "samples.shard_target_bytes=400000"))


@pytest.fixture(scope="session")
def two_camera_run(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default run over a conversation filmed by two cameras (two files, offset and cropped
    differently) and an unrelated conversation sharing one of its voices
    (``tests/stages/two_camera_runs.py``). Made once for the cross-video pairs test and for the
    trainer's pairs mode, which both only read it."""
    return build_two_camera_run(shared_media, tmp_path_factory.mktemp("two_cameras"))
