"""The ``json`` member of a sample: the full record of its segment.

The sample writer fills a ``SampleRecord`` and writes ``asdict`` of it (keys sorted); trainers
read it back with ``SampleRecord.from_json``. ``sample_layout.SAMPLE_JSON_FIELDS`` and the schema
reference are derived from these classes, so what is documented is what is written. Every field
may be null: a sample written by an earlier schema version lacks the fields added since (read as
None), and a reader ignores fields a later version added. ``annotation`` and ``caption`` are the
documents ``performance_annotation.json`` defines (``$defs/caption`` for the caption).
"""

import json
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

_Part = TypeVar("_Part")

# ``sync_verdict`` of a speaking segment (``out_of_sync`` is written only where the run kept such
# segments: ``states.reject_out_of_sync=false``); not speaking: null.
SYNC_VERDICTS = ("in_sync", "uncertain", "out_of_sync")


@dataclass
class SampleScores:
    """The segment's quality, sync and voice-activity scores (its ``segments`` manifest row's)."""

    vad_frac: float | None = None
    speaking_prob_mean: float | None = None
    sync_offset_frames: float | None = None
    sync_confidence: float | None = None
    lip_sync_score: float | None = None
    audio_loudness_db: float | None = None
    audio_clipping_frac: float | None = None
    face_height_px: float | None = None
    sharpness: float | None = None


@dataclass
class SampleReference:
    """One identity reference image of the sample, in ``ref_NN.jpg`` order."""

    member: str | None = None  # its member name: ref_00.jpg, ref_01.jpg, ...
    reference_id: str | None = None
    kind: str | None = None  # face | body | global
    view_bin: str | None = None
    expression_bin: str | None = None
    video_id: str | None = None  # where it was taken: outside the segment's time window
    track_id: str | None = None
    t: float | None = None  # source seconds
    score: float | None = None


@dataclass
class SampleChannels:
    """How ``own.wav`` and ``partner.wav`` were cut (absent before schema 1.4)."""

    source: str | None = None  # "turns" (named speakers' turns said whose voice) | "states" (the faces' labels)
    separation: str | None = None  # the separation model that split overlaps (null: none ran)
    separated_overlaps: int | None = None  # overlap runs it split
    own_voice_frames: int | None = None
    partner_voice_frames: int | None = None
    overlap_frames: int | None = None


@dataclass
class SampleProvenance:
    """The input and where in it the segment lies."""

    uri: str | None = None
    source_t_start: float | None = None
    source_t_end: float | None = None


@dataclass
class SampleRecord:
    schema_version: str | None = None
    key: str | None = None
    segment_id: str | None = None
    video_id: str | None = None
    track_id: str | None = None
    identity_id: str | None = None
    state: str | None = None  # dominant state name
    t_start: float | None = None  # source seconds
    t_end: float | None = None
    fps: float | None = None
    n_frames: int | None = None
    size: int | None = None
    audio_source: str | None = None  # "own" | "mix" | "partner_track"
    partner_segment_id: str | None = None  # listening: the speaking segment it reacts to (or null)
    sync_verdict: str | None = None  # speaking: in_sync | uncertain | out_of_sync; null: not speaking or before 1.4
    picture_twin_of: str | None = None  # a segment with the same pictures and other audio (one of the two is dubbed)
    state_timeline: list[list[Any]] | None = None  # run-length list of [state_name, first_frame, n_frames]
    state_codes: dict[str, int] | None = None  # {state_name: code}: what the npz member's state array holds
    scores: SampleScores = field(default_factory=SampleScores)  # quality, sync and VAD scores
    transcript: str | None = None  # the words heard during the segment when ASR ran (else null)
    annotation: dict[str, Any] | None = None  # the performance annotation (schemas/performance_annotation.json)
    caption: dict[str, Any] | None = None  # {"short", "detailed", "captioner", "claims"}; {"short"} uncaptioned
    references: list[SampleReference] = field(default_factory=list)  # metadata of each ref_NN.jpg, in order
    blendshape_names: list[str] | None = None  # the names of the npz member's blendshapes columns, in order
    channels: SampleChannels | None = None  # how own.wav and partner.wav were cut
    provenance: SampleProvenance = field(default_factory=SampleProvenance)  # the input, and the span in it

    @classmethod
    def from_json(cls, data: bytes) -> "SampleRecord":
        """A record as written by any schema version (``ValueError`` when it is not a JSON object)."""
        document = json.loads(data.decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError(f"a sample record is a JSON object, not {type(document).__name__}")
        return cls.from_document(document)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "SampleRecord":
        """From the parsed JSON object: fields it lacks are None, fields this version does not know are left."""
        known = _known(cls, document)
        known["scores"] = _part(SampleScores, known.get("scores")) or SampleScores()
        known["references"] = [_part(SampleReference, r) or SampleReference() for r in known.get("references") or []]
        known["channels"] = _part(SampleChannels, known.get("channels"))
        known["provenance"] = _part(SampleProvenance, known.get("provenance")) or SampleProvenance()
        return cls(**known)

    def short_caption(self) -> str:
        return str((self.caption or {}).get("short") or "")


def _known(cls: type, document: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in document.items() if k in names}


def _part(cls: type[_Part], document: Any) -> _Part | None:
    return cls(**_known(cls, document)) if isinstance(document, dict) else None
