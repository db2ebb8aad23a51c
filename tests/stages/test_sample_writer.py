"""The samples a real run writes: two voice channels beside the mix, cut where the labels say.

Read from the session's smoke run over four people talking (``talking_heads_run``): every sample
carries ``own.wav`` and ``partner.wav`` as long as ``wav``; where a frame is the performer's voice
alone, ``own.wav`` is the mix and ``partner.wav`` silent (and the other way round); the npz flags
and the record's counts agree. No separation model is fetched here: overlaps stay in both.
"""

import io
import json
import tarfile
import wave
from pathlib import Path

import numpy as np
import pytest

from schemas.performer_states import PerformerState
from schemas.sample_layout import SAMPLE_JSON_FIELDS

FPS_SAMPLES = 640  # 16 kHz at 25 fps


def pcm(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


def samples(run: Path) -> dict[str, dict[str, bytes]]:
    found: dict[str, dict[str, bytes]] = {}
    for shard in sorted((run / "shards").rglob("*.tar")):
        with tarfile.open(shard) as tar:
            for info in tar.getmembers():
                key, _, ext = info.name.partition(".")
                found.setdefault(key, {})[ext] = tar.extractfile(info).read()
    return found


@pytest.mark.slow
def test_every_sample_has_its_own_and_partner_voice_cut_where_the_labels_say(talking_heads_run: Path) -> None:
    found = samples(talking_heads_run)
    assert len(found) >= 5
    own_frames = 0
    for key, members in found.items():
        mix, own, partner = pcm(members["wav"]), pcm(members["own.wav"]), pcm(members["partner.wav"])
        assert len(own) == len(partner) == len(mix), key
        with np.load(io.BytesIO(members["npz"])) as npz:
            state, own_voice = npz["state"], npz["own_voice"]
            partner_voice, overlap = npz["partner_voice"], npz["overlap"]
        record = json.loads(members["json"])
        assert sorted(record) == sorted(SAMPLE_JSON_FIELDS), key  # what schemas/sample_layout documents
        channels = record["channels"]
        assert channels["source"] == "states" and channels["separation"] is None  # no diarizer here
        assert channels["own_voice_frames"] == int(own_voice.sum()), key
        assert channels["overlap_frames"] == int(overlap.sum()) == int((own_voice & partner_voice).sum())
        speaking = state == int(PerformerState.SPEAKING)
        # the performer's voice where they speak, and where they listen with moving lips while the
        # audio is voiced (said under another voice: an overlap)
        assert own_voice[speaking].all() and overlap[own_voice & ~speaking].all(), key
        for frame in range(1, len(state) - 1):
            inside = slice(frame * FPS_SAMPLES + 120, (frame + 1) * FPS_SAMPLES - 120)
            if mix[inside].size == 0:
                continue
            # Away from the crossfades, each channel is the mix or silence, as its flag says
            if own_voice[frame - 1 : frame + 2].all():
                assert np.array_equal(own[inside], mix[inside]), (key, frame)
                own_frames += 1
            if not own_voice[frame - 1 : frame + 2].any():
                assert not own[inside].any(), (key, frame)
            if partner_voice[frame - 1 : frame + 2].all():
                assert np.array_equal(partner[inside], mix[inside]), (key, frame)
            if not partner_voice[frame - 1 : frame + 2].any():
                assert not partner[inside].any(), (key, frame)
    assert own_frames > 100  # talking heads: most of their frames are their own voice
