"""Ground truth written beside every synthetic video: ``truth/<name>.json``.

Format ``lpm-synth-truth/1`` (all frame indices are 0-based, inclusive; frame ``i`` shows time
``i / fps`` and lasts ``1 / fps``; times are seconds from the start of the file)::

    {
      "format": "lpm-synth-truth/1",
      "name": "synth_000_interview", "kind": "interview", "seed": 0,
      "video": "videos/synth_000_interview.mp4",
      "fps": 25, "n_frames": 500, "duration_s": 20.0, "width": 640, "height": 360,
      "audio_sample_rate": 16000,
      "persons": [{"person_id": "insightface-t1-2", "source": "insightface:data/images/t1.jpg#2",
                   "voice": "en-us+m3 p38 s160" | null, "role": "conversant" | "passer_by"}],
      "shots": [{"shot_index": 0, "first_frame": 0, "last_frame": 87, "t_start": 0.0, "t_end": 3.52,
                 "setup": "closeup:<person_id>" | "medium:<id>" | "split" | "wide",
                 "flags": ["noisy" | "subtitled"],
                 "transition_in": "cut" | "dissolve" | "fade", "transition_frames": 12}],
      "utterances": [{"speaker": "<person_id>", "text": "...", "turn_index": 0,
                      "t_start": 0.52, "t_end": 3.1, "first_frame": 13, "last_frame": 77}],
      "speaker": [["<person_id>" | null, first_frame, n_frames], ...],
      "tracks": [{"track_index": 0, "person_id": "...", "shot_index": 0,
                  "first_frame": 0, "last_frame": 87,
                  "boxes": [[x0, y0, x1, y1], ...],   # one per frame of the track, pixels
                  "state": [[code, first_frame, n_frames], ...],
                  "flags": ["small_face" | "passer_by"]}],
      "expected_rejections": {"noisy_shots": [shot_index, ...], "subtitled_shots": [shot_index, ...],
                              "small_face_tracks": [track_index, ...],
                              "passer_by_tracks": [track_index, ...]},
      "backchannels": [utterance, ...]   # only in corpora made with --backchannels
    }

``speaker`` and ``state`` are run-length encoded: each run is ``[value, first_frame, n_frames]``
and the runs of one array cover every frame of its span in order.

Meaning:

* ``speaker`` is whose voice is heard in the frame, at turn level: an utterance spans its voiced
  extent (word gaps inside it count as speech); silences shorter than ``BRIDGE_GAP_S`` between
  utterances are bridged (same speaker: filled; a change of speaker: split at the midpoint);
  longer silences are ``null``. The generator only makes gaps well below or well above it.
* A track is one person's face while visible in one shot: at least 60 % of the face box inside the
  picture (or inside the person's half of a split screen) and at most 30 % of it hidden behind
  another person. ``boxes`` are the extent of MediaPipe's 478 face landmarks (upper forehead to
  chin, cheek to cheek) as drawn, clipped to the person's region (the frame, or their half of a
  split screen).
* ``state`` uses ``schemas.performer_states.PerformerState``: 1 speaking when the track's person is the
  frame's ``speaker``, 2 listening when someone else is, 0 idle when nobody is.
* ``backchannels`` are short words ("Mm-hm.") a listener says over the speaker's utterance: the
  two voices overlap. They leave ``speaker`` and ``state`` (turn level) as they are.
* Flags mark what a curation pipeline is expected to reject: ``noisy`` shots (heavy blur and
  noise), ``subtitled`` shots (burned-in subtitles over the lower part of the frame),
  ``small_face`` tracks (face box under 60 px tall), ``passer_by`` tracks (a third person
  crossing the picture for about a second).
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curation.store.plain_codec import decode
from schemas.performer_states import PerformerState

TRUTH_FORMAT = "lpm-synth-truth/1"
BRIDGE_GAP_S = 0.5
SHOT_FLAGS = ("noisy", "subtitled")
TRACK_FLAGS = ("small_face", "passer_by")
SMALL_FACE_PX = 60.0


@dataclass(frozen=True)
class PersonTruth:
    person_id: str
    source: str
    voice: str | None
    role: str  # "conversant" | "passer_by"


@dataclass(frozen=True)
class ShotTruth:
    shot_index: int
    first_frame: int
    last_frame: int
    t_start: float
    t_end: float
    setup: str
    flags: list[str] = field(default_factory=list)
    transition_in: str = "cut"  # cut | dissolve | fade (apps.synth.transitions)
    transition_frames: int = 0  # frames of the gradual transition centred on first_frame


@dataclass(frozen=True)
class UtteranceTruth:
    speaker: str
    text: str
    turn_index: int
    t_start: float
    t_end: float
    first_frame: int
    last_frame: int


@dataclass
class TrackTruth:
    track_index: int
    person_id: str
    shot_index: int
    first_frame: int
    last_frame: int
    boxes: np.ndarray  # (n, 4) float32
    states: np.ndarray  # (n,) int8 PerformerState codes
    flags: list[str] = field(default_factory=list)


@dataclass
class VideoFacts:
    """What a synthetic video is: its name and kind, the seed that made it, and its file's facts."""

    name: str
    kind: str
    seed: int
    video: str
    fps: int
    n_frames: int
    width: int
    height: int
    audio_sample_rate: int


