"""What ``bench validity``'s one pipeline run records per clip: every fitted rule is refitted from these.

The pipeline runs once over the corpus; each rule is then replayed offline at other thresholds on
the scores that run recorded, never by running the pipeline again per fold:

- the lip-sync verdict: each speaking segment's score and its voiced speaking frames;
- the state labeller: each usable track's mouth opening, presence and voice activity per frame,
  and the spans the voice-face association gave to another face (what ``StateLabeller`` read);
- the performer filter and the cascade: the shot rows (quality, coarse evidence, how much was
  landmarked) and the track rows (size, coverage, frontality).

A record is plain data (``as_json`` / ``from_json``), so a saved run is refitted without media
(``bench validity --refit``).
"""

from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from annotators.face.face_signals import Signal
from annotators.speaking.sync_thresholds import SyncThresholds
from annotators.speaking.track_sync import track_means
from apps.bench.state_scoring import predicted_frame_states
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState
from schemas.tables import ShotRow, TrackRow


@dataclass(frozen=True)
class CorpusEntry:
    path: Path
    label: str
    source_id: str
    person_id: str
    voice_source: str = ""  # a dubbed copy's voice's source ("": the picture's own)


@dataclass
class SpeakingSegment:
    score: float | None  # None: the model gave no score, and the verdict keeps the segment
    weight: int  # voiced frames labelled speaking inside the segment
    first: int  # analysis frames of the video
    end: int
    # The score by networks that never saw the clip's source (``held_out_sync``); None: not computed or no score
    held_out_score: float | None = None

    def score_of(self, held_out: bool) -> float | None:
        return self.held_out_score if held_out else self.score

    def kept_by(self, thresholds: SyncThresholds, held_out: bool = False) -> bool:
        """Not judged ``out_of_sync`` by ``thresholds`` (a segment without a score is kept)."""
        score = self.score_of(held_out)
        return thresholds.verdict(float("nan") if score is None else float(score)) != "out_of_sync"

    def confirmed_by(self, thresholds: SyncThresholds, held_out: bool = False) -> bool:
        """Judged ``in_sync`` by ``thresholds``: what a trainer reading ``sync_verdicts=[in_sync]`` gets."""
        score = self.score_of(held_out)
        return score is not None and thresholds.verdict(float(score)) == "in_sync"


@dataclass
class TrackSignals:
    """One usable track as the state labeller read it (per frame of the track)."""

    track_id: str
    first: int  # the track's first frame in the video
    mouth_open: np.ndarray  # NaN where the face is absent
    jaw_open: np.ndarray
    present: np.ndarray  # bool
    vad: np.ndarray  # voice-activity probability
    foreign: list[tuple[int, int]]  # frames (of the track) the association gave to another face's voice


@dataclass
class ClipRecord:
    clip: str
    label: str
    source: str
    person: str
    voice_source: str  # the source of the voice heard (the picture's own source unless dubbed)
    fps: float
    voiced: int  # voiced frames (voice activity at or above the states stage's threshold)
    speaking_frames: int  # frames labelled speaking, voiced or not
    segments: list[SpeakingSegment]
    shots: list[ShotRow]
    tracks: list[TrackRow]
    signals: list[TrackSignals] = field(default_factory=list)
    rejections: dict[str, int] = field(default_factory=dict)  # reason -> count (why a clip may have nothing)
    video_rejection: str | None = None  # "stage: reason" where the whole clip was rejected
    # Voiced frames labelled listening inside a listening segment (what a trainer is given as listening).
    listening_voiced: int = 0

    @property
    def genuine(self) -> bool:
        return self.label != "dubbed"

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("segments", "signals", "shots", "tracks")}
        out["shots"] = [_row(asdict(s)) for s in self.shots]
        out["tracks"] = [_row(asdict(t)) for t in self.tracks]
        out["segments"] = [s.__dict__ for s in self.segments]
        out["signals"] = [{k: _plain(v) for k, v in s.__dict__.items()} for s in self.signals]
        return out

    @staticmethod
    def from_json(data: dict[str, Any]) -> "ClipRecord":
        signals = [
            TrackSignals(s["track_id"], s["first"], _array(s["mouth_open"]), _array(s["jaw_open"]),
                         np.asarray(s["present"], dtype=bool), _array(s["vad"]), [tuple(f) for f in s["foreign"]])
            for s in data["signals"]
        ]
        fields = {k: v for k, v in data.items() if k not in ("segments", "signals", "shots", "tracks")}
        return ClipRecord(**fields, segments=[SpeakingSegment(**s) for s in data["segments"]], signals=signals,
                          shots=[ShotRow(**s) for s in data["shots"]], tracks=[TrackRow(**t) for t in data["tracks"]])


