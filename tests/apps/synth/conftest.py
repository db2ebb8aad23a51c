"""Session fixtures for the synthetic-video tests: the offline portraits, one FaceLandmarker, and
one small corpus (every video kind once, 8 s each) that the corpus tests inspect."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from synth_media import CORPUS_DURATION_S, CORPUS_SEED

from apps.synth.corpus import generate_corpus, load_portraits
from apps.synth.portraits import Portrait
from apps.synth.still_landmarks import StillFaceLandmarker
from apps.synth.video_kinds import VIDEO_KINDS


@pytest.fixture(scope="session")
def portraits() -> list[Portrait]:
    return load_portraits()


@pytest.fixture(scope="session")
def landmarker() -> Iterator[StillFaceLandmarker]:
    with StillFaceLandmarker(max_faces=3) as model:
        yield model


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth_corpus")
    generate_corpus(out, n_videos=len(VIDEO_KINDS), seed=CORPUS_SEED, duration_s=CORPUS_DURATION_S)
    return out
