"""The calibration corpus manifest: which public file each clip is, what it shows, who is in it.

The rows are the only thing the repository keeps of the corpus; the media are rebuilt from the
named repositories at the named commits (``lpm-curate calibration fetch``) and trusted only when
their SHA-256 matches. ``source_id`` is the unit of leave-source-out: clips of one repository
share a camera, an encoder and often a person, so a rule fitted with them and scored on them
flatters itself.
"""

import csv
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from apps.calibration.clip_excerpt import Excerpt, ExcerptError

# ``listening``: one person on screen, silent, while another person's voice is heard (a panel cut out of a
# recorded conversation, ``excerpt``): every voiced frame of it is a listening frame.
LABELS = ("talking_head", "face_other", "multi_person", "no_face", "conversation", "listening")

# Reserved for evaluating the rules fitted on this corpus (issue 40): a clip from one of these
# would leak the evaluation into the fit, so the manifest may never name them.
EVALUATION_REPOSITORIES = frozenset({
    "FreedomIntelligence/TalkVid",
    "OpenTalker/SadTalker",
    "OpenTalker/video-retalking",
    "bytedance/LatentSync",
    "KwaiVGI/LivePortrait",
    "Wan-Video/Wan2.2",
    "snap-research/Panda-70M",
})

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SAFE_NAME = re.compile(r"^[\w.-]+$")


@dataclass(frozen=True)
class CorpusClip:
    name: str  # the file name in the cache; unique in the manifest
    label: str
    person_id: str
    source_id: str
    source_repo: str  # owner/name on GitHub
    source_path: str  # path inside the repository at ``commit``
    commit: str
    sha256: str
    size_bytes: int
    duration_s: float
    has_audio: bool
    voiced_fraction: float | None  # Silero VAD speech share of the audio track; None without audio
    labelled_by: str
    # Cut out of the file (``clip_excerpt``); None: the whole file. ``sha256`` and ``size_bytes`` are the
    # file's, ``duration_s`` and ``voiced_fraction`` the excerpt's.
    excerpt: Excerpt | None = None


class ManifestError(ValueError):
    """A manifest row that cannot be trusted: the message names the row and the field."""


def default_manifest_path() -> Path:
    """The manifest shipped in the package, so an installed ``lpm-curate`` rebuilds the corpus too."""
    return Path(str(resources.files("apps.calibration") / "corpus_manifest.csv"))


def load_corpus_manifest(path: Path | None = None) -> list[CorpusClip]:
    path = path or default_manifest_path()
    with open(path, newline="", encoding="utf-8") as fh:
        clips = [_clip(row, line) for line, row in enumerate(csv.DictReader(fh), start=2)]
    seen: dict[str, int] = {}
    for clip in clips:
        if clip.name in seen:
            raise ManifestError(f"{path}: clip name {clip.name!r} appears twice")
        seen[clip.name] = 1
    cuts = [(c.sha256, c.excerpt) for c in clips]  # two panels of one file are two clips, one file twice is not
    if len(set(cuts)) != len(cuts):
        raise ManifestError(f"{path}: the same file (SHA-256) is listed twice")
    return clips


def _clip(row: dict[str, str], line: int) -> CorpusClip:
    where = f"manifest line {line} ({row.get('name', '?')})"
    checks = {
        "name": _SAFE_NAME.match(row["name"]) is not None,  # it becomes a file name in the cache
        "label": row["label"] in LABELS,
        "source_repo": _REPO.match(row["source_repo"]) is not None
        and row["source_repo"] not in EVALUATION_REPOSITORIES,
        "source_path": bool(row["source_path"]) and not row["source_path"].startswith("/"),
        "commit": _COMMIT.match(row["commit"]) is not None,
        "sha256": _SHA256.match(row["sha256"]) is not None,
        "has_audio": row["has_audio"] in ("True", "False"),
        "person_id": bool(row["person_id"]),
        "source_id": bool(row["source_id"]),
    }
    bad = [field for field, ok in checks.items() if not ok]
    if bad:
        raise ManifestError(f"{where}: bad {', '.join(bad)}")
    try:
        excerpt = Excerpt.parse(row["excerpt"]) if row.get("excerpt") else None
    except ExcerptError as exc:
        raise ManifestError(f"{where}: bad excerpt: {exc}") from None
    return CorpusClip(
        name=row["name"],
        label=row["label"],
        person_id=row["person_id"],
        source_id=row["source_id"],
        source_repo=row["source_repo"],
        source_path=row["source_path"],
        commit=row["commit"],
        sha256=row["sha256"],
        size_bytes=int(row["size_bytes"]),
        duration_s=float(row["duration_s"]),
        has_audio=row["has_audio"] == "True",
        voiced_fraction=float(row["voiced_fraction"]) if row["voiced_fraction"] else None,
        labelled_by=row["labelled_by"],
        excerpt=excerpt,
    )
