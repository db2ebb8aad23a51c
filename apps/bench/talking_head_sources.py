"""The ``talking_head`` clips of a media folder, with who is in them and where they speak.

The speaking benchmark builds its conversations from these clips, so it needs three facts per
clip that the manifest does not give: the person (clips whose names differ only by a trailing
version number, such as the four ``fantasy_end0.1`` .. ``fantasy_end1.0`` renders, show the same
face and share one recording's audio, so they are one person), the video duration, and the
spans of continuous speech. Speech spans come from Silero VAD on the clip's clean audio with
Silero's own segment rules; the benchmark only ever takes voice from well inside them, so whether
a voice is heard in a spliced part is never in doubt.
"""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from annotators.models.voice_activity import VoiceActivityDetector
from curation.media.audio_decoder import decode_audio
from curation.media.probe import probe_media

TALKING_HEAD = "talking_head"
_VERSION_SUFFIX = re.compile(r"\d+(\.\d+)*$")


@dataclass(frozen=True)
class TalkingHeadClip:
    path: Path
    person: str
    duration_s: float  # of the video stream as probed (the shortest of container and streams)
    width: int
    height: int
    speech: tuple[tuple[float, float], ...]  # (t_start, t_end) of each continuous speech span, seconds
    source: str = ""  # where the clip came from (MANIFEST.csv ``source_repo``; else its person)

    @property
    def name(self) -> str:
        return self.path.name

    def longest_speech_s(self, margin_s: float = 0.0) -> float:
        return max((b - a - 2 * margin_s for a, b in self.speech), default=0.0)


def person_key(file_name: str) -> str:
    """Same person <=> same name once the extension and a trailing version number are removed."""
    stem = Path(file_name).stem
    return _VERSION_SUFFIX.sub("", stem) or stem


def talking_head_names(media_dir: Path) -> list[str]:
    """File names labelled ``talking_head`` (with audio) in the folder's ``MANIFEST.csv``, sorted."""
    rows = _manifest_rows(media_dir)
    return sorted(r["file"] for r in rows if r["label"] == TALKING_HEAD and r.get("has_audio", "True") == "True")


def clip_sources(media_dir: Path) -> dict[str, str]:
    """File name -> the repository it came from (``source_repo``), where the manifest says."""
    return {r["file"]: r["source_repo"] for r in _manifest_rows(media_dir) if r.get("source_repo")}


def _manifest_rows(media_dir: Path) -> list[dict[str, str]]:
    manifest = media_dir / "MANIFEST.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found: the speaking benchmark needs the labelled media folder")
    with manifest.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_talking_heads(media_dir: Path, names: list[str] | None = None) -> list[TalkingHeadClip]:
    """Probe each clip and find its speech spans (about 0.1 s per clip after the VAD loads)."""
    detector = VoiceActivityDetector()
    sources = clip_sources(media_dir) if (media_dir / "MANIFEST.csv").is_file() else {}
    clips = []
    for name in names or talking_head_names(media_dir):
        path = media_dir / name
        info = probe_media(path)
        audio = decode_audio(path)
        # The video can end before the container (audio tails): trust the frame count when given.
        video_s = info.n_frames / info.fps if info.fps and info.n_frames else info.duration_s
        clips.append(
            TalkingHeadClip(
                path=path,
                person=person_key(name),
                duration_s=min(info.duration_s, video_s),
                width=info.width,
                height=info.height,
                speech=tuple(detector.speech_intervals(audio)),
                source=sources.get(name) or person_key(name),
            )
        )
    return clips
