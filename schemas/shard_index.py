"""A shard's index, ``shard-NNNNNN.json`` beside its tar: where each sample's members lie in the tar
and the checksums that say the bytes are whole.

The shard writer fills it; the reader, the verifier, the export and the trainer read it. This is
its one definition: the JSON is ``asdict`` of it (keys sorted), and reading it back builds these
classes, so a field renamed or dropped fails where the index is read, not deep in a consumer.
"""

import builtins
import json
from dataclasses import asdict, dataclass

from schemas.tables import ShardRow


class ShardIndexError(ValueError):
    """A file that should be a shard index is not one (truncated, or another format)."""


@dataclass(frozen=True)
class MemberSpan:
    offset: int  # of the member's data in the tar, past its 512-byte header
    size: int  # bytes of data
    sha256: str  # of the member's data


@dataclass(frozen=True)
class ShardSample:
    key: str  # the sample key: its members are ``<key>.<ext>`` in the tar
    members: dict[str, MemberSpan]  # by extension: "mp4", "wav", "json", ...


@dataclass(frozen=True)
class ShardIndex:
    schema_version: str  # of the toolkit that wrote it (``schemas/version.py``)
    shard: str  # its name relative to shards/
    bucket: str  # the shard's folder under shards/ ("" unless the workflow buckets shards)
    n_samples: int
    bytes: int  # of the whole tar
    sha256: str  # of the whole tar
    samples: list[ShardSample]

    # ``builtins.bytes``: inside the class ``bytes`` names the field
    def to_json(self) -> builtins.bytes:
        return json.dumps(asdict(self), sort_keys=True, indent=0).encode()

    @classmethod
    def from_json(cls, data: builtins.bytes, where: str = "shard index") -> "ShardIndex":
        try:
            document = json.loads(data)
            samples = [ShardSample(**{**s, "members": _spans(s["members"])}) for s in document.pop("samples")]
            return cls(**document, samples=samples)
        except (TypeError, KeyError, AttributeError, ValueError) as err:
            raise ShardIndexError(f"{where} is not a shard index: {err}") from err

    def sample(self, key: str) -> ShardSample | None:
        return next((s for s in self.samples if s.key == key), None)

    def keys(self) -> list[str]:
        return [s.key for s in self.samples]

    def manifest_row(self, path: str, index_path: str) -> ShardRow:
        """Its ``shards`` manifest row: ``path`` and ``index_path`` are relative to the run directory."""
        return ShardRow(shard=self.shard, path=path, bucket=self.bucket, n_samples=self.n_samples, bytes=self.bytes,
                        sha256=self.sha256, index_path=index_path)


def _spans(members: dict[str, dict[str, object]]) -> dict[str, MemberSpan]:
    return {ext: MemberSpan(**span) for ext, span in members.items()}  # type: ignore[arg-type]


def index_path_of(shard_path: str) -> str:
    return shard_path.removesuffix(".tar") + ".json"
