"""Read samples back through shard indexes: random access by key, and full verification."""

import hashlib
import re
from dataclasses import dataclass, field

from curation.manifests.duckdb_views import manifest_names
from curation.manifests.manifest_writer import read_rows
from curation.store.run_store import RunStore
from schemas.shard_index import ShardIndex, ShardIndexError, index_path_of
from schemas.tables import SegmentRow, ShardRow

SAFE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


def load_index(store: RunStore, shard_path: str) -> ShardIndex:
    index_path = index_path_of(shard_path)
    return ShardIndex.from_json(store.read_bytes(index_path), f"{store.uri}/{index_path}")


def _check_key(key: str) -> None:
    if not SAFE_KEY_RE.fullmatch(key):
        raise ValueError(f"unsafe sample key {key!r}: keys are [A-Za-z0-9_-] only")


def read_sample(store: RunStore, shard_path: str, key: str) -> dict[str, bytes]:
    """The members of one sample, read by byte offset without scanning or extracting the tar."""
    _check_key(key)
    index = load_index(store, shard_path)
    entry = index.sample(key)
    if entry is None:
        raise KeyError(f"sample {key!r} is not in {shard_path}")
    members = {}
    with store.open_read(shard_path) as f:
        for ext, where in entry.members.items():
            f.seek(where.offset)
            data = f.read(where.size)
            if hashlib.sha256(data).hexdigest() != where.sha256:
                raise ValueError(f"{shard_path}:{key}.{ext} does not match its index checksum")
            members[ext] = data
    return members


@dataclass
class VerifyReport:
    shards: int = 0
    samples: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_shards(store: RunStore) -> VerifyReport:
    """Re-read every shard: size and SHA-256 of the tar and of each member, against its index,
    and the segments manifest against the samples (each kept segment exactly once)."""
    report = VerifyReport()
    if "shards" not in manifest_names(store):
        report.problems.append("no manifest/shards.parquet: this run wrote no shards")
        return report
    keys_in_shards: dict[str, str] = {}
    for row in read_rows(store, ShardRow):
        report.shards += 1
        path = row.path or ""
        try:
            data = store.read_bytes(path)
            index = load_index(store, path)
        except FileNotFoundError as err:
            report.problems.append(f"{path}: missing ({err})")
            continue
        except ShardIndexError as err:  # a damaged index is a finding of the verification, not its end
            report.problems.append(str(err))
            continue
        report.bytes += len(data)
        if len(data) != row.bytes or len(data) != index.bytes:
            report.problems.append(f"{path}: {len(data)} bytes, manifest says {row.bytes}")
        if hashlib.sha256(data).hexdigest() != row.sha256:
            report.problems.append(f"{path}: SHA-256 differs from the manifest")
        for sample in index.samples:
            report.samples += 1
            if not SAFE_KEY_RE.fullmatch(sample.key):
                report.problems.append(f"{path}: unsafe sample key {sample.key!r}")
                continue
            if sample.key in keys_in_shards:
                report.problems.append(f"sample {sample.key} in {path} and {keys_in_shards[sample.key]}")
            keys_in_shards[sample.key] = path
            for ext, where in sample.members.items():
                member = data[where.offset : where.offset + where.size]
                if len(member) != where.size or hashlib.sha256(member).hexdigest() != where.sha256:
                    report.problems.append(f"{path}: member {sample.key}.{ext} is damaged")
    segments = [s for s in read_rows(store, SegmentRow) if s.key]
    for segment in segments:
        found_in = keys_in_shards.get(segment.key or "")
        if found_in is None:
            report.problems.append(f"segment {segment.segment_id} has no sample in any shard")
        elif found_in != segment.shard:
            report.problems.append(f"segment {segment.segment_id}: manifest says {segment.shard}, found in {found_in}")
    extra = set(keys_in_shards) - {s.key for s in segments}
    if extra:
        report.problems.append(f"{len(extra)} sample(s) in shards have no segment row, e.g. {sorted(extra)[0]}")
    return report
