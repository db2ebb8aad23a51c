"""Is the visible person speaking? Per-frame speaking probability of one face track.

``ActiveSpeakerModel`` is the interface the states stage calls, so that a learned audio-visual
model (SyncNet / TalkNet / Light-ASD style) can be registered next to the default one and picked
by name in the workflow (``active_speaker_model``).

The default, ``mouth_vad``, uses the strongest cue on the shared clips: a person who is heard
and is moving their mouth is speaking; a face whose mouth is still while a voice is heard is
listening. Mouth motion is the RMS, over ``window_s``, of the mouth opening (inner-lip gap /
face height) after removing its ``highpass_s`` moving average: syllables open and close the
mouth 3-7 times a second, while smiles, slow jaw drift and the landmarker settling at the start
of a track are slower and are filtered out.

The motion never runs ahead of the mouth (``mouth_motion``): the centred reading is capped by the
largest reading over past frames only seen in the last window, which is 0 while the mouth has
been still and, once it moves, about the centred level or above (inside speech the cap seldom binds).
Centred filters alone answer up to half the high-pass plus half the window (0.5 s as the states
stage sets them) before a still mouth moves: a first syllable's opening is a step tens of times
the threshold, and a share of it reaches every frame whose windows hold it. In a conversation
those frames carry the end of the other person's turn. On the synthetic corpus (``lpm-curate
synth``, seed 0) that was most of the 83 listening frames ``bench pipeline`` labelled speaking:
runs of 7-13 frames ending where the listener's own turn starts, the mouth at rest (landmark
jitter only) while the visual probability was already 0.6-1.0, having crossed 0.5 10-12 frames
before the opening first rose. A voice cannot be a person's before their mouth moves, but it can
outlast the last visible movement (a held final sound, the voice detector's hangover), so the
centred reading still carries past a movement's end. On the 60 real talking heads of the
calibration corpus, replayed from its validity records (``docs/calibration_corpus.md``), voiced
frames labelled speaking at the shipped threshold: 0.974 (0.975 with centred filters alone);
still faces under a voice labelled speaking: 0.28 of their frames (0.36).

MediaPipe's ``jawOpen`` is not used here: on a still face it drifts for about 8 frames while the
landmarker converges, as large a change as the jaw motion of the quieter talking heads (it is used
by ``annotators.speaking.av_sync``, where it helps).
The motion maps to a probability with a logistic in log-motion around ``motion_threshold``; the
speaking probability is the smaller of that and the voice-activity probability (a fuzzy AND:
it is >= 0.5 exactly when both are), and 0 on frames without the face.

Measured on the eight ``talking_head`` clips of shared/media (25 fps, MediaPipe landmarks):
during voice activity the 3rd percentile of mouth motion is >= 0.0045 face heights on every
clip, while a face frozen on one frame (landmarker jitter only) stays <= 0.0024; the threshold
sits at their geometric mean (fitted on those same clips: there is no held-out set yet). Known
limits: lips moving against someone else's speech (a dubbed or mismatched track) count as
speaking, and so can a quick large expression change (a mouth opening by 4% of the face height
in 0.4 s) while someone else talks. Per track nothing better is possible here; across a video
the states stage ties voices to faces (``annotators.speaking.voice_face_association``) and relabels lips
moving under another face's voice as listening.
"""

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from annotators.timelines.smoothed_series import fill_short_gaps, finite_spans


@runtime_checkable
class ActiveSpeakerModel(Protocol):
    def speaking_probability(
        self,
        mouth_open: np.ndarray,
        jaw_open: np.ndarray,
        present: np.ndarray,
        vad_prob: np.ndarray,
        audio: np.ndarray,
        fps: float,
    ) -> np.ndarray:
        """(n_frames,) float32 in [0, 1]: probability that the tracked face is the one speaking.

        ``mouth_open``, ``jaw_open``, ``present`` and ``vad_prob`` are per frame of the track
        (NaN signals where the face is absent); ``audio`` is the track's 16 kHz mono float32
        audio starting at its first frame.
        """
        ...


