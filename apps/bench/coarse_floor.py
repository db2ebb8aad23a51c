"""``python -m apps.bench.coarse_floor CLIP...``: a stripped coarse pass against the model floor.

Issue 17 asks for analysis at <= 0.8 x the model floor (decode plus the FaceLandmarker on every
frame) by landmarking only the shots a coarse pass lets through. This measures, per clip and in one
process on whatever CPUs it is given (``taskset -c 1`` for one core), how much of that floor
a coarse pass costs before it landmarks anything (``floors.coarse_pass_only``): where the ratio is
near 1, no cascade that keeps shots and quality on every frame can reach 0.8 x. ``--coarse-fps``
decodes the coarse pass at a lower rate (ffmpeg's ``fps`` filter, so the scaling, colour conversion
and pipe run only on the frames kept) with shots, quality and BlazeFace on each of them: the price
of a coarse pass that decides at a few frames a second. Each figure is the best of ``--repeat``
runs, after one warm-up run of each.
"""

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from apps.bench.floors import coarse_pass_only, decode_floor_of, model_floor_of
from curation.models.model_store import resolve


def best_seconds(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """(fastest wall seconds of ``repeat`` runs, frames of the last)."""
    run()  # warm-up: imports, the model, the file in the page cache
    times, frames = [], 0
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        frames = run()
        times.append(time.perf_counter() - started)
    return min(times), frames


def measure(
    path: str,
    model: str,
    repeat: int = 1,
    coarse_side: int = 256,
    side: int = 512,
    fps: float = 25.0,
    coarse_fps: float | None = None,
) -> dict:
    coarse_fps = coarse_fps or fps
    # BlazeFace about five times a second, whatever the coarse rate.
    detector_every = max(1, round(coarse_fps / 5))
    floor_s, frames = best_seconds(lambda: model_floor_of(path, side, fps, model), repeat)
    coarse_s, coarse_frames = best_seconds(
        lambda: coarse_pass_only(path, coarse_side, coarse_fps, model, detector_every), repeat
    )
    if coarse_fps == fps:  # the same frames on both sides
        assert frames == coarse_frames, (frames, coarse_frames)
    decode_s, _ = best_seconds(lambda: decode_floor_of(path, side, fps), repeat)
    coarse_decode_s, _ = best_seconds(lambda: decode_floor_of(path, coarse_side, coarse_fps), repeat)
    return {
        "file": Path(path).name,
        "frames": frames,
        "coarse_fps": coarse_fps,
        "coarse_frames": coarse_frames,
        "decode_s": decode_s,
        "coarse_decode_s": coarse_decode_s,
        "model_floor_s": floor_s,
        "coarse_s": coarse_s,
        "coarse_over_model_floor": coarse_s / floor_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.bench.coarse_floor", description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", help="video files")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--coarse-side", type=int, default=256, help="short side of the coarse decode")
    parser.add_argument("--coarse-fps", type=float, default=None, help="frame rate of the coarse decode (default: 25)")
    args = parser.parse_args(argv)
    model = str(resolve("face_landmarker"))
    for clip in args.clips:
        print(json.dumps(measure(clip, model, args.repeat, args.coarse_side, coarse_fps=args.coarse_fps)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
