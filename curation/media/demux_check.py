"""Read every packet of a file without decoding, to catch truncation and corruption cheaply.

A file cut in the middle of its media data often still probes fine (the index is at the front);
demuxing every packet is I/O-bound and finds the missing bytes. Two tools do it: an ffmpeg
process copying every stream to the null muxer (``demux_errors``), and the FFmpeg libraries in
this process (``demux_errors_inprocess``), which read the same packets without starting ffmpeg
and stop at the first one ffmpeg's ``-xerror`` would stop at: a packet the demuxer marks corrupt
(the bytes it promised are not there) or a read error.
"""

from pathlib import Path

import av

from curation.media.ffmpeg_runner import (
    MediaTimeoutError,
    MediaToolError,
    ffmpeg_command,
    run_media_tool,
)
from curation.media.inprocess_input import Deadline, open_input


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


def demux_errors_inprocess(path: Path | str, timeout: float = 120.0) -> str | None:
    """``demux_errors`` in this process: the same ``None`` or short description (in ffmpeg's
    words), ``MediaTimeoutError`` once ``timeout`` has passed (checked between packets)."""
    deadline = Deadline(timeout)
    try:
        with open_input(path, deadline) as container:
            for packet in container.demux():
                deadline.check()
                if packet.is_corrupt:
                    return f"corrupt input packet in stream {packet.stream_index}"
    except MediaTimeoutError:
        raise
    except MediaToolError as error:  # it does not open: ffmpeg would say the same and stop
        return error.detail or str(error)
    except av.FFmpegError as error:  # a read failed part-way
        return str(error.strerror or error)
    return None
