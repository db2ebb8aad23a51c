"""Overlapping speech split between the own and partner channels by a separation model.

Where the frame voices say two voices are heard at once, time masks keep the mix in both
channels. With a separation model, each overlap run (plus ``CONTEXT_S`` either side, so the
network and the voice embedding hear enough of both voices) is split into two sources, and the
source whose voice embedding is closer to the performer's goes to the own channel, the other to
the partner channel, with the same short crossfades as the masks. The performer's voice is
described by the segment's own-only frames, the partner's by its partner-only frames; a source is
given to whichever voice it resembles more than the other source does. A segment with neither
described (too little of either voice alone) keeps its overlaps in both channels.
"""

from collections.abc import Callable

import numpy as np

from annotators.audio.voice_channels import VoiceChannels, frame_gains

CONTEXT_S = 0.5  # heard on each side of an overlap run: at least 1 s for the 1.6-s embedding windows
_INT16 = 32768.0

Separate = Callable[[np.ndarray], np.ndarray]  # 16 kHz float32 (n,) -> (2, n) sources
Embed = Callable[[np.ndarray], np.ndarray | None]  # 16 kHz float32 span -> unit vector or None


def overlap_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[first, end)`` frame ranges where ``mask`` is set."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _profile(samples: np.ndarray, mask: np.ndarray, fps: float, rate: int, embed: Embed) -> np.ndarray | None:
    """The voice embedding of the segment's samples under ``mask`` (its frames, concatenated)."""
    if not mask.any():
        return None
    frame_of_sample = np.minimum((np.arange(len(samples)) * fps / rate).astype(int), len(mask) - 1)
    return embed(samples[mask[frame_of_sample]])


def own_source_index(sources: list[np.ndarray | None], own: np.ndarray | None,
                     partner: np.ndarray | None) -> int | None:
    """Which of the two sources' embeddings is the performer's: the one closer to the own profile
    relative to the other source, or farther from the partner's; None when nothing decides."""
    if any(s is None for s in sources) or (own is None and partner is None):
        return None
    score = [0.0, 0.0]
    for i, vector in enumerate(sources):
        score[i] += float(vector @ own) if own is not None else 0.0
        score[i] -= float(vector @ partner) if partner is not None else 0.0
    return int(np.argmax(score))


def separate_overlaps(mix: np.ndarray, fps: float, rate: int, channels: VoiceChannels, separate: Separate,
                      embed: Embed, model_name: str) -> tuple[VoiceChannels, int]:
    """``channels`` with each overlap run's mix replaced by the separated voice in each channel;
    and how many runs were split (0: ``channels`` unchanged, ``separation`` left None)."""
    voices = channels.voices
    runs = overlap_runs(voices.overlap)
    if not runs:
        return channels, 0
    samples = mix.astype(np.float32) / _INT16
    own_profile = _profile(samples, voices.own & ~voices.partner, fps, rate, embed)
    partner_profile = _profile(samples, voices.partner & ~voices.own, fps, rate, embed)
    if own_profile is None and partner_profile is None:
        return channels, 0
    own_part = np.zeros(len(mix), np.float32)
    partner_part = np.zeros(len(mix), np.float32)
    split = np.zeros(len(voices.overlap), bool)
    context = int(CONTEXT_S * fps)
    for first, end in runs:
        a = max(0, int((first - context) * rate / fps))
        b = min(len(mix), int(np.ceil((end + context) * rate / fps)))
        sources = separate(samples[a:b])
        which = own_source_index([embed(s) for s in sources], own_profile, partner_profile)
        if which is None:
            continue
        own_part[a:b], partner_part[a:b] = sources[which], sources[1 - which]
        split[first:end] = True
    if not split.any():
        return channels, 0
    gains = frame_gains(split, fps, len(mix), rate)
    own = channels.own.astype(np.float32) * (1 - gains) + own_part * _INT16 * gains
    partner = channels.partner.astype(np.float32) * (1 - gains) + partner_part * _INT16 * gains
    as_int16 = [np.clip(np.round(x), -32768, 32767).astype(np.int16) for x in (own, partner)]
    return VoiceChannels(as_int16[0], as_int16[1], voices, model_name), len(overlap_runs(split))
