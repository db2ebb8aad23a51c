"""Fixtures for the runtime tests (ingest, media, run, runtime, config, manifests, models).

pytest puts this folder on ``sys.path`` when it loads this file, which is what lets the tests below
it import the helper modules beside it (``hostile_media``, ``pipeline_runs``).
"""

from pathlib import Path

import pytest
from pipeline_runs import SMALL_CLIPS


@pytest.fixture
def small_clip_folder(shared_media: Path, tmp_path: Path) -> Path:
    """A folder of symlinks to a few shared clips (links, so nothing is copied)."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in SMALL_CLIPS:
        (folder / name).symlink_to(shared_media / name)
    return folder
