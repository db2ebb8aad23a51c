"""The in-process executor and Ray Data give the same manifests for the same inputs."""

from pathlib import Path

import hostile_media as hm
import pytest
from pipeline_runs import comparable, manifest, run_ingest


@pytest.mark.slow
def test_local_and_ray_manifests_are_identical(ray_session: str, small_clip_folder: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    base = hm.av_clip(work / "base.mp4")
    (small_clip_folder / "empty.mp4").write_bytes(b"")
    hm.truncated_mid_mdat(base, small_clip_folder / "truncated.mp4")
    hm.random_bytes(small_clip_folder / "random.mp4")
    hm.audio_only(small_clip_folder / "audio.mp4")
    hm.variable_frame_rate(small_clip_folder / "vfr.mp4")
    (small_clip_folder / "twin.mp4").symlink_to(small_clip_folder / "fantasy_end0.1.mp4")

    local = run_ingest(small_clip_folder, tmp_path / "local", executor="local")
    distributed = run_ingest(small_clip_folder, tmp_path / "ray", executor="ray")

    assert local.accounting == distributed.accounting
    assert (local.accounting.inputs, local.accounting.kept, local.accounting.rejected) == (12, 8, 4)
    for table in ("videos", "rejections", "shots", "tracks"):
        ours = comparable(manifest(tmp_path / "ray", table), tmp_path / "ray")
        assert ours == comparable(manifest(tmp_path / "local", table), tmp_path / "local"), table
