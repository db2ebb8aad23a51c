"""A corpus clip cut out of a public file: a time span and, optionally, one rectangle of the picture.

Some real footage exists only inside a composite: a paper's page shows a conversation as two
panels side by side ("Speaker Video" | "Listener Video"), and only a panel alone is one person.
The manifest then names the public file (checked by its SHA-256 like any clip) and the excerpt
to cut from it, written ``t=START..END`` with an optional ``;crop=WxH+X+Y`` (pixels of the source
frame, as ffmpeg's ``crop`` filter takes them). The cut is re-encoded (H.264 CRF 18, AAC 128 kb/s)
with frame-accurate seeking; its bytes depend on the ffmpeg build, so the corpus trusts the source's
checksum and records the cut's own beside it (``corpus_fetch``) to notice a damaged cache file.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from curation.media.ffmpeg_runner import ffmpeg_command, run_media_tool
from curation.media.probe import probe_media

_EXCERPT = re.compile(
    r"^t=(?P<start>\d+(?:\.\d+)?)\.\.(?P<end>\d+(?:\.\d+)?)"
    r"(?:;crop=(?P<w>\d+)x(?P<h>\d+)\+(?P<x>\d+)\+(?P<y>\d+))?$"
)
CUT_TIMEOUT_S = 300.0
# A cut may come out shorter than asked by up to a frame and the audio encoder's padding; more than this
# means the excerpt runs past the end of the file.
SHORT_CUT_TOLERANCE_S = 0.25


class ExcerptError(ValueError):
    """An excerpt that does not parse or cannot be a span of a video."""


@dataclass(frozen=True)
class Excerpt:
    start_s: float
    end_s: float
    crop: tuple[int, int, int, int] | None = None  # width, height, x, y

    @staticmethod
    def parse(text: str) -> "Excerpt":
        match = _EXCERPT.match(text.strip())
        if match is None:
            raise ExcerptError(f"excerpt {text!r} is not t=START..END[;crop=WxH+X+Y]")
        start, end = float(match["start"]), float(match["end"])
        if end <= start:
            raise ExcerptError(f"excerpt {text!r} ends before it starts")
        crop = None
        if match["w"] is not None:
            crop = (int(match["w"]), int(match["h"]), int(match["x"]), int(match["y"]))
            if crop[0] < 2 or crop[1] < 2:
                raise ExcerptError(f"excerpt {text!r} crops to nothing")
        return Excerpt(start, end, crop)

    def __str__(self) -> str:
        text = f"t={self.start_s:g}..{self.end_s:g}"
        if self.crop is not None:
            w, h, x, y = self.crop
            text += f";crop={w}x{h}+{x}+{y}"
        return text

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def cut(source: Path, excerpt: Excerpt, target: Path) -> None:
    """``excerpt`` of ``source`` written to ``target`` (an ``.mp4`` name), replacing it; ``ExcerptError``
    when the file does not hold the whole excerpt (ffmpeg writes what there is without complaint)."""
    # An even size: H.264's 4:2:0 needs it, and the crop's odd pixel is the panel's edge anyway.
    crop = []
    if excerpt.crop is not None:
        w, h, x, y = excerpt.crop
        crop = ["-vf", f"crop={w - w % 2}:{h - h % 2}:{x}:{y}"]
    output = [
        "-t", f"{excerpt.duration_s:.3f}", *crop,
        "-c:v", "libx264", "-crf", "18", "-preset", "medium", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", str(target),
    ]
    # -ss before the input seeks to the nearest keyframe and decodes from there: frame-accurate when re-encoding.
    run_media_tool(ffmpeg_command(source, output, ["-ss", f"{excerpt.start_s:.3f}"]), timeout=CUT_TIMEOUT_S)
    info = probe_media(target)
    if info.n_frames <= 0 or info.duration_s < excerpt.duration_s - SHORT_CUT_TOLERANCE_S:
        raise ExcerptError(f"the file holds {info.duration_s:.2f} s of {excerpt} ({info.n_frames} frames)")
