"""``source_frames``: the frames ``decode_frames`` gives, decoded in this process and converted only
when a pass asks, so a pass can change its rate on any frame.

Checked against ffmpeg's pipe on clips of every kind of rate here (23.976 fps, 25 fps with a
ragged average, 30 fps, 2 fps, variable): the same frames, bit for bit where no scaling is needed;
rotated video upright; files that do not decode end in a clear ``MediaToolError``. Scaled frames
differ from ffmpeg's by a fraction of a grey level on average: PyAV brings its own FFmpeg
libraries (8.x) whose swscale rounds differently from Debian's ffmpeg 5.1."""

import itertools
from pathlib import Path

import hostile_media as hm
import numpy as np
import pytest

from curation.media.ffmpeg_runner import MediaTimeoutError, MediaToolError
from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.media.source_frames import RateSelector, decode_frames_inprocess, lazy_frames_inprocess, source_frames

# fantasy: 23.976 fps; cosmos: 25 fps with a ragged average rate; panda: 30 fps; nemo: 2 fps
CLIPS = ("fantasy_end0.1.mp4", "cosmos_test_video_30s.mp4", "panda_Mzl-wJTRtBg.16.mp4", "nemo_test_video.mp4")


# Compared per clip: its first 10 s (the whole of most clips here), to keep the suite short.
SECONDS = 10


def selected(path: str, fps: float, short_side: int) -> tuple[list[np.ndarray], AnalysisGeometry]:
    frames: list[np.ndarray] = []
    limit = round(SECONDS * fps)
    selector = RateSelector(fps)
    geometry = None
    for frame in source_frames(path):
        geometry = geometry or AnalysisGeometry.for_source(frame.display_width, frame.display_height, short_side)
        frames += [frame.rgb(geometry)] * selector.take(frame)
        if len(frames) >= limit:
            break
    assert geometry is not None
    return frames[:limit], geometry


def assert_same_frames_as_ffmpeg(path: str, fps: float = 25.0, short_side: int = 512, levels: float = 0.0) -> None:
    """The same number of frames, each the same picture: equal bytes, or within ``levels`` grey
    levels on average where a scaler ran (and the same frame, not its neighbour, which differs
    by far more in moving video)."""
    mine, geometry = selected(path, fps, short_side)
    decoded = decode_frames(path, geometry, fps, 600)
    theirs = [f.rgb for f in itertools.islice(decoded, len(mine))]
    decoded.close()  # ends ffmpeg
    assert len(mine) == len(theirs)
    differences = [np.abs(a.astype(np.int16) - b).mean() for a, b in zip(mine, theirs, strict=True)]
    differing = [(i, round(float(d), 2)) for i, d in enumerate(differences) if d > levels]
    assert differing == [], f"{len(differing)} frames differ, first {differing[:5]}"


@pytest.mark.parametrize("clip", CLIPS)
def test_the_frames_of_a_25_fps_pass_are_ffmpegs_bit_for_bit(shared_media: Path, clip: str) -> None:
    assert_same_frames_as_ffmpeg(str(shared_media / clip))


def test_a_coarse_pass_takes_ffmpegs_frames_at_5_fps_and_256_px(shared_media: Path) -> None:
    assert_same_frames_as_ffmpeg(str(shared_media / "panda_Mzl-wJTRtBg.16.mp4"), fps=5.0, short_side=256, levels=1.0)


def test_variable_frame_rate_and_rotation_match_ffmpeg(tmp_path: Path) -> None:
    assert_same_frames_as_ffmpeg(str(hm.variable_frame_rate(tmp_path / "vfr.mp4")))
    rotated = hm.rotated_clockwise_90(hm.marker_clip(tmp_path / "marker.mp4"), tmp_path / "rotated.mp4")
    assert_same_frames_as_ffmpeg(str(rotated), short_side=120)
    (frame, *_rest) = source_frames(str(rotated))
    assert (frame.display_width, frame.display_height) == (120, 160)  # 160x120 turned upright


def test_two_passes_share_one_decode_and_a_frame_converts_once_per_size(shared_media: Path) -> None:
    coarse, fine = RateSelector(5.0), RateSelector(25.0)
    small = big = None
    taken = {"coarse": 0, "fine": 0}
    for frame in source_frames(str(shared_media / "fantasy_end0.1.mp4")):
        small = small or AnalysisGeometry.for_source(frame.display_width, frame.display_height, 256)
        big = big or AnalysisGeometry.for_source(frame.display_width, frame.display_height, 512)
        if slots := coarse.take(frame):
            taken["coarse"] += slots
            assert frame.rgb(small) is frame.rgb(small)  # converted once
        if slots := fine.take(frame):
            taken["fine"] += slots
            assert frame.rgb(big).shape == (big.height, big.width, 3)
    assert taken == {"coarse": 18, "fine": 88}  # 3.52 s at 5 and at 25 fps, from one decode


def test_a_released_frame_keeps_its_conversions_and_refuses_new_ones(shared_media: Path) -> None:
    frame = next(iter(source_frames(str(shared_media / "fantasy_end0.1.mp4"))))
    small = AnalysisGeometry.for_source(frame.display_width, frame.display_height, 128)
    kept = frame.rgb(small)
    frame.release()
    assert frame.rgb(small) is kept
    with pytest.raises(ValueError, match="released"):
        frame.rgb(AnalysisGeometry.for_source(frame.display_width, frame.display_height, 256))


