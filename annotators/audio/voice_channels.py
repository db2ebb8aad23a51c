"""Two audio channels for a performer's segment: their own voice, and everyone else's.

LPM-style models drive the lips with the performer's own voice and the listening behaviour with
the partner's. The source holds one mix, so the channels are cut from it in time: each clip
frame is marked as carrying the performer's voice, another voice, or both (an overlap: a
backchannel, an interruption). ``own`` keeps the mix where the performer's voice is, ``partner``
where another's is, with short linear crossfades at the edges so no click is added; an overlap
frame is kept in both channels and flagged, because time masks cannot split two voices at once
(a source-separation model can: see ``VoiceChannels.separation``).

Whose voice a frame carries comes from speaker turns when a diarizer named the speakers and the
voice-face association gave this performer's face some of them (``from_turns``), else from the
performer's labelled states: speaking frames are their voice, other voiced frames another's, and
frames where another visible face in the shot speaks at the same time are overlaps
(``from_states``). A backchannel is too short to change anyone's labelled state, so on that
path the lips are read too: a face not labelled speaking whose lips move (``lips_moving``) while
the audio is voiced is saying something under the speaker. The performer's lips moving while
they listen add their voice; another face's lips moving while the performer speaks add a
partner voice; either way the frames become overlaps.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from schemas.performer_states import PerformerState
from schemas.speech_rows import SpeakerTurn

CROSSFADE_S = 0.01  # 10 ms ramps: no click, and less than a phoneme leaks across an edge
# Lips apart by more than this fraction of the face's height (``mouth_open``) are moving. Chosen
# on the synthetic corpus with backchannels, seed 1 (listeners' closed lips 0.00-0.02, a spoken
# "mm-hm" 0.05-0.11): 0.03 caught 0.44 of the overlap frames at precision 0.40, 0.04 0.41 at 0.40;
# 0.04 leaves more room for a real listener's parted lips (see docs/voice_channels.md).
LIPS_MOVING = 0.04
# A run of moving lips this long (0.12 s at 25 fps) is speech, not a twitch of one frame.
MIN_LIPS_FRAMES = 3


@dataclass(frozen=True)
class FrameVoices:
    own: np.ndarray  # bool per clip frame: the performer's voice is heard
    partner: np.ndarray  # bool per clip frame: another voice is heard
    source: str  # "turns" | "states"

    @property
    def overlap(self) -> np.ndarray:
        return self.own & self.partner


@dataclass(frozen=True)
class VoiceChannels:
    own: np.ndarray  # int16 samples, the mix where the performer's voice is
    partner: np.ndarray  # int16 samples, the mix where another voice is
    voices: FrameVoices
    separation: str | None = None  # the model that split overlaps; None: overlaps kept in both


def from_turns(times: np.ndarray, frame_s: float, turns: Sequence[SpeakerTurn],
               own_speakers: Collection[str]) -> FrameVoices:
    """Frames ``[t, t + frame_s)`` (``times``: their starts, source seconds) against speaker turns."""
    own = np.zeros(len(times), bool)
    partner = np.zeros(len(times), bool)
    for turn in turns:
        covered = (times + frame_s > turn.t_start) & (times < turn.t_end)
        if str(turn.speaker) in own_speakers:
            own |= covered
        else:
            partner |= covered
    return FrameVoices(own, partner, "turns")


def from_states(states: np.ndarray, voiced: np.ndarray, others_speaking: np.ndarray,
                own_lips: np.ndarray | None = None, others_lips: np.ndarray | None = None) -> FrameVoices:
    """Per clip frame: the performer's state, voice activity of the mix, whether another face of
    the shot is labelled speaking at the same time; and, when read, whether the performer's lips
    move and whether the lips of a face of the shot not labelled speaking move."""
    speaking = states == int(PerformerState.SPEAKING)
    own = speaking.copy()
    partner = (voiced & ~speaking) | others_speaking
    if own_lips is not None:
        own |= sustained(~speaking & voiced & own_lips, MIN_LIPS_FRAMES)
    if others_lips is not None:
        partner |= sustained(speaking & voiced & others_lips, MIN_LIPS_FRAMES)
    return FrameVoices(own, partner, "states")


def lips_moving(mouth_open: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per frame: the face is seen and its lips are apart (``LIPS_MOVING``)."""
    return present & (np.nan_to_num(np.asarray(mouth_open, np.float32)) > LIPS_MOVING)


def sustained(mask: np.ndarray, min_frames: int) -> np.ndarray:
    """``mask`` without its runs shorter than ``min_frames``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    kept = np.zeros(len(mask), bool)
    for first, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if end - first >= min_frames:
            kept[first:end] = True
    return kept


def frame_gains(
    mask: np.ndarray, fps: float, n_samples: int, rate: int, crossfade_s: float = CROSSFADE_S
) -> np.ndarray:
    """Per-sample gain in [0, 1] from a per-frame mask, ramps of ``crossfade_s`` centred on its edges."""
    frame_of_sample = np.minimum((np.arange(n_samples) * fps / rate).astype(int), max(len(mask) - 1, 0))
    gains = mask[frame_of_sample].astype(np.float32) if len(mask) else np.zeros(n_samples, np.float32)
    ramp = max(int(crossfade_s * rate), 1)
    if ramp > 1 and n_samples:
        kernel = np.full(ramp, 1.0 / ramp, np.float32)
        gains = np.convolve(np.pad(gains, (ramp // 2, ramp - 1 - ramp // 2), mode="edge"), kernel, mode="valid")
    return gains


def split_channels(mix: np.ndarray, fps: float, rate: int, voices: FrameVoices) -> VoiceChannels:
    """``mix`` (int16, the segment's samples) into the two channels."""
    n = len(mix)
    samples = mix.astype(np.float32)
    own = np.round(samples * frame_gains(voices.own, fps, n, rate)).astype(np.int16)
    partner = np.round(samples * frame_gains(voices.partner, fps, n, rate)).astype(np.int16)
    return VoiceChannels(own, partner, voices)
