"""``learned_sync``, the lip-sync network trained here, with its shipped weights, on real talking heads."""

from pathlib import Path

import numpy as np
import pytest

from annotators.models.learned_sync_network import LearnedSyncWeightsError, build_network, load_weights, save_weights
from annotators.speaking.learned_lip_sync import MODEL, LearnedLipSync
from annotators.speaking.lip_sync import lip_sync_choice, lip_sync_model
from curation.models import model_store
from curation.models.model_catalog import MODEL_CATALOG
from tests.annotators.mouth_signals import foreign_audio
from tests.annotators.speaking.test_lip_sync import two_second_segments

LONG_CLIPS = ("infinitetalk_ref_video.mp4", "latentsync_demo3_video.mp4")
SHIFT_FRAMES = 10  # 0.4 s: well outside the +-3 frames the score calls in sync


def shifted(audio: np.ndarray, frames: int, fps: float = 25.0) -> np.ndarray:
    """The audio played ``frames`` video frames late (silence first)."""
    lag = int(round(frames / fps * 16000))
    return np.concatenate([np.zeros(lag, np.float32), audio[:-lag]])


def test_own_audio_scores_above_foreign_voices_and_shifted_audio(talking_head_signals):
    """The two long shared talking heads cut into 2-s segments read with their track around them
    (as the states stage reads them): under their own audio, under every other person's voice, and
    under their own audio 0.4 s late. These clips were in the shipped model's training set (the
    held-out figures are docs/sync_verdict.md's); this checks the shipped weights behave."""
    model = LearnedLipSync.load()
    own, foreign, late = [], [], []
    for name in LONG_CLIPS:
        signals = talking_head_signals[name]
        for _, segment in two_second_segments(signals):
            own.append(model.sync_score(segment, signals.audio))
            late.append(model.sync_score(segment, shifted(signals.audio, SHIFT_FRAMES)))
            foreign += [model.sync_score(segment, other) for other in foreign_audio(name, talking_head_signals)]
    ranked = np.mean([o > f for o in own for f in foreign])
    print(f"own {min(own):.2f}..{max(own):.2f}, foreign <= {max(foreign):.2f} (p95 {np.percentile(foreign, 95):.2f}),"
          f" late <= {max(late):.2f}, own above foreign {ranked:.3f}")
    # measured (five members, 29 sources, a cache extracted afresh): own 1.97..4.90, late <= 0.35, foreign <= 2.04
    # (p95 1.84), own above foreign 0.997; on 27 sources own 1.70..5.00, late <= 0.42, foreign <= 1.96 (p95
    # 1.86), 0.993; on 18 sources own 2.15..5.05, late <= 0.41, foreign p95 1.91, 1.000 (one network on 13
    # sources: own 1.90..5.29, late <= 0.39, foreign p95 1.67, 0.999). Trained on 27 sources the networks rank
    # these two clips a little less cleanly (one own segment at 1.70 among the foreign voices' top 5 %) and
    # the corpus's held-out sources better (AUC 0.980 against 0.973, docs/sync_verdict.md): the held-out
    # figures decide, and this checks what the shipped weights keep of the clips they were trained on.
    assert len(own) == 16 and len(foreign) == 112
    assert min(own) > model.threshold  # no genuine segment rejected
    assert max(late) < model.threshold  # every late copy rejected
    assert ranked >= 0.99
    assert np.median(own) > max(foreign)


def test_shipped_weights_match_the_catalogue():
    path = model_store.resolve(MODEL)
    assert path.is_file() and path.stat().st_size < 5_000_000
    assert model_store.sha256_of(path) == MODEL_CATALOG[MODEL].sha256
    assert model_store.verify(MODEL).status == "ok"


def test_selectable_by_name_and_recorded_as_the_model_it_runs():
    model = lip_sync_model("learned_sync")
    assert model.name == "learned_sync" and model.threshold < model.accept_threshold
    assert lip_sync_model("learned_sync", threshold=0.5, accept_threshold=0.2).accept_threshold == 0.5
    assert lip_sync_choice("states", "learned_sync").record().model == MODEL


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04broken", b"\x93NUMPY raw array"])
def test_a_file_that_is_not_a_weight_file_is_refused_by_name(tmp_path: Path, content: bytes):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    with pytest.raises(LearnedSyncWeightsError, match=r"bad\.npz: not a learned lip-sync weight file"):
        load_weights(bad)
    with pytest.raises(LearnedSyncWeightsError, match=r"bad\.npz"):
        LearnedLipSync(path=bad).setup()


def test_weights_of_another_layout_are_refused_by_name(tmp_path: Path):
    path = tmp_path / "other.npz"
    network = build_network(hidden=8)
    save_weights(network, path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.pop("audio.0.weight")
    np.savez(path, **arrays)
    with pytest.raises(LearnedSyncWeightsError, match=r"other\.npz: weights do not fit"):
        load_weights(path)
    save_weights(network, tmp_path / "ok.npz")
    assert load_weights(tmp_path / "ok.npz")[0].config["hidden"] == 8


def test_an_ensemble_file_holds_its_members_and_scores_their_mean(tmp_path: Path, talking_head_signals):
    """Two members saved together load as two, score as the mean of each one alone; a file short of a
    member's arrays is refused by name; members of two layouts are not saved together."""
    import torch

    torch.manual_seed(1)
    members = [build_network(hidden=8), build_network(hidden=8)]
    save_weights(members, tmp_path / "pair.npz")
    loaded = load_weights(tmp_path / "pair.npz")
    assert len(loaded) == 2 and loaded[0].config == {"embed": 16, "hidden": 8, "kernel": 5, "n_mels": 24}
    signals = talking_head_signals[LONG_CLIPS[0]]
    _, segment = next(iter(two_second_segments(signals)))
    both = LearnedLipSync(network=loaded).sync_score(segment, signals.audio)
    each = [LearnedLipSync(network=m).sync_score(segment, signals.audio) for m in loaded]
    assert np.isfinite(both) and both == pytest.approx(np.mean(each))
    with np.load(tmp_path / "pair.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays.pop("m1.audio.0.weight")
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(LearnedSyncWeightsError, match=r"short\.npz: weights do not fit"):
        load_weights(tmp_path / "short.npz")
    with pytest.raises(ValueError, match="one layout"):
        save_weights([build_network(hidden=8), build_network(hidden=4)], tmp_path / "mixed.npz")


def test_the_shipped_file_holds_five_members():
    assert len(load_weights(model_store.resolve(MODEL))) == 5


def test_scoring_runs_torch_on_one_thread_and_gives_the_process_its_setting_back(talking_head_signals):
    import torch

    signals = talking_head_signals[LONG_CLIPS[0]]
    _, segment = next(iter(two_second_segments(signals)))
    model = LearnedLipSync.load()
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = model.sync_score(segment, signals.audio)
        assert torch.get_num_threads() == 2
        torch.set_num_threads(1)
        assert model.sync_score(segment, signals.audio) == two
    finally:
        torch.set_num_threads(previous)