def test_files_that_do_not_decode_raise_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for bad in (empty, hm.random_bytes(tmp_path / "noise.mp4"), hm.audio_only(tmp_path / "audio.mp4")):
        with pytest.raises(MediaToolError, match=r"ffmpeg libraries \(PyAV\)"):
            list(source_frames(str(bad)))


def test_a_file_cut_mid_stream_ends_where_decoding_fails(tmp_path: Path) -> None:
    whole = hm.av_clip(tmp_path / "whole.mp4", seconds=2.0)
    cut = hm.truncated_mid_mdat(whole, tmp_path / "cut.mp4")
    frames = list(source_frames(str(cut)))
    assert 0 < len(frames) < len(list(source_frames(str(whole))))


def test_decode_frames_inprocess_gives_decode_frames_indices_times_and_pictures(shared_media: Path) -> None:
    clip = str(shared_media / "fantasy_end0.1.mp4")
    geometry = AnalysisGeometry.for_source(480, 848, 256)  # scaled: within a grey level
    piped = list(decode_frames(clip, geometry, 25.0, 60))
    inprocess = list(decode_frames_inprocess(clip, geometry, 25.0, 60))
    assert [(f.index, f.t) for f in inprocess] == [(f.index, f.t) for f in piped]
    assert max(np.abs(a.rgb.astype(np.int16) - b.rgb).mean() for a, b in zip(piped, inprocess, strict=True)) < 1.0
    assert not inprocess[0].rgb.flags.writeable  # as the pipe's frames: a shared repeated frame stays intact


def test_decode_frames_inprocess_stops_past_its_time_limit(shared_media: Path) -> None:
    frames = decode_frames_inprocess(str(shared_media / "fantasy_end0.1.mp4"), AnalysisGeometry(64, 64, 0.1), 25.0, 0)
    with pytest.raises(MediaTimeoutError, match="longer than 0 s"):
        list(frames)


@pytest.mark.parametrize("clip", ["panda_Mzl-wJTRtBg.16.mp4", "v2d_test_video.mp4"])  # H.264 with B-frames
def test_frames_not_wanted_may_be_skipped_and_the_wanted_ones_are_the_same_pictures(shared_media: Path, clip: str):
    # the coarse pass's frames (every fifth) and the frame before each, as the analysis asks
    path = str(shared_media / clip)
    wanted = [k for k in range(300) if k % 5 in (0, 4)]
    every = list(itertools.islice(lazy_frames_inprocess(path, None, 25.0, 600), 300))
    lean = list(itertools.islice(lazy_frames_inprocess(path, None, 25.0, 600, wanted=lambda k: k % 5 in (0, 4)), 300))
    assert [(f.index, f.t) for f in lean] == [(f.index, f.t) for f in every]
    geometry = AnalysisGeometry.for_source(every[0].picture.display_width, every[0].picture.display_height, 256)
    for k in wanted:
        assert np.array_equal(lean[k].rgb(geometry), every[k].rgb(geometry)), k
    # the codec skipped some of the others: their frames show the picture before them
    pictures = {id(f.picture) for f in lean}
    assert len(pictures) < len({id(f.picture) for f in every})


def test_a_small_picture_to_measure_is_the_scaled_frame_with_the_same_luma(shared_media: Path, tmp_path: Path):
    rotated = hm.rotated_clockwise_90(hm.marker_clip(tmp_path / "marker.mp4"), tmp_path / "rotated.mp4")
    for path in (str(shared_media / "panda_Mzl-wJTRtBg.16.mp4"), str(rotated)):
        for frame in itertools.islice(source_frames(path), 0, 50, 10):
            geometry = AnalysisGeometry.for_source(frame.display_width, frame.display_height, 64)
            small, exact = frame.small(geometry), frame.rgb(geometry)
            assert small.shape == exact.shape and small is frame.small(geometry)  # converted once
            assert np.abs(small.astype(np.int16) - exact).mean() < 2.5  # chroma interpolated otherwise
            grey = small.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
            assert abs(grey.mean() - (exact.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])).mean()) < 0.5


@pytest.mark.parametrize("clip", ["infinitetalk_ref_video.mp4", "cosmos_test_video_30s.mp4"])
def test_pictures_are_one_block_whatever_the_row_length(shared_media: Path, clip: str) -> None:
    """PyAV pads a row of 458, 854 or 910 RGB pixels to a multiple of 32 bytes; ``mp.Image`` reads
    unpadded rows, so a padded picture reached the landmarker sheared. The in-process model floor
    passed its frames as they came and landmarked none of this talking head's 375 faces."""
    import mediapipe as mp

    from annotators.models.landmarker_results import detect_faces
    from tests.annotators.models.test_landmarker_results import _landmarker

    path = str(shared_media / clip)
    frames = list(itertools.islice(lazy_frames_inprocess(path, None, 25.0, 600), 0, 200, 40))
    source = frames[0].picture
    geometry = AnalysisGeometry.for_source(source.display_width, source.display_height, 512)
    small = AnalysisGeometry.for_source(source.display_width, source.display_height, 256)
    assert (geometry.width * 3) % 32 != 0  # a padded row (and the small picture's too on the cosmos clip)
    for frame in frames:
        assert frame.rgb(geometry).flags.c_contiguous and frame.small(small).flags.c_contiguous
    if clip.startswith("infinitetalk"):  # a talking head from the first frame: a face on each one taken
        with _landmarker(video=False) as task:
            found = [detect_faces(task, mp.Image(image_format=mp.ImageFormat.SRGB, data=f.rgb(geometry)), None)
                     for f in frames]
        assert all(len(faces) == 1 for faces in found)
