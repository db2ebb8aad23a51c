"""Probe facts for tests that build a video record by hand (``VideoWork.video``)."""

from curation.media.media_info import MediaInfo


def probed(seconds: float = 1.0) -> MediaInfo:
    """A 640x360, 25 fps h264 video of ``seconds`` with mono 16 kHz AAC audio."""
    return MediaInfo("mp4", seconds, True, 640, 360, 0, 25.0, False, round(seconds * 25), "h264", True, "aac",
                     16000, 1)