@dataclass(frozen=True)
class MouthMotionSpeaker:
    """Speaking = voice activity AND band-limited mouth motion (see the module docstring)."""

    highpass_s: float = 0.6
    window_s: float = 1.0
    motion_threshold: float = 0.0033  # face heights (RMS) where the visual probability is 0.5
    log_scale: float = 0.2  # width of the logistic in log-motion: x1.5 motion -> p = 0.88
    max_gap_s: float = 0.2  # landmark misses up to this long are interpolated

    def mouth_motion(self, mouth_open: np.ndarray, fps: float) -> np.ndarray:
        """RMS of the high-passed mouth opening per frame, centred on the frame but never ahead of
        the mouth (see the module docstring); NaN where the face is absent."""
        x = fill_short_gaps(np.asarray(mouth_open, dtype=np.float64), max(1, round(self.max_gap_s * fps)))
        motion = np.full(len(x), np.nan)
        highpass = max(3, round(self.highpass_s * fps))
        window = max(3, round(self.window_s * fps))
        for first, end in finite_spans(x):
            span = x[first:end]
            centred = band_rms(span, highpass, window, causal=False)
            # The most the past-only reading saw over the last window: 0 while the mouth has been
            # still, about the centred reading's level or above once it moves.
            moved = maximum_filter1d(band_rms(span, highpass, window, causal=True), window, mode="reflect",
                                     origin=(window - 1) // 2)
            motion[first:end] = np.minimum(centred, moved)
        return motion

    def visual_probability(self, mouth_open: np.ndarray, fps: float) -> np.ndarray:
        motion = np.nan_to_num(self.mouth_motion(mouth_open, fps), nan=0.0)
        z = (np.log(np.maximum(motion, 1e-9)) - np.log(self.motion_threshold)) / self.log_scale
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    def speaking_probability(
        self,
        mouth_open: np.ndarray,
        jaw_open: np.ndarray,
        present: np.ndarray,
        vad_prob: np.ndarray,
        audio: np.ndarray,
        fps: float,
    ) -> np.ndarray:
        visual = self.visual_probability(mouth_open, fps)
        voice = np.clip(np.nan_to_num(np.asarray(vad_prob, dtype=np.float64)), 0.0, 1.0)
        p = np.minimum(visual, voice)
        return np.where(np.asarray(present, dtype=bool), p, 0.0).astype(np.float32)


def band_rms(x: np.ndarray, highpass: int, window: int, causal: bool) -> np.ndarray:
    """RMS over ``window`` frames of ``x`` less its ``highpass``-frame moving average; both
    averages centred on the frame, or (``causal``) over the frame and the ones before it. Before
    its first frame a causal reading takes the series' start mirrored as its unseen past, so a
    face that appears talking reads as moving from its first frame."""

    def mean(values: np.ndarray, size: int) -> np.ndarray:
        if not causal:
            return uniform_filter1d(values, size, mode="nearest")
        # origin (size - 1) // 2 moves scipy's window to end at the frame: frames t - size + 1 .. t
        return uniform_filter1d(values, size, mode="reflect", origin=(size - 1) // 2)

    fast = x - mean(x, highpass)
    return np.sqrt(np.maximum(mean(fast * fast, window), 0.0))


ACTIVE_SPEAKER_MODELS: dict[str, type] = {"mouth_vad": MouthMotionSpeaker}


def active_speaker_model(name: str = "mouth_vad") -> ActiveSpeakerModel:
    """The registered model called ``name``, with its default settings."""
    try:
        return ACTIVE_SPEAKER_MODELS[name]()
    except KeyError:
        known = ", ".join(sorted(ACTIVE_SPEAKER_MODELS))
        raise ValueError(f"unknown active speaker model {name!r}; known: {known}") from None
