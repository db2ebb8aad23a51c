"""Where a speech model is: a registry name resolved in the models directory, or a local path."""

from pathlib import Path

from curation.models.model_store import resolve


def locate_model(model: str | Path) -> Path:
    """``model`` as an existing path; a string that is not an existing path is a registry name
    (``ModelMissingError`` naming the fetch command when the model is absent)."""
    if isinstance(model, str) and not Path(model).exists():
        return resolve(model)
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(f"model path {path} does not exist")
    return path
