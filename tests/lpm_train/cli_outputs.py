"""Reading what ``lpm-train`` commands leave behind: an mp4's streams, the JSON line they print last."""

import json
import subprocess
from pathlib import Path
from typing import Any


def streams_of(path: Path | str) -> dict[str, dict[str, Any]]:
    """ffprobe's streams of a media file by codec type (``video``, ``audio``), frames counted."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    return {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}


def last_json(out: str) -> Any:
    return json.loads(out.strip().splitlines()[-1])
