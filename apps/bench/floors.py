"""The floors a pipeline is measured against, run on the same files with the same settings.

``decode``: ffmpeg decoding to analysis frames (same resolution, fps, threads, pipe), frames
read and discarded. ``model``: the same decode plus the FaceLandmarker (VIDEO mode) on every
frame in a tight loop, results discarded: the work no analysis pipeline can avoid.
Both run in ``workers`` parallel processes, like the pipeline they are compared with, and both
start those processes (interpreter, imports, model) inside the clock, as the pipeline starts its
actors inside its own: the three figures pay the same start-up.
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.media.probe import MediaInfo


def _decode_only(path: str, geometry: AnalysisGeometry, fps: float, threads: int) -> int:
    return sum(1 for _ in decode_frames(path, geometry, fps, timeout_s=3600, threads=threads))


def _decode_and_landmarker(path: str, geometry: AnalysisGeometry, fps: float, threads: int, model: str) -> int:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=4,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    n = 0
    with vision.FaceLandmarker.create_from_options(options) as landmarker:
        for frame in decode_frames(path, geometry, fps, timeout_s=3600, threads=threads):
            landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb), n * 40 + 1)
            n += 1
    return n


def balanced_order(infos: dict[str, MediaInfo]) -> list[str]:
    """Longest first, so parallel workers finish close together."""
    return sorted(infos, key=lambda p: -infos[p].duration_s)


def measure_floor(
    kind: str, infos: dict[str, MediaInfo], short_side: int, fps: float, threads: int, workers: int, model: Path
) -> tuple[float, int]:
    """(wall seconds, frames) for one floor over all files."""
    context = multiprocessing.get_context("spawn")
    jobs = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for path in balanced_order(infos):
            info = infos[path]
            geometry = AnalysisGeometry.for_source(info.width, info.height, short_side)
            if kind == "decode":
                jobs.append(pool.submit(_decode_only, path, geometry, fps, threads))
            else:
                jobs.append(pool.submit(_decode_and_landmarker, path, geometry, fps, threads, str(model)))
        frames = sum(job.result() for job in jobs)
    return time.perf_counter() - started, frames
