"""Materialise the calibration corpus into a cache directory, trusting nothing that fails its checksum.

A clip whose bytes do not match the manifest's SHA-256 is reported by name and skipped, never
written: a benchmark that silently scored a truncated download or a file replaced upstream would
measure the wrong footage. Files are written to a temporary name in the cache and renamed, so an
interrupted fetch leaves no half file under a clip's name, and a second fetch only checks what
is already there.
"""

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from apps.calibration.clip_sources import ClipSource, ClipUnavailableError
from apps.calibration.corpus_manifest import CorpusClip
from curation.atomic_file import write_atomically

# Written beside the clips in the layout of ../shared/media/MANIFEST.csv (file, label, ...), so the
# benchmarks that take ``--input FOLDER`` read the corpus as they read the shared media.
CACHE_MANIFEST = "MANIFEST.csv"
CACHE_COLUMNS = ("file", "label", "duration_s", "has_audio", "source_repo", "source_path",
                 "person_id", "source_id", "sha256")


@dataclass
class FetchReport:
    fetched: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    corrupted: dict[str, str] = field(default_factory=dict)  # name -> what was wrong
    missing: dict[str, str] = field(default_factory=dict)  # name -> why it could not be read

    @property
    def skipped(self) -> int:
        return len(self.corrupted) + len(self.missing)

    @property
    def available(self) -> list[str]:
        return self.already_present + self.fetched

    def as_dict(self) -> dict[str, object]:
        return {
            "fetched": len(self.fetched),
            "already_present": len(self.already_present),
            "skipped": self.skipped,
            "corrupted": self.corrupted,
            "missing": self.missing,
        }


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def materialise(clips: list[CorpusClip], out: Path, source: ClipSource) -> FetchReport:
    """Every clip into ``out`` (checked against its SHA-256), then ``out/MANIFEST.csv`` of those present."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = FetchReport()
    for clip in clips:
        target = out / clip.name
        if target.is_file() and _file_sha256(target) == clip.sha256:
            report.already_present.append(clip.name)
            continue
        try:
            data = source.read(clip)
        except ClipUnavailableError as exc:
            report.missing[clip.name] = str(exc)
            target.unlink(missing_ok=True)  # a stale or damaged copy must not stay under the name
            continue
        got = sha256_of(data)
        if got != clip.sha256:
            report.corrupted[clip.name] = (
                f"SHA-256 {got[:16]}… of {len(data)} bytes, manifest says {clip.sha256[:16]}… of {clip.size_bytes}"
            )
            target.unlink(missing_ok=True)
            continue
        write_atomically(target, data, f".{target.name}.", ".part")
        report.fetched.append(clip.name)
    _write_cache_manifest(out, [c for c in clips if c.name in set(report.available)])
    return report


def _write_cache_manifest(out: Path, clips: list[CorpusClip]) -> None:
    tmp = out / f".{CACHE_MANIFEST}.part"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CACHE_COLUMNS)
        for c in clips:
            writer.writerow([c.name, c.label, c.duration_s, c.has_audio, c.source_repo, c.source_path,
                             c.person_id, c.source_id, c.sha256])
    os.replace(tmp, out / CACHE_MANIFEST)