def record_of(
    entry: CorpusEntry, work: VideoWork, vad_threshold: float, fps: float, vad: np.ndarray | None = None,
    held_out_scores: dict[int, float | None] | None = None, per_track: bool = False,
) -> ClipRecord:
    """The record of one analysed clip (signals only for genuine clips: the labeller's fold reads
    them). ``vad``: per analysis frame, for a clip the pipeline stopped before its speech analysis
    (too short, no usable shot): its voiced frames are still speech the pipeline lost.
    ``held_out_scores``: index in ``work.segments`` -> the segment's held-out lip-sync score, read as
    the states stage reads the shipped one: with ``per_track``, its track's speaking segments' mean
    (``annotators.speaking.track_sync``, weighted by the same voiced speaking frames)."""
    if work.speech is not None:
        vad = np.asarray(work.speech.vad_prob, dtype=np.float32)
    n = work.analysis.n_frames if work.analysis is not None else len(vad) if vad is not None else 0
    fps = work.analysis.fps if work.analysis is not None else fps
    # No audio track: nothing is voiced.
    vad = np.zeros(n, dtype=np.float32) if vad is None else np.asarray(vad, dtype=np.float32)[:n]
    voiced = np.zeros(n, dtype=bool)
    voiced[: len(vad)] = vad >= vad_threshold
    states = predicted_frame_states(work, n)
    speaking = states == PerformerState.SPEAKING
    segments = []
    in_listening = np.zeros(n, dtype=bool)
    tracks = []
    for i, segment in enumerate(work.segments):
        first, end = int(round(segment.t_start * fps)), int(round(segment.t_end * fps))
        if segment.state == "listening":
            in_listening[first:end] = True
        if segment.state != "speaking":
            continue
        segments.append(SpeakingSegment(segment.lip_sync_score, int((voiced & speaking)[first:end].sum()),
                                        first, end, (held_out_scores or {}).get(i)))
        tracks.append(segment.track_id)
    if per_track and held_out_scores:
        pooled = track_means([s.held_out_score for s in segments], [s.weight for s in segments], tracks)
        for s, score in zip(segments, pooled, strict=True):
            s.held_out_score = score
    label = entry.label
    return ClipRecord(
        clip=entry.path.name, label=label, source=entry.source_id, person=entry.person_id,
        voice_source=entry.voice_source or entry.source_id, fps=fps, voiced=int(voiced.sum()),
        speaking_frames=int(speaking.sum()), segments=segments,
        shots=[replace(s) for s in work.shots], tracks=[replace(t) for t in work.tracks],
        signals=_track_signals(work, vad, fps) if label != "dubbed" else [],
        rejections=dict(Counter(str(r.reason) for r in work.rejections)),
        video_rejection=f"{work.stage}: {work.reason}" if work.state == "rejected" else None,
        listening_voiced=int((voiced & in_listening & (states == PerformerState.LISTENING)).sum()),
    )


def _track_signals(work: VideoWork, vad: np.ndarray, fps: float) -> list[TrackSignals]:
    shots = {s.shot_id: s for s in work.shots}
    foreign: dict[str, list[tuple[int, int]]] = {}
    for track_id, first, end in work.voice_faces.foreign if work.voice_faces is not None else []:
        foreign.setdefault(track_id, []).append((int(first), int(end)))
    out = []
    for track in work.tracks:
        features = work.track_features.get(track.track_id)
        if not track.usable or features is None:
            continue
        present = np.asarray(features.present, dtype=bool)
        first = int(round(shots[track.shot_id].t_start * fps))
        # The labeller's slice of the video's voice activity: zero past the end of the audio.
        track_vad = np.zeros(len(present), dtype=np.float32)
        chunk = vad[first : first + len(present)]
        track_vad[: len(chunk)] = chunk
        signals = np.asarray(features.signals, dtype=np.float32)
        out.append(TrackSignals(track.track_id, first, signals[:, Signal.MOUTH_OPEN],
                                signals[:, Signal.JAW_OPEN], present, track_vad,
                                foreign.get(track.track_id, [])))
    return out


def _row(row: dict[str, Any]) -> dict[str, Any]:
    """A shot or track row as plain JSON values (numpy scalars become Python numbers)."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return value.tolist()
        return [None if not np.isfinite(x) else float(x) for x in value]
    return value


def _array(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float32)
