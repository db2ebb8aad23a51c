import itertools

import numpy as np
import pytest
from identity_fixtures import decode_frames, reencode
from scipy.fft import dct, dctn

from annotators.duplicates.perceptual_hash import (
    _DCT,
    area_resize,
    hamming_distance,
    match_hash_sequences,
    phash64,
    trim_dark_borders,
)

KEY_FRAME_FPS = 2.0
DIFFERENT_CLIPS = (
    "infinitetalk_ref_video", "latentsync_demo3_video", "liveportrait_d0", "liveportrait_d11",
    "panda_1NMpoAqzJfY.25", "panda_4Q8lLQxWgmU.13", "panda_CpO_paJZ9bI.35", "nemo_test_video",
)  # fmt: skip


def _hashes(name: str, max_seconds: float = 6.0) -> list[int | None]:
    return [phash64(f) for f in decode_frames(name, KEY_FRAME_FPS, 256, max_seconds)]


def test_dct_basis_is_scipys_orthonormal_dct():
    signal = np.random.default_rng(0).normal(size=32)
    np.testing.assert_allclose(_DCT @ signal, dct(signal, norm="ortho"), atol=1e-12)


def test_area_resize_averages_blocks_exactly():
    image = np.arange(64 * 96, dtype=np.float64).reshape(64, 96)
    small = area_resize(image, 32)
    assert small.shape == (32, 32)
    np.testing.assert_allclose(small[0, 0], image[:2, :3].mean())
    assert small.mean() == pytest.approx(image.mean())


def test_hash_bits_are_the_low_frequencies_above_their_median_row_by_row():
    frame = decode_frames("liveportrait_d0", KEY_FRAME_FPS, 256, 6.0)[0]
    grey = frame.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    low = dctn(area_resize(trim_dark_borders(grey), 32), norm="ortho")[:8, :8].ravel()
    expected = sum(1 << (63 - i) for i, bit in enumerate(low > np.median(low)) if bit)
    assert phash64(frame) == expected


def test_flat_frames_have_no_hash_and_identical_frames_the_same_one():
    assert phash64(np.full((90, 160, 3), 17, dtype=np.uint8)) is None
    frame = decode_frames("panda_1NMpoAqzJfY.25", KEY_FRAME_FPS, 256, 6.0)[0]
    assert phash64(frame) == phash64(frame.copy())
    assert hamming_distance(0b1011, 0b0110) == 3


def test_letterbox_bars_are_trimmed_before_hashing():
    frame = decode_frames("liveportrait_d11", KEY_FRAME_FPS, 256, 6.0)[0]
    bars = np.zeros((40, frame.shape[1], 3), dtype=np.uint8) + 3
    letterboxed = np.concatenate([bars, frame, bars])
    assert hamming_distance(phash64(letterboxed), phash64(frame)) <= 2
    # Without the trim the bars alone move the hash a lot: the test would notice a broken trim.
    from annotators.duplicates import perceptual_hash

    untrimmed = perceptual_hash.area_resize(perceptual_hash.luma(letterboxed), 32)
    low = (perceptual_hash._DCT @ untrimmed @ perceptual_hash._DCT.T)[:8, :8].ravel()
    untrimmed_hash = sum(1 << (63 - i) for i, bit in enumerate(low > np.median(low)) if bit)
    assert hamming_distance(untrimmed_hash, phash64(frame)) > 8


def test_a_reencoded_rescaled_regraded_copy_matches_frame_for_frame(tmp_path):
    copy = reencode("liveportrait_d11", tmp_path / "copy.mp4", "scale=256:-2,eq=brightness=0.05:saturation=1.3",
                    ("-t", "6"))  # fmt: skip
    match = match_hash_sequences(_hashes(str(copy)), _hashes("liveportrait_d11"))
    assert match.offset == 0
    assert match.matched_fraction == 1.0
    assert match.mean_distance <= 2.0


def test_a_copy_cut_two_seconds_later_is_found_at_its_offset(tmp_path):
    copy = reencode("liveportrait_d11", tmp_path / "late.mp4", "scale=320:-2", ("-ss", "2", "-t", "3"))
    match = match_hash_sequences(_hashes(str(copy)), _hashes("liveportrait_d11"))
    assert match.offset == int(2 * KEY_FRAME_FPS)
    assert match.matched_fraction == 1.0


def test_different_clips_do_not_match():
    sequences = {name: _hashes(name) for name in DIFFERENT_CLIPS}
    for a, b in itertools.combinations(DIFFERENT_CLIPS, 2):
        match = match_hash_sequences(sequences[a], sequences[b])
        assert match.matched_fraction < 0.5, (a, b, match)
        assert match.mean_distance > 15.0, (a, b, match)


def test_sequences_without_informative_frames_cannot_match():
    assert match_hash_sequences([None, None], [1, 2]) is None
    assert match_hash_sequences([], [1]) is None