@dataclass
class VideoTruth(VideoFacts):
    persons: list[PersonTruth]
    shots: list[ShotTruth]
    utterances: list[UtteranceTruth]
    speaker: list[str | None]  # per frame
    tracks: list[TrackTruth]
    backchannels: list[UtteranceTruth] = field(default_factory=list)  # short words over another's turn

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    def expected_rejections(self) -> dict[str, list[int]]:
        return {
            "noisy_shots": [s.shot_index for s in self.shots if "noisy" in s.flags],
            "subtitled_shots": [s.shot_index for s in self.shots if "subtitled" in s.flags],
            "small_face_tracks": [t.track_index for t in self.tracks if "small_face" in t.flags],
            "passer_by_tracks": [t.track_index for t in self.tracks if "passer_by" in t.flags],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TRUTH_FORMAT,
            "name": self.name,
            "kind": self.kind,
            "seed": self.seed,
            "video": self.video,
            "fps": self.fps,
            "n_frames": self.n_frames,
            "duration_s": round(self.duration_s, 6),
            "width": self.width,
            "height": self.height,
            "audio_sample_rate": self.audio_sample_rate,
            "persons": [asdict(p) for p in self.persons],
            "shots": [asdict(s) for s in self.shots],
            "utterances": [asdict(u) for u in self.utterances],
            "speaker": run_lengths(self.speaker),
            "tracks": [_track_json(t) for t in self.tracks],
            "expected_rejections": self.expected_rejections(),
            # only in corpora made with backchannels: the files of the others stay as they were
            **({"backchannels": [asdict(u) for u in self.backchannels]} if self.backchannels else {}),
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), separators=(",", ":")))
        tmp.replace(path)


def states_for(person_id: str, speakers: list[str | None]) -> np.ndarray:
    """The state codes of a visible person, given the per-frame speaker."""
    return np.array(
        [
            PerformerState.IDLE if s is None else PerformerState.SPEAKING if s == person_id
            else PerformerState.LISTENING
            for s in speakers
        ],
        dtype=np.int8,
    )


def run_lengths(values: list[Any], offset: int = 0) -> list[list[Any]]:
    runs: list[list[Any]] = []
    for index, value in enumerate(values):
        if runs and runs[-1][0] == value:
            runs[-1][2] += 1
        else:
            runs.append([value, offset + index, 1])
    return runs


def expand_runs(runs: list[list[Any]]) -> list[Any]:
    """The values of runs from ``run_lengths``; they must be contiguous."""
    values: list[Any] = []
    start = runs[0][1] if runs else 0
    for value, first, count in runs:
        if first != start + len(values):
            raise ValueError(f"run-length runs are not contiguous at frame {first}")
        values.extend([value] * count)
    return values


@dataclass(frozen=True, kw_only=True)
class TrackDocument:
    """A track as the file stores it: boxes as lists, states run-length encoded."""

    track_index: int
    person_id: str
    shot_index: int
    first_frame: int
    last_frame: int
    boxes: list[list[float]]
    state: list[list[int]]
    flags: list[str]


@dataclass(kw_only=True)
class TruthDocument(VideoFacts):
    """The file as written (the module docstring shows it), read back by its declared fields."""

    format: str
    duration_s: float
    persons: list[PersonTruth]
    shots: list[ShotTruth]
    utterances: list[UtteranceTruth]
    speaker: list[list[Any]]  # [person_id or None, first_frame, n_frames]
    tracks: list[TrackDocument]
    expected_rejections: dict[str, list[int]]
    backchannels: list[UtteranceTruth] = field(default_factory=list)


def load_truth(path: Path) -> VideoTruth:
    """The truth at ``path``; ValueError when it is not an ``lpm-synth-truth/1`` file (a missing or
    unknown field included: ``PlainDataError`` is one)."""
    doc = decode(json.loads(Path(path).read_text()), {}, TruthDocument)
    if doc.format != TRUTH_FORMAT:
        raise ValueError(f"{path}: not a {TRUTH_FORMAT} file")
    return VideoTruth(
        name=doc.name, kind=doc.kind, seed=doc.seed, video=doc.video, fps=doc.fps, n_frames=doc.n_frames,
        width=doc.width, height=doc.height, audio_sample_rate=doc.audio_sample_rate, persons=doc.persons,
        shots=doc.shots, utterances=doc.utterances, speaker=expand_runs(doc.speaker),
        tracks=[
            TrackTruth(track_index=t.track_index, person_id=t.person_id, shot_index=t.shot_index,
                       first_frame=t.first_frame, last_frame=t.last_frame,
                       boxes=np.asarray(t.boxes, dtype=np.float32).reshape(-1, 4),
                       states=np.asarray(expand_runs(t.state), dtype=np.int8), flags=list(t.flags))
            for t in doc.tracks
        ],
        backchannels=doc.backchannels,
    )


def _track_json(track: TrackTruth) -> dict[str, Any]:
    return {
        "track_index": track.track_index,
        "person_id": track.person_id,
        "shot_index": track.shot_index,
        "first_frame": track.first_frame,
        "last_frame": track.last_frame,
        "boxes": np.round(track.boxes.astype(np.float64), 1).tolist(),
        "state": run_lengths([int(s) for s in track.states], offset=track.first_frame),
        "flags": list(track.flags),
    }
