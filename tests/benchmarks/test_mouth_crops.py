"""``benchmarks.mouth_crops``: the lower face cut from a face box, and the crops of a real shared talking head."""

from pathlib import Path

import numpy as np
import pytest

from apps.bench.sync_corpus_features import FeatureClip, extract
from benchmarks.mouth_crops import CROP_SHAPE, clip_arrays_with_crops, lower_face_crop


def test_the_crop_holds_the_lower_face_not_the_eyes() -> None:
    grey = np.full((200, 300), 128, np.uint8)
    box = np.array([100, 40, 200, 160]) / [300, 200, 300, 200]  # a 100 x 120 px face
    grey[70:80, 120:180] = 0  # the eyes, in the upper half of the box
    grey[130:140, 130:170] = 255  # the mouth, three quarters down
    crop = lower_face_crop(grey, box)
    assert crop is not None and crop.shape == CROP_SHAPE
    assert crop.max() == 255 and crop.min() > 0  # the mouth is in it, the eyes are not


def test_a_box_at_the_frame_edge_is_padded_and_a_tiny_one_refused() -> None:
    grey = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    assert lower_face_crop(grey, np.array([0.7, 0.6, 1.0, 1.0])).shape == CROP_SHAPE
    assert lower_face_crop(grey, np.array([0.5, 0.5, 0.51, 0.51])) is None


@pytest.mark.slow
def test_every_context_frame_of_a_real_talking_head_gets_its_crop(shared_media: Path, tmp_path: Path) -> None:
    clip = FeatureClip(shared_media / "fantasy_end1.0.mp4", "fantasy", "fantasy_woman")
    extract([clip], tmp_path / "cache", tmp_path / "work", arrays_of=clip_arrays_with_crops)
    with np.load(tmp_path / "cache" / "fantasy_end1.0.npz") as data:
        n = int(data["ctx_len"].sum())
        assert data["crops"].shape == (n, *CROP_SHAPE) and data["crop_ok"].shape == (n,)
        assert data["crop_ok"].mean() > 0.95  # one face, in view throughout
        crops = data["crops"][data["crop_ok"]].astype(np.float32)
        # a mouth that speaks: the crops change from frame to frame, more than a still picture's noise
        assert np.abs(np.diff(crops, axis=0)).mean() > 1.0
