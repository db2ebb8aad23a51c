"""Recognise files that are plainly not video from their first bytes, for a reason people read.

ffprobe alone says "Invalid data found when processing input" for a JPEG, a text file and random
bytes alike; the sniffer tells them apart, and spots playlists that would open other files.
"""

from pathlib import Path

from schemas.reasons import Reason

_IMAGE_MAGIC = {
    b"\xff\xd8\xff": "a JPEG image",
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"BM": "a BMP image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
}
_PLAYLIST_MARKERS = {
    "#EXTM3U": "an HLS/M3U playlist",
    "ffconcat": "an ffmpeg concat script",
    "<?xml": "an XML document (DASH manifests and the like)",
    "<MPD": "a DASH manifest",
    "file ": "an ffmpeg concat script",
}


def sniff_non_video(path: Path | str) -> tuple[Reason, str] | None:
    """A (reason, detail) when the head of the file shows it is not a media container."""
    with open(path, "rb") as f:
        head = f.read(512)
    for magic, what in _IMAGE_MAGIC.items():
        if head.startswith(magic) and not (magic == b"BM" and len(head) < 26):
            return Reason.NOT_A_VIDEO, f"the file is {what}, not a video"
    text = _as_text(head)
    if text is None:
        return None
    stripped = text.lstrip("\ufeff \t\r\n")
    for marker, what in _PLAYLIST_MARKERS.items():
        if stripped.startswith(marker):
            return Reason.UNSUPPORTED_CONTAINER, f"the file is {what}; references to other files are not followed"
    return Reason.NOT_A_VIDEO, "the file is plain text, not a video"


# Box types an ISO BMFF (mp4/mov) file can start with.
_ISO_FIRST_BOXES = frozenset({b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"})


def looks_like_mp4(path: Path | str) -> bool:
    """True when the file starts with an ISO BMFF box, as even a damaged mp4/mov does.

    ffprobe falls back to the ``.mp4`` extension for bytes it cannot place and then reports
    "moov atom not found" for random data too; this tells a broken mp4 from something that never
    was one.
    """
    with open(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8:
        return False
    size = int.from_bytes(head[:4], "big")
    return head[4:8] in _ISO_FIRST_BOXES and (size in (0, 1) or size >= 8)


def _as_text(head: bytes) -> str | None:
    if not head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character may be cut at the 512-byte boundary
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    # A byte-order mark is not printable, and would tip a short playlist under the threshold.
    text = text.removeprefix("\ufeff")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if printable >= 0.97 * len(text) else None
