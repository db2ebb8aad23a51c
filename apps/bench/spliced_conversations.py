"""Render spliced conversations from real talking-head clips, with per-frame truth beside each.

Each plan (``apps.bench.conversation_plan``) becomes one ffmpeg call: every part is cut from
its source with frame-accurate input seeking, framed as a square (centred horizontally, 30 % down
the spare height, where portrait talking heads keep their face; padding instead would leave the
full-body 9:16 clip's face under the performer filter's 64 px minimum at 512 px), resampled to
25 fps and trimmed to exactly its frame count; its audio is the voice clip's window or digital
silence, trimmed or padded to exactly ``n_frames * 640`` samples; the parts are concatenated.
H.264 (CRF 18) with 16 kHz mono PCM in Matroska keeps every audio sample where the plan put it.

A held frame sways by +-2 degrees over 2 s (a listener's head, not a paused video): a frame
repeated exactly is "frozen" to the quality meter, and the performer filter rejects shots that
are over 80 % frozen, which would leave nothing to label.

Truth (``<name>.json``, format ``lpm-speaking-truth/1``; frame ``i`` shows time ``i / fps``)::

    {"format": "lpm-speaking-truth/1", "name": "conversation_000", "video": "conversation_000.mkv",
     "seed": 0, "fps": 25, "n_frames": 350, "duration_s": 14.0, "width": 512, "height": 512,
     "audio_sample_rate": 16000,
     "cuts": [58, ...],                        # first frame of every part after the first
     "state": [[code, first_frame, n_frames], ...],   # schemas.performer_states codes, one run per part
     "parts": [{"kind": "listening", "state": "listening", "first_frame": 58, "n_frames": 61,
                "face_clip": "...", "face_person": "...", "face_t0": 1.2,
                "voice_clip": "...", "voice_person": "...", "voice_t0": 0.4}, ...]}

``SplicedTruth`` is that document as a class: written with ``write`` and read back, checked
against its fields, with ``SplicedTruth.read``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from apps.bench.conversation_plan import FPS, ConversationPlan, Part, plan_conversations
from apps.bench.talking_head_sources import TalkingHeadClip
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE
from curation.media.ffmpeg_runner import run_media_tool, safe_input
from curation.store.plain_codec import decode, encode

TRUTH_FORMAT = "lpm-speaking-truth/1"
SIZE = 512
SAMPLES_PER_FRAME = ANALYSIS_SAMPLE_RATE // FPS
SWAY_RAD = 0.035  # about 2 degrees
SWAY_PERIOD_S = 2.0
_SQUARE = "crop=w=min(iw\\,ih):h=min(iw\\,ih):x=(iw-min(iw\\,ih))/2:y=(ih-min(iw\\,ih))*0.3"


@dataclass(frozen=True, kw_only=True)
class TruthPart:
    """One part of a conversation as its truth records it (``Part``, and the state it shows)."""

    kind: str
    first_frame: int
    n_frames: int
    face_clip: str
    face_person: str
    face_t0: float
    voice_clip: str | None
    voice_person: str | None
    voice_t0: float | None
    state: str  # the PerformerState name it shows

    @staticmethod
    def of(part: Part) -> "TruthPart":
        return TruthPart(kind=part.kind, first_frame=part.first_frame, n_frames=part.n_frames,
                         face_clip=part.face_clip, face_person=part.face_person, face_t0=part.face_t0,
                         voice_clip=part.voice_clip, voice_person=part.voice_person, voice_t0=part.voice_t0,
                         state=part.state.name.lower())


@dataclass(frozen=True, kw_only=True)
class SplicedTruth:
    """The truth beside one spliced conversation (the module docstring shows the document)."""

    format: str
    name: str
    video: str
    seed: int
    fps: int
    n_frames: int
    duration_s: float
    width: int
    height: int
    audio_sample_rate: int
    cuts: list[int]
    state: list[list[int]]  # [code, first_frame, n_frames] per part
    parts: list[TruthPart]

    @staticmethod
    def of(plan: ConversationPlan, video: Path) -> "SplicedTruth":
        return SplicedTruth(format=TRUTH_FORMAT, name=plan.name, video=video.name, seed=plan.seed, fps=FPS,
                            n_frames=plan.n_frames, duration_s=plan.n_frames / FPS, width=SIZE, height=SIZE,
                            audio_sample_rate=ANALYSIS_SAMPLE_RATE, cuts=plan.cuts, state=plan.state_runs(),
                            parts=[TruthPart.of(p) for p in plan.parts])

    def write(self, path: Path) -> None:
        document, _arrays = encode(self)
        path.write_text(json.dumps(document, indent=1))

    @staticmethod
    def read(path: Path) -> "SplicedTruth":
        """The truth at ``path``; ValueError when it is not an ``lpm-speaking-truth/1`` document."""
        truth = decode(json.loads(path.read_text()), {}, SplicedTruth)
        if truth.format != TRUTH_FORMAT:
            raise ValueError(f"{path}: format {truth.format!r}, not {TRUTH_FORMAT}")
        return truth


def build_spliced_set(
    clips: list[TalkingHeadClip], out_dir: Path, n_videos: int, seed: int = 0, only: set[int] | None = None
) -> list[Path]:
    """Render ``n_videos`` conversations into ``out_dir`` (``only``: just those of these indices,
    each the same as in the whole set); returns the truth JSON paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_name = {c.name: c for c in clips}
    truths = []
    for index, plan in enumerate(plan_conversations(clips, n_videos, seed)):
        if only is not None and index not in only:
            continue
        video = out_dir / f"{plan.name}.mkv"
        render_conversation(plan, by_name, video)
        truth = out_dir / f"{plan.name}.json"
        SplicedTruth.of(plan, video).write(truth)
        truths.append(truth)
    return truths


