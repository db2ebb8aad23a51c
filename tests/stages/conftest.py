"""Inputs several stage tests share."""

import json
from pathlib import Path

import pytest

from apps.bench.spliced_conversations import build_spliced_set
from apps.bench.talking_head_sources import load_talking_heads
from curation.runtime.video_work import VideoWork


@pytest.fixture(scope="session")
def conversation(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, VideoWork]:
    """Seed 0's first spliced conversation of ``bench speaking`` (A speaks; B's moving lips under
    A's voice; A idle; B held still under A's voice; A's moving lips under B's voice; B speaks),
    with its truth, analysed up to the speech stage. Tests deep-copy the work before changing it."""
    from apps.bench.speaking_bench import analyse, bench_stages

    out = tmp_path_factory.mktemp("conversation")
    (truth_path,) = build_spliced_set(load_talking_heads(shared_media), out, n_videos=1, seed=0)
    truth = json.loads(truth_path.read_text())
    return truth, analyse(out / truth["video"], bench_stages()[:-1], out / "store")
