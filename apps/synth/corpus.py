"""A corpus of labelled synthetic conversation videos: ``generate_corpus``.

Layout::

    OUT/videos/<name>.mp4   H.264 + AAC (16 kHz mono), constant 25 fps
    OUT/truth/<name>.json   ground truth per video (format in ``apps.synth.truth``)
    OUT/corpus.json         the videos and identities, written last (a complete corpus has it)

The same seed gives the same truth and, with the same ffmpeg build, byte-identical videos: every
random choice comes from one generator per video seeded with ``(seed, video index)``.
"""

import json
import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from apps.synth.face_sources import find_face_photos
from apps.synth.portraits import Portrait, build_portraits
from apps.synth.speech import VOICES, Voice
from apps.synth.still_landmarks import StillFaceLandmarker
from apps.synth.synthetic_video import VideoSpec, make_video
from apps.synth.truth import VideoTruth
from apps.synth.video_kinds import VIDEO_KINDS

CORPUS_FORMAT = "lpm-synth-corpus/1"
MIN_IDENTITIES = 3  # two conversants and a passer-by


class NotEnoughFacesError(ValueError):
    """Fewer distinct usable faces than a conversation with a passer-by needs."""


def load_portraits(face_images: list[Path] | None = None) -> list[Portrait]:
    photos = find_face_photos(face_images)
    with StillFaceLandmarker(max_faces=8) as landmarker:
        portraits = build_portraits(photos, landmarker)
    if len(portraits) < MIN_IDENTITIES:
        raise NotEnoughFacesError(
            f"found {len(portraits)} usable face(s) in {[str(p.path) for p in photos]}; need at least "
            f"{MIN_IDENTITIES} (frontal, eyes open, face at least 80 px tall): pass more with --faces"
        )
    return portraits


def cast_videos(
    rng: np.random.Generator, portraits: list[Portrait], n_videos: int
) -> list[tuple[tuple[Portrait, ...], Portrait | None]]:
    """Who appears in each video: identities are dealt in shuffled rounds so that every identity
    shows up in several videos (identity clustering has something to find)."""
    deck: list[Portrait] = []
    casts = []
    for index in range(n_videos):
        kind = VIDEO_KINDS[index % len(VIDEO_KINDS)]
        wanted = kind.n_conversants + int(kind.has_passer)
        chosen: list[Portrait] = []
        while len(chosen) < wanted:
            if not deck:
                deck = [portraits[i] for i in rng.permutation(len(portraits))]
            candidate = next((p for p in deck if p not in chosen), None)
            if candidate is None:
                deck = []
                continue
            deck.remove(candidate)
            chosen.append(candidate)
        passer = chosen.pop() if kind.has_passer else None
        casts.append((tuple(chosen), passer))
    return casts


def generate_corpus(
    out_dir: Path,
    n_videos: int = len(VIDEO_KINDS),
    seed: int = 0,
    face_images: list[Path] | None = None,
    duration_s: float = 20.0,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    workers: int | None = None,
    backchannels: float = 0.0,
) -> list[Path]:
    """Generate ``n_videos`` labelled videos in ``out_dir``; return the video paths in order."""
    out_dir = Path(out_dir)
    portraits = load_portraits(face_images)
    voices: dict[str, Voice] = {p.person_id: VOICES[i % len(VOICES)] for i, p in enumerate(portraits)}
    casts = cast_videos(np.random.default_rng([seed, 1_000_003]), portraits, n_videos)
    n_frames = max(1, round(duration_s * fps))
    specs = []
    for index, (cast, passer) in enumerate(casts):
        kind = VIDEO_KINDS[index % len(VIDEO_KINDS)]
        specs.append(
            VideoSpec(f"synth_{index:03d}_{kind.name}", kind, seed, cast, passer, voices, width, height, fps, n_frames,
                      backchannels)
        )
    workers = workers or min(2, os.cpu_count() or 1, len(specs))
    jobs = [(spec, out_dir, seed, index) for index, spec in enumerate(specs)]
    truths = _run_parallel(jobs, workers) if workers > 1 else None
    if truths is None:
        truths = [_make_video_job(job) for job in jobs]
    _write_corpus_index(out_dir, seed, duration_s, width, height, fps, portraits, voices, truths)
    return [out_dir / t.video for t in truths]


def _run_parallel(jobs: list[tuple[VideoSpec, Path, int, int]], workers: int) -> list[VideoTruth] | None:
    """Videos in spawned worker processes, or None when the workers died.

    Spawned, not forked: the parent has run MediaPipe and OpenCV thread pools, which a fork would
    copy mid-flight. Spawned workers re-import the calling script, so a script without an
    ``if __name__ == "__main__":`` guard kills them; the caller then generates in-process (the
    result is the same, each video having its own seeded generator)."""
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_single_threaded) as pool:
            return list(pool.map(_make_video_job, jobs))
    except BrokenProcessPool:
        warnings.warn("synth: worker processes died; generating the videos in this process", stacklevel=3)
        return None


def _single_threaded() -> None:
    # Each worker is one of at most a few processes sharing the cores with ffmpeg encoders:
    # OpenCV's own thread pool would only add contention.
    cv2.setNumThreads(1)


def _make_video_job(job: tuple[VideoSpec, Path, int, int]) -> VideoTruth:
    spec, out_dir, seed, index = job
    return make_video(spec, out_dir, np.random.default_rng([seed, index]))


def _write_corpus_index(
    out_dir: Path,
    seed: int,
    duration_s: float,
    width: int,
    height: int,
    fps: int,
    portraits: list[Portrait],
    voices: dict[str, Voice],
    truths: list[VideoTruth],
) -> None:
    appearances: dict[str, list[str]] = {p.person_id: [] for p in portraits}
    for truth in truths:
        for person in truth.persons:
            appearances[person.person_id].append(truth.name)
    index: dict[str, Any] = {
        "format": CORPUS_FORMAT,
        "seed": seed,
        "n_videos": len(truths),
        "duration_s": duration_s,
        "fps": fps,
        "width": width,
        "height": height,
        "identities": [
            {"person_id": p.person_id, "source": p.source, "voice": voices[p.person_id].label,
             "videos": appearances[p.person_id]}
            for p in portraits
        ],
        "videos": [
            {
                "name": t.name,
                "kind": t.kind,
                "video": t.video,
                "truth": f"truth/{t.name}.json",
                "persons": [p.person_id for p in t.persons],
                "n_frames": t.n_frames,
                "n_shots": len(t.shots),
                "expected_rejections": t.expected_rejections(),
            }
            for t in truths
        ],
    }
    tmp = out_dir / "corpus.json.tmp"
    tmp.write_text(json.dumps(index, indent=2))
    tmp.replace(out_dir / "corpus.json")