def render_conversation(plan: ConversationPlan, clips: dict[str, TalkingHeadClip], out: Path) -> None:
    inputs: list[str] = []
    chains: list[str] = []
    n_inputs = 0
    for k, part in enumerate(plan.parts):
        seconds = part.n_frames / FPS
        face = clips[part.face_clip].path
        # Half a second more than needed: the fps filter and the trims then never run short.
        window = [] if part.still else ["-t", f"{seconds + 0.5:.4f}"]
        inputs += ["-ss", f"{part.face_t0:.4f}", *window, *safe_input(face)]
        chains.append(f"[{n_inputs}:v]{_video_chain(part)}[v{k}]")
        n_inputs += 1
        samples = part.n_frames * SAMPLES_PER_FRAME
        if part.voice_clip is None:
            chains.append(f"anullsrc=r={ANALYSIS_SAMPLE_RATE}:cl=mono,atrim=end_sample={samples}[a{k}]")
        else:
            inputs += ["-ss", f"{part.voice_t0:.4f}", "-t", f"{seconds + 0.5:.4f}"]
            inputs += safe_input(clips[part.voice_clip].path)
            chains.append(
                f"[{n_inputs}:a]aresample={ANALYSIS_SAMPLE_RATE},aformat=sample_fmts=s16:channel_layouts=mono,"
                f"atrim=end_sample={samples},asetpts=PTS-STARTPTS,apad=whole_len={samples}[a{k}]"
            )
            n_inputs += 1
    streams = "".join(f"[v{k}][a{k}]" for k in range(len(plan.parts)))
    chains.append(f"{streams}concat=n={len(plan.parts)}:v=1:a=1[v][a]")
    partial = out.with_name(out.name + ".part")
    command = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs,
        "-filter_complex", ";".join(chains), "-map", "[v]", "-map", "[a]",
        # -r gives the last frame its duration: without it the 25 fps decode drops that frame.
        "-r", str(FPS), "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-g", str(2 * FPS), "-threads", "2", "-c:a", "pcm_s16le", "-ar", str(ANALYSIS_SAMPLE_RATE), "-ac", "1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-f", "matroska", str(partial),
    ]  # fmt: skip
    run_media_tool(command, timeout=300)
    partial.replace(out)


def _video_chain(part: Part) -> str:
    frames = part.n_frames
    if not part.still:
        return (
            f"fps={FPS},{_SQUARE},scale={SIZE}:{SIZE}:flags=area,setsar=1,"
            f"tpad=stop_mode=clone:stop_duration=1,trim=end_frame={frames},setpts=PTS-STARTPTS"
        )
    # Scaled 6 % larger before the sway and cropped back, so the rotated corners are never black.
    big = int(SIZE * 1.06) // 2 * 2
    return (
        f"trim=end_frame=1,{_SQUARE},scale={big}:{big}:flags=area,setsar=1,"
        f"loop=loop={frames - 1}:size=1:start=0,setpts=N/{FPS}/TB,"
        f"rotate=a='{SWAY_RAD}*sin(2*PI*t/{SWAY_PERIOD_S})',crop={SIZE}:{SIZE},trim=end_frame={frames}"
    )
