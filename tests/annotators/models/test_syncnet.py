"""SyncNet's loading and scoring code on a randomly initialised network saved as the official
``syncnet_v2.model`` is (a state dict without BatchNorm's ``num_batches_tracked``); the real
weights cannot be fetched here."""

import numpy as np
import pytest
import torch

from annotators.face.mouth_track import MouthTrack
from annotators.models.syncnet import CROP_SIZE, MAX_OFFSET, SyncNetLipSync, face_crop, segment_face_crops
from annotators.models.syncnet_mfcc import mfcc
from annotators.models.syncnet_network import SyncNetS, load_syncnet
from annotators.speaking.lip_sync import lip_sync_model


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    state = {k: v for k, v in SyncNetS().state_dict().items() if not k.endswith("num_batches_tracked")}
    folder = tmp_path_factory.mktemp("models")
    torch.save(state, folder / "syncnet_v2.model")
    return folder


def test_official_layout_loads_and_other_state_dicts_are_refused(weights, tmp_path):
    network = load_syncnet(str(weights / "syncnet_v2.model"))
    assert not network.training
    saved = torch.load(weights / "syncnet_v2.model", weights_only=True)
    assert torch.equal(network.state_dict()["netcnnlip.0.weight"], saved["netcnnlip.0.weight"])
    wrong = dict(saved)
    wrong["netfcaud.9.weight"] = wrong.pop("netfcaud.3.weight")
    torch.save(wrong, tmp_path / "other.model")
    with pytest.raises(ValueError, match="not a SyncNet state dict"):
        load_syncnet(str(tmp_path / "other.model"))


def test_auto_picks_syncnet_when_its_weights_are_in_the_models_dir(weights, monkeypatch):
    monkeypatch.setenv("LPM_MODELS_DIR", str(weights))
    model = lip_sync_model("auto")
    assert isinstance(model, SyncNetLipSync)
    assert lip_sync_model("syncnet", threshold=1.5).threshold == 1.5


def test_scores_a_real_talking_head_segment(weights, shared_media):
    model = SyncNetLipSync.load(path=str(weights / "syncnet_v2.model"))
    n = 60
    boxes = np.tile(np.array([0.3, 0.15, 0.7, 0.75], dtype=np.float32), (n, 1))
    boxes[10:13] = np.nan  # a few frames without the face take the nearest box
    nan = np.full(n, np.nan, dtype=np.float32)
    video = shared_media / "talkvid_tys_gt.mp4"
    mouth = MouthTrack(nan, nan, nan, 25, 25.0, str(video), boxes)
    crops = segment_face_crops(mouth)
    assert crops.shape == (n, CROP_SIZE, CROP_SIZE, 3)
    audio = np.random.default_rng(1).standard_normal(16000 * 5).astype(np.float32) * 0.1
    assert np.isfinite(model.sync_score(mouth, audio))
    assert np.isnan(model.score_crops(crops[: 2 * MAX_OFFSET], audio, 1.0))  # too short for every offset
    # Delaying the audio by 4 frames moves the distance curve 4 offsets later: the lips and the
    # audio windows are paired at the offsets the docstring says.
    delayed = np.concatenate([np.zeros(4 * 640, np.float32), audio[: -4 * 640]])
    at, later = model.offset_distances(crops, audio, 1.0), model.offset_distances(crops, delayed, 1.0)
    np.testing.assert_allclose(later[4:], at[:-4], rtol=1e-4)


def test_face_crop_keeps_the_face_in_the_upper_middle():
    frame = np.zeros((400, 400, 3), dtype=np.uint8)
    frame[100:200, 150:250] = (255, 0, 0)  # a red "face" (RGB)
    crop = face_crop(frame, np.array([150, 100, 250, 200]) / 400.0)
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3)
    red = crop[:, :, 2] > 128  # BGR out: red is the last channel
    rows, cols = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    # 1 face height from the face's top down to 1.8 half-heights below its centre: the face is the
    # top 100/140 of the crop, and 100/140 of its width, centred.
    assert rows[0] <= 1 and abs(rows[-1] - CROP_SIZE * 100 / 140) <= 2
    assert abs((cols[-1] - cols[0]) - CROP_SIZE * 100 / 140) <= 3
    assert abs((cols[0] + cols[-1]) / 2 - CROP_SIZE / 2) < 3


def test_mfcc_shape_and_energy_coefficient():
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 440 * t) * 1000
    features = mfcc(tone)
    assert features.shape == (1 + int(np.ceil((16000 - 400) / 160)), 13)
    emphasised = np.append(tone[:1], tone[1:] - 0.97 * tone[:-1])
    power = np.abs(np.fft.rfft(emphasised[:400], 512)) ** 2 / 512
    assert features[0, 0] == pytest.approx(np.log(power.sum()))
    assert np.abs(mfcc(tone * 2)[5, 1:] - features[5, 1:]).max() < 1e-6  # gain moves c0 only
