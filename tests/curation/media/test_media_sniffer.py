"""The sniffer names what a non-video file is from its first bytes, and leaves media alone."""

from pathlib import Path

import hostile_media as hm
import pytest

from curation.media.media_sniffer import looks_like_mp4, sniff_non_video
from schemas.reasons import Reason


@pytest.mark.parametrize(
    ("head", "reason", "words"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(40), Reason.NOT_A_VIDEO, "PNG image"),
        (b"GIF89a" + bytes(40), Reason.NOT_A_VIDEO, "GIF image"),
        (b"%PDF-1.7\n", Reason.NOT_A_VIDEO, "PDF document"),
        (b"PK\x03\x04" + bytes(40), Reason.NOT_A_VIDEO, "ZIP archive"),
        ("\ufeff  #EXTM3U\n#EXTINF:1,\nx.ts\n".encode(), Reason.UNSUPPORTED_CONTAINER, "HLS/M3U playlist"),
        (b"ffconcat version 1.0\nfile 'a.mp4'\n", Reason.UNSUPPORTED_CONTAINER, "concat script"),
        (b"file '/etc/hostname'\n", Reason.UNSUPPORTED_CONTAINER, "concat script"),
        (b'<?xml version="1.0"?><MPD></MPD>', Reason.UNSUPPORTED_CONTAINER, "XML document"),
        ("subtitles, été 日本 ".encode() * 40, Reason.NOT_A_VIDEO, "plain text"),
    ],
)
def test_non_video_heads_are_named(tmp_path: Path, head: bytes, reason: Reason, words: str) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(head)
    found = sniff_non_video(path)
    assert found is not None and found[0] == reason and words in found[1]


def test_jpeg_is_an_image(tmp_path: Path) -> None:
    found = sniff_non_video(hm.jpeg_image(tmp_path / "x.mp4"))
    assert found == (Reason.NOT_A_VIDEO, "the file is a JPEG image, not a video")


def test_media_and_binary_data_pass_to_ffprobe(shared_media: Path, tmp_path: Path) -> None:
    assert sniff_non_video(shared_media / "fantasy_end0.1.mp4") is None
    assert sniff_non_video(hm.random_bytes(tmp_path / "r.mp4")) is None


def test_text_cut_mid_character_at_the_read_boundary_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(b"a" * 511 + "é".encode() + b"more")  # the 512-byte head ends inside "é"
    assert sniff_non_video(path) == (Reason.NOT_A_VIDEO, "the file is plain text, not a video")


def test_looks_like_mp4_tells_a_damaged_mp4_from_random_bytes(tmp_path: Path) -> None:
    base = hm.av_clip(tmp_path / "base.mp4")
    assert looks_like_mp4(hm.without_moov(base, tmp_path / "no_moov.mp4"))
    assert not looks_like_mp4(hm.random_bytes(tmp_path / "random.mp4"))
    (tmp_path / "tiny.mp4").write_bytes(b"ftyp")
    assert not looks_like_mp4(tmp_path / "tiny.mp4")
