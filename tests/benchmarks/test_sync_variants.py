"""``benchmarks.sync_variants``: each variant scored held out by source, on a tiny feature cache."""

from pathlib import Path

import numpy as np
import pytest

from annotators.models.learned_sync_network import load_weights, save_weights
from apps.bench.learned_sync_training import TrainSettings, load_features, train
from benchmarks.sync_variants import main, run_variant
from tests.apps.bench.test_learned_sync_training import write_tiny_features

TINY = TrainSettings(steps=3, batch=4, window=40)


def add_blendshapes(folder: Path) -> None:
    """Give every cached clip 17 mouth blendshape columns (the opening, scaled: they follow the lips)."""
    for path in folder.glob("*.npz"):
        with np.load(path) as data:
            arrays = dict(data)
        arrays["blend"] = np.repeat(arrays["signals"][:, :1], 17, axis=1) * np.linspace(0.1, 1, 17, dtype=np.float32)
        np.savez(path, **arrays)


def test_each_variant_reports_held_out_figures(tmp_path: Path) -> None:
    folder = write_tiny_features(tmp_path / "features", clips=4)
    add_blendshapes(folder)
    for name in ("shipped", "wide_null", "with_av_sync", "blendshapes"):
        report = run_variant(name, folder, voices=2, base=TINY)
        # every source held out once: 4 genuine segments and 2 dubs of each
        assert report["dubbed_segments"] == 8, name
        assert 0.0 <= report["auc"] <= 1.0 and 0.0 <= report["genuine_frames_kept"] <= 1.0, name


def test_blendshapes_widen_the_network_and_its_weight_file_says_so(tmp_path: Path) -> None:
    folder = write_tiny_features(tmp_path / "features")
    add_blendshapes(folder)
    features = load_features(folder, with_blendshapes=True)
    assert features.segments[0].signals.shape[1] == 3 + 17
    network = train(features, TINY)
    save_weights(network, tmp_path / "wide.npz")
    assert load_weights(tmp_path / "wide.npz")[0].config["visual_channels"] == 40
    # the shipped layout writes no such key, so its weight bytes are as before
    assert "visual_channels" not in train(load_features(folder), TINY).config


def test_a_cache_without_blendshapes_is_named_not_used(tmp_path: Path) -> None:
    folder = write_tiny_features(tmp_path / "features")
    with pytest.raises(ValueError, match=r"clip0\.npz: cached without mouth blendshapes"):
        load_features(folder, with_blendshapes=True)


def test_an_unknown_variant_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--features", str(tmp_path), "--variants", "shipped,bigger"])
    assert "unknown variant(s) bigger" in capsys.readouterr().err
