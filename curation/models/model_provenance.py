"""What run.json records of a model: its pinned version and checksum, without reading the weights.

The pins are what ``lpm-curate models verify`` checks the bytes against, so two runs whose models
have the same provenance ran on the same bytes (once verified), and two different ones did not.
"""

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from curation.models.model_store import files_sha256, model_spec, models_dir, read_lock


@dataclass(frozen=True)
class ModelProvenance:
    """What run.json records of a model a run used: enough to tell two runs' models apart."""

    name: str
    version: str  # release, Hugging Face revision, or the package version that ships the weights
    sha256: str | None  # the pinned checksum (hf: one checksum over the pinned files)
    source: str  # where it comes from: URL, repository or pip package


def provenance(name: str, directory: Path | None = None) -> ModelProvenance:
    """The pinned identity of a model (the pins are what ``models verify`` checks the bytes against)."""
    spec = model_spec(name)
    if spec.source == "package":
        try:
            version = metadata.version(spec.package or "")
        except metadata.PackageNotFoundError:
            version = "not installed"
        return ModelProvenance(name, f"{spec.package} {version}", spec.sha256, f"pip:{spec.package}")
    if spec.source == "hf_snapshot":
        checksum = files_sha256(spec.files) if spec.files else read_lock(directory or models_dir()).get(name)
        return ModelProvenance(name, spec.revision or "unpinned", checksum, f"hf:{spec.repo_id}")
    checksum = spec.sha256 or read_lock(directory or models_dir()).get(name)
    return ModelProvenance(name, spec.version, checksum, spec.url or "")
