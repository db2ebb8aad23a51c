"""Reading every packet finds damage that the header alone hides, with ffmpeg or in process."""

from collections.abc import Callable
from pathlib import Path

import hostile_media as hm
import pytest

from curation.media.demux_check import demux_errors, demux_errors_inprocess
from curation.media.probe import probe_media

CHECKS = pytest.mark.parametrize("check", [demux_errors, demux_errors_inprocess])


@CHECKS
def test_clean_files_read_cleanly(shared_media: Path, tmp_path: Path, check: Callable[..., str | None]) -> None:
    assert check(shared_media / "talkvid_tys_gt.mp4") is None
    assert check(hm.av_clip(tmp_path / "base.mp4")) is None


@CHECKS
def test_file_cut_mid_data_probes_fine_but_fails_the_packet_read(
    tmp_path: Path, check: Callable[..., str | None]
) -> None:
    cut = hm.truncated_mid_mdat(hm.av_clip(tmp_path / "base.mp4"), tmp_path / "cut.mp4")
    assert probe_media(cut).n_frames == 50  # the index at the front still promises every frame
    # The first audio packet past the cut comes back short, flagged corrupt by the demuxer.
    assert check(cut) == "corrupt input packet in stream 1"


def test_a_file_that_does_not_open_is_described_in_ffmpegs_words(tmp_path: Path) -> None:
    no_moov = hm.without_moov(hm.av_clip(tmp_path / "base.mp4"), tmp_path / "no_moov.mp4")
    expected = "mov,mp4,m4a,3gp,3g2,mj2: moov atom not found | Invalid data found when processing input"
    assert demux_errors(no_moov) == demux_errors_inprocess(no_moov) == expected
