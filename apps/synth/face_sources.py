"""Where face photos come from without a network: sample photos inside installed packages, or the
user's own images (``--faces``).

Nothing is downloaded and no photo is copied into the repository: the packaged photos are read
from the installed package at run time, so a missing package is a clear error that names it.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


class FaceSourceError(FileNotFoundError):
    """No usable face photo: names the packages that ship some and the ``--faces`` option."""


@dataclass(frozen=True)
class PackagedPhoto:
    """A sample photo with real faces that a Python package installs with itself."""

    package: str  # importable top-level package
    relative_path: str  # inside the package folder
    pip_name: str  # what to install to get it
    what: str


PACKAGED_PHOTOS: tuple[PackagedPhoto, ...] = (
    PackagedPhoto("insightface", "data/images/t1.jpg", "insightface", "group photo, six people"),
    PackagedPhoto(
        "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "matplotlib", "portrait, one person"
    ),
    PackagedPhoto("skimage", "data/astronaut.png", "scikit-image", "portrait, one person"),
)


@dataclass(frozen=True)
class FacePhoto:
    path: Path
    label: str  # stable, filesystem-safe prefix for the identities found in this photo
    source: str  # human-readable provenance, e.g. "insightface:data/images/t1.jpg"


def packaged_photo_path(photo: PackagedPhoto) -> Path | None:
    """The photo's path in the installed package, or None when the package or file is absent.

    ``find_spec`` locates the package without importing it (importing insightface pulls in
    onnxruntime and more just to read one JPEG)."""
    try:
        spec = importlib.util.find_spec(photo.package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / photo.relative_path
    return path if path.is_file() else None


def packaged_face_photos() -> list[FacePhoto]:
    photos = []
    for photo in PACKAGED_PHOTOS:
        path = packaged_photo_path(photo)
        if path is not None:
            label = f"{photo.package}-{Path(photo.relative_path).stem}".replace("_", "-")
            photos.append(FacePhoto(path, label, f"{photo.package}:{photo.relative_path}"))
    return photos


def user_face_photos(paths: list[Path]) -> list[FacePhoto]:
    """Image files given directly, or the images inside given folders (sorted, not recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise FaceSourceError(f"--faces: {path} does not exist")
    if not files:
        raise FaceSourceError(f"--faces: no images ({', '.join(IMAGE_SUFFIXES)}) in {paths}")
    return [FacePhoto(f, _safe_label(f.stem), f"user:{f}") for f in files]


def find_face_photos(user_paths: list[Path] | None = None) -> list[FacePhoto]:
    if user_paths:
        return user_face_photos(user_paths)
    photos = packaged_face_photos()
    if not photos:
        wanted = "; ".join(f"{p.pip_name} ({p.relative_path}: {p.what})" for p in PACKAGED_PHOTOS)
        raise FaceSourceError(
            "no face photos available offline: install a package that ships sample photos "
            f"({wanted}), e.g. `pip install -e '.[identity]'` for insightface, "
            "or pass your own images with --faces DIR_OR_FILES"
        )
    return photos


def _safe_label(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in stem.lower()).strip("-")
    return cleaned or "face"
