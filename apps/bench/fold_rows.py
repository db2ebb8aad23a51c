"""The rows the benches refit their rules on, one class per kind of unit a rule decides on.

Every row names the source of its picture and of its voice (``SourcedRow``): the leave-one-source-out
loop (``apps.bench.sync_folds``) reads nothing else of a row. A row that enters precision and recall
(``apps.bench.decision_figures``) also says what the corpus says of it (``positive``: True, False,
None when the corpus cannot say) and how many units it stands for (``weight``: frames, or 1 for a
shot). ``ScoredSegment`` is also the JSON record ``bench dubbing`` and ``bench learned-sync`` write
(``as_json``) and ``--refit`` reads back (``from_json``).
"""

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from apps.bench.validity_records import TrackSignals
from curation.store.plain_codec import decode
from schemas.tables import ShotRow, TrackRow


@dataclass(frozen=True, kw_only=True)
class SourcedRow:
    """What the fold loop sorts by: a fold never fits on a row whose picture or voice is its source's."""

    picture_source: str
    voice_source: str


@dataclass(frozen=True, kw_only=True)
class DecisionUnit:
    """Units with one truth: ``weight`` frames or shots the corpus says ``positive`` of."""

    positive: bool | None
    weight: int


@dataclass(frozen=True, kw_only=True)
class ScoredSegment(SourcedRow):
    """A speaking segment's lip-sync score under its own voice (genuine) or another person's (dubbed);
    ``weight``: its voiced speaking frames; ``score`` None: the model found no evidence."""

    picture: str  # the clip whose picture it is
    genuine: bool
    score: float | None
    weight: int
    voice: str | None = None  # the clip whose voice it carries (``picture`` when genuine), where known
    segment_id: str | None = None
    verdict: str | None = None  # as the run's verdict called it (``bench dubbing``)

    @property
    def positive(self) -> bool:
        """The corpus's truth for "kept": genuine speech is to keep, dubbed speech is not."""
        return self.genuine

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(document: dict[str, Any]) -> "ScoredSegment":
        """A saved record, read by its declared fields (``PlainDataError`` names a missing or unknown one)."""
        return decode(document, {}, ScoredSegment)


@dataclass(frozen=True, kw_only=True)
class SpeakingTrack(SourcedRow):
    """A usable track of a genuine talking head, as the run recorded its signals, with its positive
    (voiced, present) frames kept as speaking at each threshold of the mouth-motion grid."""

    clip: str
    track: TrackSignals
    fps: float
    kept_at_grid: np.ndarray
    positives: int


@dataclass(frozen=True, kw_only=True)
class JudgedShot(SourcedRow):
    """A shot of a genuine clip with its tracks, for the performer filter (``positive``: the clip's
    label says a performer is to keep; None: the label cannot say per shot)."""

    clip: str
    label: str
    shot: ShotRow
    tracks: list[TrackRow]
    fps: float
    positive: bool | None
    weight: int = 1


@dataclass(frozen=True, kw_only=True)
class GatedShot(SourcedRow):
    """A shot with coarse evidence, for the cascade's skip margin (``positive``: the run's landmarks
    found a usable performer; None: the run skipped it, so its truth is unknown)."""

    clip: str
    label: str
    shot: ShotRow
    landmarked_in_run: bool
    positive: bool | None
    weight: int = 1
