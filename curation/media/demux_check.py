"""Read every packet of a file without decoding, to catch truncation and corruption cheaply.

A file cut in the middle of its media data often still probes fine (the index is at the front);
demuxing every packet is I/O-bound and finds the missing bytes.
"""

from pathlib import Path

from curation.media.ffmpeg_runner import (
    MediaTimeoutError,
    MediaToolError,
    ffmpeg_command,
    run_media_tool,
)


def demux_errors(path: Path | str, timeout: float = 120.0) -> str | None:
    """A short description of the first demuxing error, or ``None`` when the file reads cleanly."""
    # -xerror turns the first read error into a non-zero exit; -loglevel error prints only it.
    command = ffmpeg_command(path, ["-xerror", "-map", "0", "-c", "copy", "-f", "null", "-"])
    try:
        run_media_tool(command, timeout=timeout)
    except MediaTimeoutError:
        raise
    except MediaToolError as err:
        return err.detail or str(err)
    return None
