"""Input folders and output patterns shared by the tests of what a run shows, logs and measures."""

import re
from pathlib import Path

# A kept talking head, a second kept one, a clip with no face (rejected by the performer filter)
# and an empty file (rejected at ingest): every kind of outcome, in well under a minute.
MIXED_CLIPS = ("fantasy_end1.0.mp4", "talkvid_tys_gt.mp4", "panda_vdGG2_5VM9U.2.mp4")

# Lines that native libraries and Ray print on their own: none may reach a quiet console.
NOISE_PATTERNS = {
    "glog line": re.compile(r"^[IWEF]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\]", re.M),
    "face_landmarker_graph": re.compile(r"face_landmarker_graph\.cc"),
    "XNNPACK delegate": re.compile(r"Created TensorFlow Lite XNNPACK delegate"),
    "inference_feedback_manager": re.compile(r"inference_feedback_manager\.cc"),
    "LiteRT INFO": re.compile(r"^INFO: \[\w+\.cc:\d+\]", re.M),
    "Ray token authentication": re.compile(r"Token authentication is enabled"),
    "Ray Data progress bars": re.compile(r"Progress bars disabled"),
    "Ray core worker": re.compile(r"core_worker\.cc:\d+"),
}

# The ones every smoke run on the embedded Ray produces (MediaPipe in the workers, Ray in the driver).
ALWAYS_PRESENT = ("face_landmarker_graph", "XNNPACK delegate", "inference_feedback_manager", "Ray Data progress bars")


def clip_folder(shared_media: Path, folder: Path, names: tuple[str, ...], empty_file: bool = False) -> Path:
    """Symlinks to shared clips (never copies), plus an empty ``empty.mp4`` when asked."""
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).symlink_to(shared_media / name)
    if empty_file:
        (folder / "empty.mp4").write_bytes(b"")
    return folder


def noise_in(text: str) -> dict[str, list[str]]:
    """Pattern name -> the first few lines of ``text`` it matches."""
    found = {}
    for name, pattern in NOISE_PATTERNS.items():
        lines = [line for line in text.splitlines() if pattern.search(line)]
        if lines:
            found[name] = lines[:3]
    return found


def all_logs(out: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted((out / "logs").glob("*.log*")))
