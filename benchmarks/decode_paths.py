"""``python -m benchmarks.decode_paths CLIP...``: what a single decode that switches rates costs.

Issue 17's cascade needs full-rate frames only on candidate shots, and it learns which shots those
are while decoding. Today's decode is an ffmpeg process whose filter graph scales, converts and
pipes every analysis frame at one rate (``curation.media.frame_source.decode_frames``), so a
rate that changes mid-clip means a second decode or a filter switched from outside (ffmpeg's
``streamselect`` driven through its ``zmq`` filter). This measures the alternative: decoding in
this process (``curation.media.source_frames``: PyAV, the FFmpeg libraries faster-whisper already
brings), where every source frame is decoded (the codec's work cannot be skipped) but each one is
scaled and converted to RGB only if a pass wants it, so the rate can change on any frame. Per
clip, in one process on whatever CPUs it is given (``taskset -c 1`` for one core), the best of
``--repeat`` runs after a warm-up:

- ``ffmpeg_fine_s``: today's decode floor, ffmpeg to 25 fps at 512 px through the pipe;
- ``ffmpeg_coarse_s``: the same at 5 fps and 256 px (the coarse decode ``coarse_floor`` measured);
- ``inprocess_codec_s``: every source frame decoded in this process, none converted;
- ``inprocess_coarse_s``: the same, converting the frames of a 5-fps, 256-px pass;
- ``inprocess_fine_s``: the same, converting the frames of a 25-fps, 512-px pass;
- ``inprocess_switching_s``: one decode that converts the coarse pass's frames everywhere and,
  over the first half of the clip only, every 25-fps frame at 512 px: a clip half of candidate shots.

Frames are chosen as ffmpeg's ``fps`` filter chooses them (``RateSelector``), so the counts are ffmpeg's.
"""

import argparse
import json
from pathlib import Path

import av

from apps.bench.coarse_floor import best_seconds
from apps.bench.floors import decode_floor_of
from curation.media.frame_source import AnalysisGeometry
from curation.media.source_frames import RateSelector, source_frames

FINE_FPS, FINE_SIDE = 25.0, 512
COARSE_FPS, COARSE_SIDE = 5.0, 256


def inprocess_pass(path: str, passes: list[tuple[float, int, float]]) -> int:
    """Decode every frame of ``path`` in this process (``source_frames``, one thread); for each
    ``(fps, short_side, until_s)`` pass, convert the frames it takes before ``until_s`` seconds to
    RGB at ``short_side`` px. Returns the analysis frames delivered (a repeated frame counts per slot)."""
    selectors = [RateSelector(fps) for fps, _, _ in passes]
    geometries: list[AnalysisGeometry] = []
    delivered = 0
    for frame in source_frames(path):
        if not geometries:
            geometries = [AnalysisGeometry.for_source(frame.display_width, frame.display_height, side)
                          for _, side, _ in passes]
        for (_, _, until_s), geometry, selector in zip(passes, geometries, selectors, strict=True):
            taken = selector.take(frame)
            if taken and frame.t < until_s:
                frame.rgb(geometry)
                delivered += taken
    return delivered


def measure(path: str, repeat: int = 1) -> dict:
    everywhere = float("inf")
    with av.open(path) as container:
        duration = float(container.duration or 0) / av.time_base
    figures: dict[str, float | int | str] = {"file": Path(path).name}
    runs = {
        "ffmpeg_fine": lambda: decode_floor_of(path, FINE_SIDE, FINE_FPS),
        "ffmpeg_coarse": lambda: decode_floor_of(path, COARSE_SIDE, COARSE_FPS),
        "inprocess_codec": lambda: inprocess_pass(path, []),
        "inprocess_coarse": lambda: inprocess_pass(path, [(COARSE_FPS, COARSE_SIDE, everywhere)]),
        "inprocess_fine": lambda: inprocess_pass(path, [(FINE_FPS, FINE_SIDE, everywhere)]),
        "inprocess_switching": lambda: inprocess_pass(
            path, [(COARSE_FPS, COARSE_SIDE, everywhere), (FINE_FPS, FINE_SIDE, duration / 2)]
        ),
    }
    for name, run in runs.items():
        seconds, frames = best_seconds(run, repeat)
        figures[f"{name}_s"] = seconds
        figures[f"{name}_frames"] = frames
    figures["inprocess_fine_over_ffmpeg_fine"] = figures["inprocess_fine_s"] / figures["ffmpeg_fine_s"]
    figures["inprocess_coarse_over_ffmpeg_fine"] = figures["inprocess_coarse_s"] / figures["ffmpeg_fine_s"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decode_paths", description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", help="video files")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    for clip in args.clips:
        print(json.dumps(measure(clip, args.repeat)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
