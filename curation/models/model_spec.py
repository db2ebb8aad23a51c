"""What the toolkit knows about one model file or model repository."""

from dataclasses import dataclass, field
from typing import Literal

ModelSource = Literal["url", "hf_snapshot", "bundled"]


@dataclass(frozen=True)
class ModelSpec:
    """One model the toolkit can resolve, fetch and verify.

    ``source``:
      - ``url``: a single file downloaded from ``url`` and checked against ``sha256``;
      - ``hf_snapshot``: a HuggingFace hub repository (``repo_id``) snapshotted into a folder;
        the hub is only ever contacted by ``lpm-curate models fetch``;
      - ``bundled``: shipped inside an installed Python package; nothing to fetch.
    ``sha256`` of ``None`` means the publisher gives no checksum: the first fetch records one in
    the models directory's lock file and later verifications compare against it.
    """

    name: str
    path: str  # file or folder name inside the models directory
    source: ModelSource
    description: str
    license: str
    url: str | None = None
    sha256: str | None = None
    repo_id: str | None = None
    archive_member: str | None = None  # for zip downloads: the member to extract as ``path``
    used_by: tuple[str, ...] = field(default_factory=tuple)
    gated: bool = False  # needs a HuggingFace token (HF_TOKEN) accepted for the repo
