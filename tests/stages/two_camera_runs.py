"""One conversation filmed by two cameras, and an unrelated conversation, run through the pipeline.

Two people of ``../shared/media`` take turns (A, B, A, B; about 2.2 s each, voices cut from well
inside their clips' speech by ``apps.bench.spliced_conversations``). Camera A shows A for the
whole conversation (speaking with A's own synchronised audio, listening as a held, swaying frame
under B's voice); camera B shows B the same way. Both hear the same sound. Real ffmpeg then
makes them two files of two devices: camera A as rendered but cropped, camera B started
``CAMERA_B_START_S`` later, cropped and scaled differently, its audio AAC at 44.1 kHz. A moment at
time t of camera A is at t - ``CAMERA_B_START_S`` in camera B. The unrelated conversation has A's
voice too, from other parts of A's clip, with a third person: it shares a voice with the cameras
but not a sound. Nothing is copied into the repository: every file is made in a temporary folder.
"""

import subprocess
from pathlib import Path

from apps.bench.conversation_plan import ConversationPlan, Part
from apps.bench.spliced_conversations import render_conversation
from apps.bench.talking_head_sources import load_talking_heads
from tests.curation.pipeline_runs import run_cli

PERSON_A = "latentsync_demo3_video.mp4"
PERSON_B = "talkvid_talk_emotion_gt.mp4"
PERSON_C = "talkvid_tys_gt.mp4"
CAMERA_B_START_S = 0.64
# (voice clip, voice start in it, frames, where a listener's held frame is taken in its own clip)
CONVERSATION = ((PERSON_A, 1.84, 56, 0.5), (PERSON_B, 0.96, 55, 1.0), (PERSON_A, 6.20, 58, 3.0),
                (PERSON_B, 1.80, 52, 2.0))
UNRELATED = ((PERSON_A, 10.1, 55, 0.5), (PERSON_C, 0.4, 55, 1.0), (PERSON_A, 15.5, 55, 3.0),
             (PERSON_C, 1.9, 52, 2.0))
CAMERA_A, CAMERA_B, OTHER = "camera_a.mp4", "camera_b.mp4", "other.mkv"


def camera_plan(name: str, shown: str, turns: tuple[tuple[str, float, int, float], ...]) -> ConversationPlan:
    """The conversation as a camera framing ``shown`` sees it: speaking in its own turns,
    listening (a held frame) in the other's."""
    parts, first = [], 0
    for voice, voice_t0, n_frames, held_t0 in turns:
        speaking = voice == shown
        parts.append(Part("speaking" if speaking else "listening_still", first, n_frames, shown, shown,
                          voice_t0 if speaking else held_t0, voice, voice, voice_t0))
        first += n_frames
    return ConversationPlan(name, 0, tuple(parts))


def device_copy(source: Path, out: Path, start_s: float, video_filter: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{start_s}", "-i", str(source),
                    "-vf", video_filter, "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                    "-c:a", "aac", "-b:a", "96k", "-ar", "44100", str(out)], check=True, timeout=120)


def build_two_camera_inputs(shared_media: Path, folder: Path) -> Path:
    """The two camera files and the unrelated conversation in ``folder / "in"``."""
    clips = {c.name: c for c in load_talking_heads(shared_media, [PERSON_A, PERSON_B, PERSON_C])}
    inputs, rendered = folder / "in", folder / "rendered"
    inputs.mkdir(parents=True)
    rendered.mkdir()
    render_conversation(camera_plan("camera_a", PERSON_A, CONVERSATION), clips, rendered / "a.mkv")
    render_conversation(camera_plan("camera_b", PERSON_B, CONVERSATION), clips, rendered / "b.mkv")
    render_conversation(camera_plan("other", PERSON_A, UNRELATED), clips, inputs / OTHER)
    device_copy(rendered / "a.mkv", inputs / CAMERA_A, 0.0, "crop=480:480:16:8")
    device_copy(rendered / "b.mkv", inputs / CAMERA_B, CAMERA_B_START_S, "crop=440:440:40:30,scale=400:400")
    return inputs


def build_two_camera_run(shared_media: Path, folder: Path) -> Path:
    """``lpm-curate run`` (default workflow, in-process executor) over the three files."""
    inputs = build_two_camera_inputs(shared_media, folder)
    out = folder / "run"
    result = run_cli("run", "--input", str(inputs), "--out", str(out), "--executor", "local", timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return out
