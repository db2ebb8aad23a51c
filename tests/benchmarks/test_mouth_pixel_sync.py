"""``benchmarks.mouth_pixel_sync``: a pixel network held out by groups of sources beside the shipped scores,
on a tiny cache whose mouth crops follow the sound."""

from pathlib import Path

import numpy as np
import pytest

from apps.bench.learned_sync_training import TrainSettings, load_features
from benchmarks.mouth_crops import CROP_SHAPE
from benchmarks.mouth_pixel_sync import (
    augmented,
    load_crops,
    main,
    run,
    source_groups,
    standardised,
    train_pixel,
)
from tests.apps.bench.tiny_sync_features import weights_digest, write_tiny_features

TINY = TrainSettings(steps=3, batch=4, window=40)


def add_crops(folder: Path) -> None:
    """A bright mouth whose height is the clip's mouth opening, in every cached clip."""
    for path in folder.glob("*.npz"):
        with np.load(path) as data:
            arrays = dict(data)
        opening = arrays["signals"][:, 0]
        crops = np.full((len(opening), *CROP_SHAPE), 60, np.uint8)
        for i, x in enumerate(opening):
            half = int(round(2 + 6 * x / max(opening.max(), 1e-6)))
            crops[i, 16 - half : 16 + half, 12:36] = 220
        arrays["crops"], arrays["crop_ok"] = crops, np.ones(len(opening), bool)
        np.savez(path, **arrays)


def test_each_score_is_reported_held_out_for_every_segment(tmp_path: Path) -> None:
    folder = write_tiny_features(tmp_path / "features", clips=4)
    add_crops(folder)
    report = run(folder, TINY, width=4, groups=2, learned_members=1, with_match=False)
    assert sorted(s for group in report["groups"] for s in group) == [f"source{k}" for k in range(4)]
    assert report["pairs"] == 4 * 4  # each segment under its own voice and up to 6 foreign ones (3 exist)
    for name, figures in report["scores"].items():
        assert figures["dubbed_segments"] == 4 * 3, name  # the three other people's voices
        assert 0.0 <= figures["auc"] <= 1.0, name
    # every pair was scored by networks that never saw its group
    assert all(x is not None for x in report["rows"]["mouth_pixels"])


def test_pixel_training_is_seeded(tmp_path: Path) -> None:
    folder = write_tiny_features(tmp_path / "features")
    add_crops(folder)
    features = load_features(folder)
    crops = load_crops(folder, features)
    digests = [weights_digest(train_pixel(features, crops, TINY, width=4), tmp_path / f"{k}.npz") for k in range(2)]
    assert digests[0] == digests[1]


def test_crops_are_standardised_per_context_and_absent_faces_are_zero() -> None:
    crops = np.stack([np.full(CROP_SHAPE, v, np.uint8) for v in (10, 20, 30, 200)])
    out = standardised(crops, np.array([True, True, True, False]))
    assert out[3].max() == 0 and abs(out[:3].mean()) < 1e-5 and out[2].mean() > out[0].mean()
    assert augmented(out[:3], np.random.default_rng(0)).shape == out[:3].shape


def test_groups_balance_segment_counts(tmp_path: Path) -> None:
    features = load_features(write_tiny_features(tmp_path / "features", clips=5))
    groups = source_groups(features, 2)
    assert sorted(len(g) for g in groups) == [2, 3] and len(source_groups(features, 9)) == 5


def test_a_cache_without_crops_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_tiny_features(tmp_path / "features")
    with pytest.raises(ValueError, match=r"clip0\.npz: cached without mouth crops"):
        main(["--features", str(folder)])
