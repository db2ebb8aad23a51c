"""Pack samples into WebDataset tar shards with an index, reproducibly and atomically.

Samples arrive video by video in a fixed order (sorted video ids, then sample keys) and go to
the open shard of their bucket; a shard is closed when it reaches ``target_bytes``. Tar headers
carry no time, owner or mode that depends on the machine, so the same samples give byte-identical
shards. Each shard is written under a temporary name, renamed into place, and its index (keys,
member offsets, sizes, SHA-256) is written after it: a shard without an index is not committed.
"""

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from curation.faults.crash_points import crash_point
from curation.store.run_store import TEMP_PREFIX, RunStore
from schemas.shard_index import MemberSpan, ShardIndex, ShardSample, index_path_of
from schemas.tables import SegmentRow, ShardRow
from schemas.version import SCHEMA_VERSION

SHARDS_DIR = "shards"


@dataclass
class ShardSettings:
    target_bytes: int = 1_000_000_000
    bucket_by: list[str] = field(default_factory=list)  # segment fields, e.g. ["state"]

    def bucket_of(self, segment: SegmentRow) -> str:
        parts = [f"{name}={_safe(getattr(segment, name))}" for name in self.bucket_by]
        return "/".join(parts)


def tar_member_bytes(size: int) -> int:
    """What one member adds to a USTAR archive: its 512-byte header and its data padded to 512."""
    return 512 + -(-size // 512) * 512


@dataclass
class _OpenShard:
    bucket: str
    number: int
    file: Any
    tar: tarfile.TarFile
    path: str  # temporary local path
    samples: list[ShardSample] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.file.tell()


def shard_name(bucket: str, number: int) -> str:
    prefix = f"{bucket}/" if bucket else ""
    return f"{prefix}shard-{number:06d}.tar"


class ShardWriter:
    def __init__(self, store: RunStore, settings: ShardSettings, staging_dir: str) -> None:
        self.store = store
        self.settings = settings
        self.staging_dir = staging_dir
        self._open: dict[str, _OpenShard] = {}
        self._numbers: dict[str, int] = {}
        self.rows: list[ShardRow] = []
        self.locations: dict[str, tuple[str, str]] = {}  # segment key -> (shard path, key)

    def write_shard(self, bucket: str, number: int, samples: Iterable[tuple[str, dict[str, bytes]]]) -> ShardRow:
        """Write one planned shard (its bucket, number and samples fixed by the shard plan) and
        commit it with its index; returns its ``shards`` manifest row."""
        self._numbers[bucket] = number
        shard = self._start(bucket)
        for key, members in samples:
            self._append(shard, key, members)
        self._commit(shard)
        return self.rows[-1]

    def add(self, bucket: str, key: str, members: dict[str, bytes]) -> None:
        shard = self._open.get(bucket) or self._start(bucket)
        self._append(shard, key, members)
        if shard.size >= self.settings.target_bytes:
            self._commit(shard)

    def _append(self, shard: _OpenShard, key: str, members: dict[str, bytes]) -> None:
        spans: dict[str, MemberSpan] = {}
        for ext in sorted(members):
            data = members[ext]
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            # addfile copies ``info``, so the data offset is computed here: after the header.
            header = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
            data_offset = shard.tar.offset + len(header)
            shard.tar.addfile(info, io.BytesIO(data))
            spans[ext] = MemberSpan(data_offset, len(data), hashlib.sha256(data).hexdigest())
        shard.samples.append(ShardSample(key, spans))
        crash_point("sample")
        self.locations[key] = (f"{SHARDS_DIR}/{shard_name(shard.bucket, shard.number)}", key)

    def close(self) -> list[ShardRow]:
        for shard in list(self._open.values()):
            self._commit(shard)
        return self.rows

    def _start(self, bucket: str) -> _OpenShard:
        number = self._numbers.get(bucket, 0)
        self._numbers[bucket] = number + 1
        fd, path = tempfile.mkstemp(dir=self.staging_dir, prefix=TEMP_PREFIX, suffix=".tar")
        file = os.fdopen(fd, "w+b")
        tar = tarfile.open(fileobj=file, mode="w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115 - open until _commit
        shard = _OpenShard(bucket, number, file, tar, path)
        self._open[bucket] = shard
        return shard

    def _commit(self, shard: _OpenShard) -> None:
        shard.tar.close()
        shard.file.flush()
        os.fsync(shard.file.fileno())
        shard.file.seek(0)
        data_sha = hashlib.sha256()
        for block in iter(lambda: shard.file.read(1 << 20), b""):
            data_sha.update(block)
        size = shard.file.tell()
        shard.file.close()
        name = shard_name(shard.bucket, shard.number)
        relative = f"{SHARDS_DIR}/{name}"
        _place(self.store, shard.path, relative)
        index = ShardIndex(SCHEMA_VERSION, name, shard.bucket, len(shard.samples), size, data_sha.hexdigest(),
                           shard.samples)
        index_path = index_path_of(relative)
        self.store.write_bytes(index_path, index.to_json())
        self.rows.append(index.manifest_row(relative, index_path))
        del self._open[shard.bucket]
        crash_point("shard")


def _place(store: RunStore, local_tmp: str, relative: str) -> None:
    """Move a finished temporary file to its final name in the run directory, atomically."""
    if store.remote:
        store.put_file(local_tmp, relative)
        os.unlink(local_tmp)
        return
    target = store.writable_path(relative)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(local_tmp, target)


@contextmanager
def staging_folder(store: RunStore) -> Iterator[str]:
    """Where a ``ShardWriter`` for ``store`` builds its shards: the run's own shard folder on a local
    disk (a shard is then renamed into place), else a local temporary folder removed on leaving, also
    when the upload failed: a worker packing thousands of shards for an object store would otherwise
    leave a folder each (and a whole shard each time a request failed) on its node's disk."""
    if not store.remote:
        staging = store.writable_path(SHARDS_DIR)
        os.makedirs(staging, exist_ok=True)
        yield staging
        return
    staging = tempfile.mkdtemp(prefix="lpm-shards-")
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _safe(value: Any) -> str:
    text = str(value) if value is not None else "none"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def committed_shards(store: RunStore) -> Iterable[str]:
    """Relative paths of every tar under shards/ (committed or orphaned), for clean-up."""
    if store.remote:
        return store.find(SHARDS_DIR, (".tar", ".json"))
    root = store.local_path(SHARDS_DIR)
    return (
        [str(p.relative_to(store.local_path(""))) for p in root.rglob("*") if p.suffix in (".tar", ".json")]
        if root.exists()
        else []
    )
