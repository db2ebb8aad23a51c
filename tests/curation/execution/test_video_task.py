"""A block holds its video's node copy pinned while its stages run and releases it when done, even
when a stage raised; a copy the node cache cannot hold fails the video as an infrastructure fault."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import fsspec
import pytest

from curation.execution.video_task import VideoTask, run_block
from curation.ingest.local_copy import cache_dir, local_media
from curation.ingest.node_cache import NodeCache
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork


@dataclass
class OpensMedia(Stage):
    """Opens the video's media; records whether its copy is pinned meanwhile; raises if asked."""

    name: ClassVar[str] = "opens_media"
    raise_after: bool = False

    def process(self, work: VideoWork) -> VideoWork:
        path = Path(local_media(work))
        work.detail = repr(NodeCache(path.parent).stats().entries[path.name].pins)
        if self.raise_after:
            raise ValueError("the frames do not decode")
        return work


@pytest.fixture
def remote_clip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("LPM_CACHE_DIR", str(tmp_path / "node"))
    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/clip.mp4", b"v" * 5000)
    yield "memory://bucket/clip.mp4"
    fs.rm("/bucket", recursive=True)


@pytest.mark.parametrize("raise_after", [False, True], ids=["finished", "stage-raised"])
def test_the_copy_is_pinned_during_the_block_and_released_after(remote_clip: str, raise_after: bool) -> None:
    task = VideoTask(remote_clip, "abc", "/run", 0, True, node_cache_bytes=10_000)
    work = run_block([OpensMedia(raise_after=raise_after)], VideoWork(uri=remote_clip, video_id="abc"), task)
    entries = NodeCache(cache_dir()).stats().entries
    assert entries["abc.mp4"].pins == []  # released: the next videos may evict it
    if raise_after:
        assert (work.state, work.failure_kind) == ("failed", "content")
    else:
        assert work.detail == repr([os.getpid()])  # pinned by this process while the stage ran


def test_a_copy_bigger_than_the_node_cache_fails_the_video_as_infrastructure(remote_clip: str) -> None:
    task = VideoTask(remote_clip, "abc", "/run", 0, True, node_cache_bytes=1000)
    work = run_block([OpensMedia()], VideoWork(uri=remote_clip, video_id="abc"), task)
    assert (work.state, work.failure_kind) == ("failed", "infra")
    assert "bigger than the node cache's bound of 1000 bytes" in (work.detail or "")
