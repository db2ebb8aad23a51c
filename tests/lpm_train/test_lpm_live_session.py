"""``LiveSession``: two channels pushed in pieces, states given or heard, frames back per chunk.

Driven by real speech: the voices of two shared talking heads (one the performer, one the
partner), decoded with ffmpeg.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from lpm_media_shards import shared_media_dir
from lpm_tiny_models import AUDIO, model

from lpm_train.data.audio_features import LogMelFrames
from lpm_train.data.text_tokenizer import HashedWordTokenizer
from lpm_train.stream.live_session import LiveSession, LiveSessionClosedError, LiveSettings
from lpm_train.stream.voice_states import VoiceStateSettings
from schemas.performer_states import PerformerState

RATE, FPS, CHUNK = 16_000, 25.0, 2
SPEAKING, LISTENING, IDLE = int(PerformerState.SPEAKING), int(PerformerState.LISTENING), int(PerformerState.IDLE)


def voice(name: str, seconds: float) -> np.ndarray:
    data = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(shared_media_dir() / name), "-t", str(seconds),
         "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
        check=True, capture_output=True, timeout=120,
    ).stdout
    return np.frombuffer(data, dtype=np.float32).copy()


@pytest.fixture(scope="module")
def voices() -> tuple[np.ndarray, np.ndarray]:
    return voice("infinitetalk_ref_video.mp4", 6.0), voice("latentsync_demo3_video.mp4", 6.0)


def session(**settings: object) -> LiveSession:
    student = model("full", chunk_frames=CHUNK)
    references = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    live = LiveSettings(**{"fps": FPS, "chunk_frames": CHUNK, "window_frames": 4, "steps": 2, **settings})
    return LiveSession(student, references, LogMelFrames(n_mels=AUDIO // 2, mel_per_frame=2),
                       HashedWordTokenizer(50, 6).encode, live, text="a woman talks")


def test_ragged_pieces_give_the_frames_of_the_whole_audio(voices: tuple[np.ndarray, np.ndarray]) -> None:
    own, partner = voices[0][: 3 * RATE], voices[1][: 3 * RATE]
    whole = session()
    frames_whole = torch.cat([whole.push(own, partner), whole.close()])

    ragged = session()
    pieces, start, rng = [], 0, np.random.default_rng(0)
    while start < len(own):
        end = min(start + int(rng.integers(1, 4000)), len(own))
        pieces.append(ragged.push(own[start:end], partner[start:end]))
        start = end
    pieces.append(ragged.close())
    frames_ragged = torch.cat(pieces)

    assert frames_whole.shape == frames_ragged.shape == (76, 3, 16, 16)  # 75 frames of audio, in whole chunks of 2
    assert sum(len(p) > 0 for p in pieces) >= len(pieces) // 2  # frames came back while audio arrived
    assert list(ragged.states) == list(whole.states)
    torch.testing.assert_close(frames_ragged, frames_whole, rtol=1e-4, atol=1e-4)


def test_given_states_switch_the_conditions_at_their_frame(
    voices: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    live = session()
    seen = []  # (chunk's first frame, its conditions)
    denoise = live.streamer.denoise

    def recording(noise, cond, first):
        seen.append((live.chunks_done * CHUNK, cond, first))
        return denoise(noise, cond, first)

    monkeypatch.setattr(live.streamer, "denoise", recording)
    own, partner = voices[0][:RATE], voices[1][:RATE]
    silence = np.zeros(RATE, dtype=np.float32)
    script = [(own, silence, "speaking"), (silence, partner, "listening"), (silence, silence, "idle"),
              (own, silence, PerformerState.SPEAKING)]
    for own_piece, partner_piece, state in script:
        live.push(own_piece, partner_piece, state)
    live.close()

    truth = [SPEAKING] * 25 + [LISTENING] * 25 + [IDLE] * 25 + [SPEAKING] * 25
    assert list(live.states) == truth  # the frame a state was given for is the first to show it
    for first, cond, offset in seen:
        frames = range(first, first + CHUNK)
        speak = cond.speak_valid[0, offset : offset + CHUNK].tolist()
        listen = cond.listen_valid[0, offset : offset + CHUNK].tolist()
        assert speak == [truth[f] == SPEAKING for f in frames]
        assert listen == [truth[f] == LISTENING for f in frames]
        # The speak stream carries the own channel, the listen stream the partner's
        audio_speak = cond.audio_speak[0, offset : offset + CHUNK].abs().sum(-1)
        audio_listen = cond.audio_listen[0, offset : offset + CHUNK].abs().sum(-1)
        assert [bool(a > 0) for a in audio_speak] == speak
        assert [bool(a > 0) for a in audio_listen] == listen


def test_states_heard_from_the_two_channels_follow_who_is_talking(voices: tuple[np.ndarray, np.ndarray]) -> None:
    hold = 6
    live = session(voice=VoiceStateSettings(threshold_dbfs=-40.0, hold_frames=hold))
    # Two seconds of each voice without a pause longer than the hold (the partner's first two
    # seconds hold a 0.7 s pause, which rightly reads idle; a later stretch talks throughout).
    own, partner = voices[0][int(1.2 * RATE) : int(3.2 * RATE)], voices[1][int(1.76 * RATE) : int(3.76 * RATE)]
    silence = np.zeros(2 * RATE, dtype=np.float32)
    for own_piece, partner_piece in ((own, silence), (silence, partner), (silence, silence)):
        for start in range(0, len(own_piece), 1234):  # ragged pieces, no state given
            live.push(own_piece[start : start + 1234], partner_piece[start : start + 1234])
    live.close()
    states = np.array(live.states)
    truth = np.repeat([SPEAKING, LISTENING, IDLE], 50)
    assert len(states) == len(truth)
    # Each turn's state shows within the hysteresis plus one chunk of its start, and holds.
    for turn, start in ((SPEAKING, 0), (LISTENING, 50), (IDLE, 100)):
        settled = start + hold + CHUNK
        first_seen = start + int(np.argmax(states[start:] == turn))
        assert first_seen <= settled, (turn, first_seen, states.tolist())
        assert float(np.mean(states[settled : start + 50] == turn)) >= 0.9, states.tolist()


def test_bad_pushes_are_refused_and_the_session_goes_on(voices: tuple[np.ndarray, np.ndarray]) -> None:
    live = session()
    own = voices[0][:RATE]
    with pytest.raises(ValueError, match="16000 Hz"):
        live.push(own, sample_rate=44_100)
    with pytest.raises(ValueError, match="mono"):
        live.push(np.stack([own, own], axis=1))
    with pytest.raises(ValueError, match="empty"):
        live.push(np.zeros(0, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        live.push(np.full(100, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="same length"):
        live.push(own, own[:-1])
    with pytest.raises(ValueError, match="unknown state"):
        live.push(own, state="singing")
    assert live.own.samples_received == 0  # nothing from a refused push was kept

    frames = torch.cat([live.push(own), live.close()])
    assert frames.shape == (26, 3, 16, 16) and bool(torch.isfinite(frames).all())
    with pytest.raises(LiveSessionClosedError, match="closed"):
        live.push(own)
    with pytest.raises(LiveSessionClosedError):
        live.close()


def test_a_long_session_keeps_only_what_chunks_to_come_need(voices: tuple[np.ndarray, np.ndarray]) -> None:
    live = session(steps=1)
    own, partner = voices[0], voices[1]
    kept, buffered = [], []
    for _ in range(5):  # 30 s of conversation in 0.1 s pieces
        for start in range(0, len(own), RATE // 10):
            live.push(own[start : start + RATE // 10], partner[start : start + RATE // 10])
            kept.append(live.kept_frames)
            buffered.append(live.own.buffered_samples)
    assert live.chunks_done >= 370
    assert max(kept[50:]) <= 10 and max(buffered[50:]) <= 2 * RATE // 10 + 2 * live.own.context
    assert live.streamer.cache.context_frames == 4
