"""The typed products stages hand each other on a video's record.

Each product is owned by the stage that adds it (named in its docstring) and declared in that
stage's ``adds``; a stage that reads one declares it in ``needs``, and the workflow checks at load
that an earlier stage adds it. A product holds compact data (numbers, small arrays, ids and paths
into the run store); what is large (decoded audio, JPEG crops, encoded samples) is written by the
worker that made it into the run store (``curation.store.artefacts``) and referenced here by path.

They are plain dataclasses of JSON values and numpy arrays, so the resume ledger stores them as
versioned plain data (``curation.store.plain_codec``), never as pickled objects.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from schemas.speech_rows import SpeakerTurn, TranscribedWord
from schemas.voice_span import VoiceSpan


@dataclass
class AnalysisGrid:
    """``visual_analysis``: the analysis frame grid every per-frame array is sampled on."""

    fps: float
    width: int
    height: int
    scale: float  # analysis pixels per source pixel
    n_frames: int
    quality: np.ndarray  # (n_frames, len(QUALITY_NAMES)) float16


@dataclass
class TrackFeatures:
    """``visual_analysis`` (the face tracker's arrays) and ``states`` (``state``, ``speaking_prob``):
    one track's per-frame arrays over every analysis frame of its shot, absent frames NaN / False."""

    present: np.ndarray  # bool: a face of the track in the frame
    face_box: np.ndarray  # (n, 4) float16: x0, y0, x1, y1 as fractions of the frame
    signals: np.ndarray  # (n, len(SIGNAL_NAMES)) float16 (annotators.face.face_signals.Signal columns)
    blendshapes: np.ndarray  # (n, 52) float16: MediaPipe's blendshape scores
    kps5: np.ndarray  # (n, 5, 2) float32: five face keypoints in analysis pixels
    on_tile: np.ndarray  # bool: found by the small-face tiling pass
    state: np.ndarray | None = None  # int8 PerformerState codes, once the states stage labelled the track
    speaking_prob: np.ndarray | None = None  # float16, with ``state``

    def __len__(self) -> int:
        return len(self.present)

    def labelled_states(self) -> np.ndarray:
        """``state``, for a reader that declared ``track_features.state`` in its needs."""
        if self.state is None:
            raise LookupError("the states stage has not labelled this track")
        return self.state

    def speaking_probability(self) -> np.ndarray:
        """``speaking_prob``, for a reader that declared ``track_features.speaking_prob`` in its needs."""
        if self.speaking_prob is None:
            raise LookupError("the states stage has not labelled this track")
        return self.speaking_prob


@dataclass
class FaceCrop:
    """One face seen at time ``t``: its landmarks and signals here, its JPEGs (face, upper body,
    whole frame) in the video's crop archive under ``name``."""

    t: float
    name: str
    face_landmarks: np.ndarray  # landmarks in the face crop's pixels
    signals: np.ndarray  # float16, SIGNAL_NAMES
    blendshapes: np.ndarray  # float16, BLENDSHAPE_NAMES


CROP_KINDS = ("face", "body", "global")  # face, upper body, whole frame


def crop_jpeg_name(crop_name: str, kind: str) -> str:
    """The name of one of a crop's JPEGs in the crop archive."""
    return f"{crop_name}.{kind}"


@dataclass
class FaceCrops:
    """``visual_analysis``: a few crops per second of every track (identity, references, VLM frames)."""

    archive: str  # run-store path of the JPEG archive (``curation.store.artefacts``)
    by_track: dict[str, list[FaceCrop]] = field(default_factory=dict)

    def of_track(self, track_id: str) -> list[FaceCrop]:
        return self.by_track.get(track_id, [])

    def all(self) -> list[FaceCrop]:
        return [crop for crops in self.by_track.values() for crop in crops]


@dataclass
class KeyFrameHashes:
    """``visual_analysis``: 64-bit perceptual hashes of key frames (None: a blank frame)."""

    times: list[float] = field(default_factory=list)
    hashes: list[int | None] = field(default_factory=list)

    def between(self, t_start: float, t_end: float) -> tuple[int | None, ...]:
        return tuple(h for t, h in zip(self.times, self.hashes, strict=True) if t_start <= t < t_end)


@dataclass
class AudioTrack:
    """``audio_analysis``: the audio decoded once (16 kHz mono int16), stored in the run store."""

    sample_rate: int
    n_samples: int
    pcm_path: str  # run-store path of the int16 PCM (.npy); empty when the video has no audio


@dataclass
class SpeechResult:
    """``speech``: voice activity per analysis frame, speech intervals and turns, words."""

    vad_prob: np.ndarray  # float16 per analysis frame
    intervals: list[tuple[float, float]] = field(default_factory=list)
    turns: list[SpeakerTurn] = field(default_factory=list)  # speaker None: no diarization ran
    words: list[TranscribedWord] | None = None
    asr: str = "off"
    diarization: str = "off"

    @property
    def diarized(self) -> bool:
        return self.diarization not in ("", "off")


@dataclass
class VoiceFaces:
    """``states``: which face owns which voice across the video (voice-face association);
    ``voice_identities`` revisits the owners with the whole run's evidence."""

    voices: str  # "diarization" (pyannote turns), "voice_embedding" (Resemblyzer) or "voice_profile" (MFCC)
    owners: dict[str, str] = field(default_factory=dict)
    spans: list[VoiceSpan] = field(default_factory=list)
    # [track id, first, end frame of the track] of the spans the labels treat as another face's
    # voice (listening): the video's own answer, or the run's once voice_identities applied it
    foreign: list[list[Any]] = field(default_factory=list)
    sync_baseline: float = 0.0  # the association's synchrony baseline, which the run's pooling keeps
    # Each voice's learned embedding (unit vector) for matching voices across videos; empty
    # without the voice encoder, whose absence leaves the association to this video alone.
    voice_vectors: dict[str, list[float]] = field(default_factory=dict)
    # The states stage's labelling settings (lip-sync model as resolved on its worker), so
    # ``voice_identities`` can label the video again the same way.
    labelling: dict[str, Any] = field(default_factory=dict)
    # Set by voice_identities ("run"): each voice's run voice, the run's owners (run voice ->
    # identity, or "<video id>/<face>" for a face no identity stands for), and whether the run's
    # foreign spans differ from the video's own, so that the states were labelled again.
    scope: str = "video"
    run_voices: dict[str, str] = field(default_factory=dict)
    run_owners: dict[str, str] = field(default_factory=dict)
    relabelled: bool = False


@dataclass
class TrackIdentityVector:
    """An identity vector of one track (``states`` computes it for voice-face grouping, ``identity``
    reuses it): the same crops and embedder give the same vector, so it is computed once."""

    vector: np.ndarray
    kind: str
    strength: str
    max_frames: int


@dataclass
class SegmentReference:
    """``references``: one reference image of a segment, taken from outside its time window."""

    reference_id: str
    kind: str  # face | body | global
    view_bin: str
    expression_bin: str
    video_id: str
    track_id: str
    t: float
    score: float
    archive: str  # run-store path of the crop archive that holds the JPEG
    jpeg_name: str  # its name in that archive


@dataclass
class SegmentCaption:
    """``captions``: the validated performance annotation and its captions for one segment."""

    # the annotation's JSON document (``schemas.performance_annotation.annotation_document``), as
    # the sample carries it: stored as written, never decoded to classes and written again
    annotation: dict[str, Any]
    caption: dict[str, Any]


@dataclass
class SampleEntry:
    """One encoded sample: its key, its segment and its members' sizes (what shard planning needs)."""

    key: str
    segment_id: str
    bucket: str  # the shard bucket of its segment ("" when shards are not bucketed)
    member_sizes: dict[str, int]
    stem: str  # its members are ``<stem>.<ext>`` in the sample archive (the key, as written)

    def member_name(self, ext: str) -> str:
        return f"{self.stem}.{ext}"


@dataclass
class SampleSet:
    """``samples``: every kept segment's encoded members, written by the worker to one archive."""

    archive: str  # run-store path of the sample archive (``curation.store.artefacts``)
    entries: list[SampleEntry] = field(default_factory=list)
