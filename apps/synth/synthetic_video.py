"""One synthetic video: plan the talk and the shots, animate, encode, and write its ground truth."""

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from apps.synth.camera_setups import SetupFactory
from apps.synth.conversation import Speaker, plan_conversation
from apps.synth.frame_composer import FaceSighting, FrameComposer
from apps.synth.mp4_writer import Mp4Writer
from apps.synth.performance import passer_performance, perform
from apps.synth.portraits import Portrait
from apps.synth.speech import SAMPLE_RATE, Voice
from apps.synth.transitions import HALF_FRAMES as TRANSITION_HALF_FRAMES
from apps.synth.transitions import with_transitions
from apps.synth.truth import (
    SMALL_FACE_PX,
    PersonTruth,
    ShotTruth,
    TrackTruth,
    VideoTruth,
    states_for,
)
from apps.synth.video_kinds import VideoKind, plan_shots


@dataclass(frozen=True)
class VideoSpec:
    name: str
    kind: VideoKind
    seed: int
    cast: tuple[Portrait, ...]  # the conversants, in speaking order
    passer: Portrait | None
    voices: dict[str, Voice]
    width: int
    height: int
    fps: int
    n_frames: int
    backchannel_probability: float = 0.0  # chance a listener says a short word over an utterance


def make_video(spec: VideoSpec, out_dir: Path, rng: np.random.Generator) -> VideoTruth:
    """Write ``out_dir/videos/<name>.mp4`` and ``out_dir/truth/<name>.json``; return the truth."""
    people = [p.person_id for p in spec.cast]
    speakers = [Speaker(pid, spec.voices[pid]) for pid in people]
    conversation = plan_conversation(rng, speakers, spec.n_frames, spec.fps, spec.kind.pause_probability,
                                     spec.backchannel_probability)
    speaker_per_frame = conversation.speaker_per_frame()
    factory = SetupFactory(spec.width, spec.height)
    passer_id = spec.passer.person_id if spec.passer is not None else None
    shots = plan_shots(spec.kind, rng, speaker_per_frame, people, passer_id, factory, spec.fps)
    performances = {
        pid: perform(rng, pid, speaker_per_frame, conversation.own_tracks[pid], spec.fps) for pid in people
    }
    portraits = {p.person_id: p for p in spec.cast}
    if spec.passer is not None:
        performances[spec.passer.person_id] = passer_performance(rng, spec.n_frames, spec.fps, direction=1.0)
        portraits[spec.passer.person_id] = spec.passer
    composer = FrameComposer(rng, spec.width, spec.height, spec.fps, portraits, performances)
    video_path = out_dir / "videos" / f"{spec.name}.mp4"
    with tempfile.TemporaryDirectory(prefix="lpm-synth-") as tmp:
        wav = Path(tmp) / "mix.wav"
        wavfile.write(wav, SAMPLE_RATE, np.round(np.clip(conversation.mix, -1, 1) * 32767).astype(np.int16))
        with Mp4Writer(video_path, spec.width, spec.height, spec.fps, wav) as writer:
            gradual = {s.first_frame: s.transition_in for s in shots[1:] if s.transition_in != "cut"}
            for frame in with_transitions(composer.frames(shots), gradual):
                writer.write(frame)
    truth = VideoTruth(
        name=spec.name,
        kind=spec.kind.name,
        seed=spec.seed,
        video=f"videos/{spec.name}.mp4",
        fps=spec.fps,
        n_frames=spec.n_frames,
        width=spec.width,
        height=spec.height,
        audio_sample_rate=SAMPLE_RATE,
        persons=[
            PersonTruth(p.person_id, p.source, spec.voices[p.person_id].label, "conversant") for p in spec.cast
        ]
        + ([PersonTruth(spec.passer.person_id, spec.passer.source, None, "passer_by")] if spec.passer else []),
        shots=[
            ShotTruth(
                i, s.first_frame, s.last_frame, round(s.first_frame / spec.fps, 6),
                round((s.last_frame + 1) / spec.fps, 6), s.setup.name, list(s.flags), s.transition_in,
                0 if s.transition_in == "cut" else 2 * TRANSITION_HALF_FRAMES,
            )
            for i, s in enumerate(shots)
        ],
        utterances=conversation.utterance_truth(),
        speaker=speaker_per_frame,
        tracks=tracks_from_sightings(composer.sightings, speaker_per_frame),
        backchannels=conversation.utterance_truth(backchannels=True),
    )
    truth.write(out_dir / "truth" / f"{spec.name}.json")
    return truth


def tracks_from_sightings(sightings: list[FaceSighting], speakers: list[str | None]) -> list[TrackTruth]:
    """Runs of consecutive visible frames of one person in one shot become tracks."""
    by_key: dict[tuple[int, str], list[FaceSighting]] = defaultdict(list)
    for s in sightings:
        if s.visible:
            by_key[(s.shot_index, s.person_id)].append(s)
    runs: list[list[FaceSighting]] = []
    for seen in by_key.values():
        seen.sort(key=lambda s: s.frame)
        for s in seen:
            if runs and runs[-1][-1].person_id == s.person_id and runs[-1][-1].shot_index == s.shot_index \
                    and runs[-1][-1].frame == s.frame - 1:
                runs[-1].append(s)
            else:
                runs.append([s])
    runs.sort(key=lambda run: (run[0].frame, run[0].box[0]))
    tracks = []
    for index, run in enumerate(runs):
        first, last = run[0].frame, run[-1].frame
        boxes = np.array([s.box for s in run], np.float32)
        flags = []
        if np.median(boxes[:, 3] - boxes[:, 1]) < SMALL_FACE_PX:
            flags.append("small_face")
        if run[0].role == "passer_by":
            flags.append("passer_by")
        states = states_for(run[0].person_id, speakers[first : last + 1])
        tracks.append(TrackTruth(index, run[0].person_id, run[0].shot_index, first, last, boxes, states, flags))
    return tracks
