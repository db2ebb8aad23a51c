"""Materialise the calibration corpus into a cache directory, trusting nothing that fails its checksum.

A clip whose bytes do not match the manifest's SHA-256 is reported by name and skipped, never
written: a benchmark that silently scored a truncated download or a file replaced upstream would
measure the wrong footage. Files are written to a temporary name in the cache and renamed, so an
interrupted fetch leaves no half file under a clip's name, and a second fetch only checks what
is already there.

A clip cut out of a file (``CorpusClip.excerpt``) is cut from the verified bytes only; the cut's own
SHA-256 is kept beside it (``.excerpts/NAME.json``, with the file's checksum and the excerpt), so a
second fetch trusts a cut only while both still match and cuts it again otherwise.
"""

import csv
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from apps.calibration.clip_excerpt import ExcerptError, cut
from apps.calibration.clip_sources import ClipSource, ClipUnavailableError
from apps.calibration.corpus_manifest import CorpusClip
from curation.atomic_file import write_atomically
from curation.media.ffmpeg_runner import MediaToolError

EXCERPT_RECORDS = ".excerpts"

# Written beside the clips in the layout of ../shared/media/MANIFEST.csv (file, label, ...), so the
# benchmarks that take ``--input FOLDER`` read the corpus as they read the shared media.
CACHE_MANIFEST = "MANIFEST.csv"
CACHE_COLUMNS = ("file", "label", "duration_s", "has_audio", "source_repo", "source_path",
                 "person_id", "source_id", "sha256", "excerpt")


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
        if _present(out, clip):
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
        if clip.excerpt is None:
            write_atomically(target, data, f".{target.name}.", ".part")
        else:
            try:
                _cut_excerpt(out, clip, data)
            except (MediaToolError, ExcerptError) as exc:
                report.missing[clip.name] = f"the excerpt {clip.excerpt} could not be cut: {exc}"
                target.unlink(missing_ok=True)
                continue
        report.fetched.append(clip.name)
    _write_cache_manifest(out, [c for c in clips if c.name in set(report.available)])
    return report


def _present(out: Path, clip: CorpusClip) -> bool:
    """The clip is in the cache as the manifest describes it: the file itself, or a cut of it whose
    record names the same file, the same excerpt and the cut's present bytes."""
    target = out / clip.name
    if not target.is_file():
        return False
    if clip.excerpt is None:
        return _file_sha256(target) == clip.sha256
    record = out / EXCERPT_RECORDS / f"{clip.name}.json"
    try:
        saved = json.loads(record.read_text())
    except (OSError, ValueError):
        return False
    return (saved.get("source_sha256") == clip.sha256 and saved.get("excerpt") == str(clip.excerpt)
            and saved.get("sha256") == _file_sha256(target))


def _cut_excerpt(out: Path, clip: CorpusClip, data: bytes) -> None:
    """The excerpt of the verified file ``data`` to ``out/NAME``, then its record."""
    assert clip.excerpt is not None
    target = out / clip.name
    with tempfile.TemporaryDirectory(dir=out, prefix=f".{clip.name}.") as tmp:
        source, cut_file = Path(tmp) / "source", Path(tmp) / "cut.mp4"
        source.write_bytes(data)
        cut(source, clip.excerpt, cut_file)
        os.replace(cut_file, target)
    (out / EXCERPT_RECORDS).mkdir(exist_ok=True)
    record = {"source_sha256": clip.sha256, "excerpt": str(clip.excerpt), "sha256": _file_sha256(target)}
    write_atomically(out / EXCERPT_RECORDS / f"{clip.name}.json", json.dumps(record).encode(),
                     f".{clip.name}.", ".part")


def _write_cache_manifest(out: Path, clips: list[CorpusClip]) -> None:
    tmp = out / f".{CACHE_MANIFEST}.part"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CACHE_COLUMNS)
        for c in clips:
            writer.writerow([c.name, c.label, c.duration_s, c.has_audio, c.source_repo, c.source_path,
                             c.person_id, c.source_id, c.sha256, "" if c.excerpt is None else str(c.excerpt)])
    os.replace(tmp, out / CACHE_MANIFEST)
