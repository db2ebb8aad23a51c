"""Reading every packet finds damage that the header alone hides."""

from pathlib import Path

import hostile_media as hm

from curation.media.demux_check import demux_errors
from curation.media.probe import probe_media


def test_clean_files_read_cleanly(shared_media: Path, tmp_path: Path) -> None:
    assert demux_errors(shared_media / "talkvid_tys_gt.mp4") is None
    assert demux_errors(hm.av_clip(tmp_path / "base.mp4")) is None


def test_file_cut_mid_data_probes_fine_but_fails_the_packet_read(tmp_path: Path) -> None:
    cut = hm.truncated_mid_mdat(hm.av_clip(tmp_path / "base.mp4"), tmp_path / "cut.mp4")
    assert probe_media(cut).n_frames == 50  # the index at the front still promises every frame
    error = demux_errors(cut)
    assert error is not None and "corrupt input packet" in error
