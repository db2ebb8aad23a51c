"""Who says what, when: the audio of one synthetic video and its turn-level speaker timeline.

Turns alternate between the conversants (a monologue has one). A turn is one or two sentences
with a short breath between them; between turns there is either a short hand-over gap (well under
``BRIDGE_GAP_S``, so the truth is unambiguous) or a real pause (well over it: everyone idle).

With ``backchannel_probability`` > 0, a listener now and then says a short word ("Mm-hm.",
"Yeah.") while the speaker talks: overlapping speech, in the listener's own track and the mix.
Backchannels do not change the turn-level truth (the speaker still holds the turn); they are
truth of their own (``Conversation.backchannels``).
"""

from dataclasses import dataclass, field

import numpy as np

from apps.synth.sentences import SENTENCES
from apps.synth.speech import SAMPLE_RATE, Voice, synthesize
from apps.synth.truth import BRIDGE_GAP_S, UtteranceTruth

HANDOVER_GAP_S = (0.12, 0.3)
BREATH_GAP_S = (0.15, 0.3)
PAUSE_S = (1.6, 3.0)
LEAD_IN_S = (0.3, 0.8)
END_MARGIN_S = 0.3
MIX_PEAK = 0.7
BACKCHANNEL_TEXTS = ("Mm-hm.", "Yeah.", "Right.", "Okay.", "I see.")
BACKCHANNEL_MIN_UTTERANCE_S = 1.5  # only over an utterance long enough to say one inside it
ROOM_NOISE = 0.0015  # a faint floor: digital silence between turns is unlike any recording


@dataclass(frozen=True)
class Speaker:
    person_id: str
    voice: Voice


@dataclass(frozen=True)
class Utterance:
    speaker: str
    text: str
    turn_index: int
    start: int  # sample index
    audio: np.ndarray

    @property
    def t_start(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def t_end(self) -> float:
        return (self.start + self.audio.size) / SAMPLE_RATE


@dataclass
class Conversation:
    fps: int
    n_frames: int
    utterances: list[Utterance]
    own_tracks: dict[str, np.ndarray]  # each speaker's voice alone, full length, mix gain applied
    mix: np.ndarray
    backchannels: list[Utterance] = field(default_factory=list)  # said over another's utterance

    def speaker_per_frame(self) -> list[str | None]:
        """Turn-level speaker of each frame (see ``truth`` for the bridging rule)."""
        spans = sorted((u.t_start, u.t_end, u.speaker) for u in self.utterances)
        bridged: list[list] = []
        for start, end, who in spans:
            if bridged and start - bridged[-1][1] < BRIDGE_GAP_S:
                previous = bridged[-1]
                if previous[2] == who:
                    previous[1] = max(previous[1], end)
                    continue
                middle = (previous[1] + start) / 2
                previous[1] = middle
                start = middle
            bridged.append([start, end, who])
        centres = (np.arange(self.n_frames) + 0.5) / self.fps
        speakers: list[str | None] = [None] * self.n_frames
        for start, end, who in bridged:
            for frame in np.flatnonzero((centres >= start) & (centres < end)):
                speakers[frame] = who
        return speakers

    def utterance_truth(self, backchannels: bool = False) -> list[UtteranceTruth]:
        out = []
        for u in self.backchannels if backchannels else self.utterances:
            first = int(np.ceil(u.t_start * self.fps - 0.5))
            last = int(np.ceil(u.t_end * self.fps - 0.5)) - 1
            out.append(
                UtteranceTruth(u.speaker, u.text, u.turn_index, round(u.t_start, 3), round(u.t_end, 3),
                               first, max(first, last))
            )
        return out


def plan_conversation(
    rng: np.random.Generator,
    speakers: list[Speaker],
    n_frames: int,
    fps: int,
    pause_probability: float,
    backchannel_probability: float = 0.0,
) -> Conversation:
    duration = n_frames / fps
    texts = [SENTENCES[i] for i in rng.permutation(len(SENTENCES))]
    utterances: list[Utterance] = []
    backchannels: list[Utterance] = []
    t = float(rng.uniform(*LEAD_IN_S))
    turn = 0
    while texts:
        who = speakers[turn % len(speakers)]
        n_sentences = 1 if rng.random() < 0.6 else 2
        placed = 0
        for _ in range(n_sentences):
            fitting = _first_fitting(texts, who.voice, duration - END_MARGIN_S - t)
            if fitting is None:
                break
            text, audio = fitting
            texts.remove(text)
            utterances.append(Utterance(who.person_id, text, turn, round(t * SAMPLE_RATE), audio))
            # Drawn only when asked for, so a corpus without backchannels is the one it always was
            if backchannel_probability > 0 and len(speakers) > 1 and rng.random() < backchannel_probability:
                listener = speakers[(turn + 1) % len(speakers)]
                said = _backchannel(rng, utterances[-1], listener)
                if said is not None:
                    backchannels.append(said)
            t = utterances[-1].t_end + float(rng.uniform(*BREATH_GAP_S))
            placed += 1
        if placed == 0:
            break
        gap = PAUSE_S if rng.random() < pause_probability else HANDOVER_GAP_S
        t = utterances[-1].t_end + float(rng.uniform(*gap))
        turn += 1
    return _mixed(utterances, [s.person_id for s in speakers], n_frames, fps, rng, backchannels)


def _backchannel(rng: np.random.Generator, over: Utterance, listener: Speaker) -> Utterance | None:
    """A short word by ``listener`` inside the middle of ``over`` (None when it would not fit)."""
    if over.audio.size / SAMPLE_RATE < BACKCHANNEL_MIN_UTTERANCE_S:
        return None
    text = BACKCHANNEL_TEXTS[int(rng.integers(len(BACKCHANNEL_TEXTS)))]
    audio = synthesize(text, listener.voice)
    room = over.audio.size - audio.size
    if room <= 0:
        return None
    start = over.start + int(room * float(rng.uniform(0.3, 0.7)))
    return Utterance(listener.person_id, text, over.turn_index, start, audio)


def _first_fitting(texts: list[str], voice: Voice, room_s: float) -> tuple[str, np.ndarray] | None:
    """The first remaining sentence whose speech fits in the time left (tries a few)."""
    for text in texts[:4]:
        audio = synthesize(text, voice)
        if audio.size / SAMPLE_RATE <= room_s:
            return text, audio
    return None


def _mixed(
    utterances: list[Utterance], person_ids: list[str], n_frames: int, fps: int, rng: np.random.Generator,
    backchannels: list[Utterance] | None = None,
) -> Conversation:
    length = round(n_frames / fps * SAMPLE_RATE)
    tracks = {pid: np.zeros(length, np.float32) for pid in person_ids}
    for u in [*utterances, *(backchannels or [])]:
        tracks[u.speaker][u.start : u.start + u.audio.size] += u.audio
    mix = np.sum(list(tracks.values()), axis=0) if tracks else np.zeros(length, np.float32)
    gain = MIX_PEAK / max(float(np.abs(mix).max(initial=0.0)), 1e-6)
    tracks = {pid: (track * gain).astype(np.float32) for pid, track in tracks.items()}
    mix = (mix * gain + rng.normal(0.0, ROOM_NOISE, length)).astype(np.float32)
    return Conversation(fps, n_frames, utterances, tracks, mix, list(backchannels or []))
