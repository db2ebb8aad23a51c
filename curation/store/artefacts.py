"""Large per-video artefacts in the run store, written once by the worker that made them.

Decoded audio, JPEG crops and encoded sample members live under ``work/artefacts/<video_id>/``
of the run store (a local folder or an object-store URI) and are referenced from the video's
record by path, so what moves between blocks, and to the driver, is ids, paths and compact
summaries. Any node reads them back by path: no stage relies on another node's local disk.
Each file is one atomic write (``RunStore.write_bytes``); a rerun of a stage rewrites the same
bytes under the same name.
"""

import io
from functools import lru_cache

import numpy as np

from curation.storage_formats import npz_bytes
from curation.store.run_store import RunStore

ARTEFACTS_DIR = "work/artefacts"


def artefact_path(video_id: str, name: str) -> str:
    return f"{ARTEFACTS_DIR}/{video_id}/{name}"


def write_array(run_uri: str, video_id: str, name: str, array: np.ndarray) -> str:
    """Store one array as ``.npy``; returns its run-store path."""
    path = artefact_path(video_id, f"{name}.npy")
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    _store(run_uri).write_bytes(path, buffer.getvalue())
    return path


def read_array(run_uri: str, path: str) -> np.ndarray:
    return np.lib.format.read_array(io.BytesIO(_store(run_uri).read_bytes(path)), allow_pickle=False)


def write_blobs(run_uri: str, video_id: str, name: str, blobs: dict[str, bytes]) -> str:
    """Store named byte strings (JPEGs, sample members) as one archive; returns its path."""
    path = artefact_path(video_id, f"{name}.npz")
    arrays = {key: np.frombuffer(data, dtype=np.uint8) for key, data in blobs.items()}
    _store(run_uri).write_bytes(path, npz_bytes(arrays))
    return path


class BlobArchive:
    """Read access to one blob archive; the archive is fetched once and kept while open."""

    def __init__(self, run_uri: str, path: str) -> None:
        self._archive = np.load(io.BytesIO(_store(run_uri).read_bytes(path)), allow_pickle=False)

    def __enter__(self) -> "BlobArchive":
        return self

    def __exit__(self, *_exc: object) -> None:
        self._archive.close()

    def names(self) -> list[str]:
        return sorted(self._archive.files)

    def get(self, name: str) -> bytes:
        return self._archive[name].tobytes()


def read_blob(run_uri: str, path: str, name: str) -> bytes:
    with BlobArchive(run_uri, path) as archive:
        return archive.get(name)


@lru_cache(maxsize=8)
def _store(run_uri: str) -> RunStore:
    if not run_uri:
        raise ValueError("this video has no run store (VideoWork.run_uri is empty): artefacts have nowhere to go")
    return RunStore(run_uri)
