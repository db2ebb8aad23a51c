"""The learned lip-sync model's training: seeded, byte for byte, and driven by ``models train-sync``."""

import hashlib
from pathlib import Path

import pytest

from annotators.models.learned_sync_network import load_weights
from apps.bench.learned_sync_folds import dubbing_pairs
from apps.bench.learned_sync_training import TrainSettings, load_features, train, train_members
from apps.cli.main import main
from tests.apps.bench.tiny_sync_features import weights_digest, write_tiny_features


def test_one_seed_gives_the_same_weights_and_another_seed_others(tmp_path: Path) -> None:
    features = load_features(write_tiny_features(tmp_path / "features"))
    assert len(features.segments) == 3 and features.persons["clip1.npz"] == "person1"
    settings = TrainSettings(seed=0, steps=4, batch=4)
    first = weights_digest(train(features, settings), tmp_path / "a.npz")
    again = weights_digest(train(features, settings), tmp_path / "b.npz")
    other = weights_digest(train(features, TrainSettings(seed=1, steps=4, batch=4)), tmp_path / "c.npz")
    assert first == again
    assert other != first


def test_training_refuses_segments_shorter_than_its_window(tmp_path: Path) -> None:
    features = load_features(write_tiny_features(tmp_path / "features", frames=30))
    with pytest.raises(ValueError, match="no segment of at least 50 frames"):
        train(features, TrainSettings(steps=1))


def test_dubbed_pairs_never_give_a_segment_its_own_persons_voice(tmp_path: Path) -> None:
    features = load_features(write_tiny_features(tmp_path / "features", clips=4))
    pairs = dubbing_pairs(features, voices=2, seed=0)
    assert len(pairs) == 4 * 3  # own audio plus two foreign voices per segment
    assert all(features.persons[voice] != seg.person for seg, voice in pairs if voice is not None)
    assert pairs == dubbing_pairs(features, voices=2, seed=0)


def test_train_sync_command_reproduces_its_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_tiny_features(tmp_path / "features")
    outs = [tmp_path / "one.npz", tmp_path / "two.npz"]
    for out in outs:
        assert main(["models", "train-sync", "--features", str(folder), "--steps", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    digest = hashlib.sha256(outs[0].read_bytes()).hexdigest()
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert f"sha256 {digest}" in printed and "differs from the shipped" in printed
    assert len(load_weights(outs[0])) == 5  # the shipped number of members by default
    assert main(["models", "train-sync", "--features", str(folder), "--steps", "3", "--members", "1",
                 "--out", str(tmp_path / "single.npz")]) == 0
    assert len(load_weights(tmp_path / "single.npz")) == 1


def test_members_are_the_networks_of_consecutive_seeds(tmp_path: Path) -> None:
    features = load_features(write_tiny_features(tmp_path / "features"))
    settings = TrainSettings(seed=3, steps=2, batch=4, members=2)
    members = train_members(features, settings)
    alone = [train(features, TrainSettings(seed=s, steps=2, batch=4)) for s in (3, 4)]
    for member, single in zip(members, alone, strict=True):
        assert weights_digest(member, tmp_path / "m.npz") == weights_digest(single, tmp_path / "s.npz")


def test_a_folds_thresholds_never_see_the_held_out_source() -> None:
    """Source ``odd`` scores its genuine speech as low as dubbed speech: fitted with it, the reject
    threshold would fall below it and keep it; held out, the others' fit rejects it."""
    from apps.bench.fold_rows import ScoredSegment
    from apps.bench.learned_sync_folds import folds_report

    def row(source: str, voice: str, genuine: bool, score: float) -> ScoredSegment:
        return ScoredSegment(picture=source, picture_source=source, voice_source=voice, genuine=genuine, score=score,
                             weight=10)

    rows = [row(s, s, True, g) for s, g in (("a", 3.0), ("b", 3.2), ("c", 2.9), ("odd", 0.1))]
    rows += [row(s, v, False, d) for s in ("a", "b", "c", "odd") for v, d in (("x", 0.2), ("y", 0.5))]
    report = folds_report(rows, ["a", "b", "c", "odd"])
    odd = next(f for f in report["folds"] if f["held_out_source"] == "odd")
    assert odd["reject_below"] > 0.5 and odd["genuine_frames_kept"] == 0.0
    assert all(f["genuine_frames_kept"] == 1.0 for f in report["folds"] if f["held_out_source"] != "odd")
    assert report["pooled_held_out"]["genuine_frames_kept"] == 0.75
