"""Turn the ``--input`` argument into a sorted list of input URIs.

Accepted: a directory (recursive), a glob, or a list file (``.txt`` one URI per line, ``.csv``
with a ``uri`` column or URIs in the first column, ``.parquet`` with a ``uri`` column), each as a
local path or an fsspec URI (``s3://``, ``gs://``, ...). Files are listed, never opened, here:
reading them is the ingest stage's job, so a bad file becomes a rejection, not a crash.

A folder is read for the files with a video's extension; the others it holds (images, audio,
notes) are counted by extension in ``passed_over`` when one is given, so that the run can say
what it did not read. A glob or a list file names its files: every one of them is an input.
"""

import csv
import glob
import os
from collections import Counter
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import fsspec

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".flv"}
    | {".wmv", ".3gp", ".ogv"}
)
LIST_EXTENSIONS = frozenset({".txt", ".csv", ".parquet"})


class InputError(ValueError):
    """The ``--input`` argument names nothing usable."""


def is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def discover_inputs(spec: str, limit: int | None = None, passed_over: Counter[str] | None = None) -> list[str]:
    """The sorted input URIs ``spec`` names; ``passed_over`` (when given) counts, by extension, the
    files of a walked folder that are not read because their extension is not a video's."""
    passed_over = Counter() if passed_over is None else passed_over
    uris = _discover(spec, passed_over)
    if not uris:
        held = ", ".join(f"{suffix} {n}" for suffix, n in passed_over.most_common(5))
        raise InputError(f"--input {spec!r}: no video files found" + (f" (it holds {held})" if held else ""))
    uris = sorted(dict.fromkeys(uris))
    return uris[:limit] if limit is not None else uris


def _is_video(name: str, passed_over: Counter[str]) -> bool:
    path = Path(name)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return True
    if not path.name.startswith("."):  # hidden files (.DS_Store, ._clip.mp4) are no one's inputs
        passed_over[path.suffix.lower() or "(no extension)"] += 1
    return False


def _discover(spec: str, passed_over: Counter[str]) -> list[str]:
    if is_remote(spec):
        return _discover_remote(spec, passed_over)
    local = spec.removeprefix("file://")
    path = Path(local)
    if path.is_dir():
        return _walk_local(path, passed_over)
    if path.suffix.lower() in LIST_EXTENSIONS and path.is_file():
        return _read_list(local)
    if glob.has_magic(local):
        return sorted(os.path.abspath(p) for p in glob.glob(local, recursive=True) if not Path(p).is_dir())
    if path.exists() or path.is_symlink():
        return [os.path.abspath(local)]
    raise InputError(f"--input {spec!r}: no such file, directory or matching glob")


def _walk_local(root: Path, passed_over: Counter[str]) -> list[str]:
    found = []
    seen: set[tuple[int, int]] = set()
    # Symlinked folders are followed (data is often spread over disks that way); a folder already
    # walked is not entered again, so a link back up the tree cannot make the walk run forever.
    # Symlinks to files (even broken or looping ones) are listed, and rejected later with a reason.
    for folder, dirs, files in os.walk(root, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs.sort()
        for name in files:
            if _is_video(name, passed_over):
                found.append(os.path.abspath(os.path.join(folder, name)))
    return found


def _discover_remote(spec: str, passed_over: Counter[str]) -> list[str]:
    fs, path = fsspec.core.url_to_fs(spec)
    protocol = spec.split("://", 1)[0]
    if Path(path).suffix.lower() in LIST_EXTENSIONS and fs.isfile(path):
        return _read_list(spec)
    if glob.has_magic(path):
        paths = fs.glob(path)
    elif fs.isdir(path):
        paths = [p for p in fs.find(path) if _is_video(p, passed_over)]
    else:
        paths = [path]
    return [f"{protocol}://{p.removeprefix(protocol + '://')}" for p in paths]


def _read_list(spec: str) -> list[str]:
    """The URIs a list file names, read in pieces: a list of 10^6 URIs is ~100 MB of text, and
    holding it whole beside its split lines (or a whole Parquet table beside its Python list)
    would triple what the driver holds before the run starts."""
    suffix = Path(spec.split("?", 1)[0]).suffix.lower()
    if suffix == ".parquet":
        rows = _parquet_uris(spec)
    else:
        # surrogateescape: a file name that is not UTF-8 comes back as the same bytes on disk.
        with fsspec.open(spec, "rt", encoding="utf-8", errors="surrogateescape", newline="") as f:
            rows = _csv_uris(f) if suffix == ".csv" else _text_uris(f)
    base = os.path.dirname(os.path.abspath(spec)) if not is_remote(spec) else None
    # Relative entries are relative to the list file, like paths in a playlist.
    return [u if is_remote(u) or base is None else os.path.abspath(os.path.join(base, u)) for u in rows]


def _parquet_uris(spec: str) -> list[str]:
    import pyarrow.parquet as pq

    with fsspec.open(spec, "rb") as f:
        parquet = pq.ParquetFile(f)
        if "uri" not in parquet.schema_arrow.names:
            raise InputError(f"{spec}: a Parquet input list needs a 'uri' column")
        rows: list[str] = []
        for batch in parquet.iter_batches(batch_size=65_536, columns=["uri"]):  # the one column, in pieces
            rows.extend(str(u) for u in batch.column(0).to_pylist() if u)
    return rows


def _text_uris(lines: Iterable[str]) -> list[str]:
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _csv_uris(lines: Iterable[str]) -> list[str]:
    reader = csv.reader(lines)
    first = next(reader, None)
    if first is None:
        return []
    header = [h.strip().lower() for h in first]
    if "uri" in header:
        column = header.index("uri")
        return [r[column].strip() for r in reader if len(r) > column and r[column].strip()]
    return [r[0].strip() for r in chain([first], reader) if r and r[0].strip()]
