"""The floors a pipeline is measured against, run on the same files with the same settings.

``decode``: ffmpeg decoding to analysis frames (same resolution, fps, threads, pipe), frames
read and discarded. ``model``: the same decode plus the FaceLandmarker (VIDEO mode) on every
frame in a tight loop, results discarded: the work no analysis pipeline can avoid.
Both run in ``workers`` parallel processes, like the pipeline they are compared with, and both
start those processes (interpreter, imports, model) inside the clock, as the pipeline starts its
actors inside its own: the three figures pay the same start-up.

``coarse_pass_only`` (one file, in this process, for ``apps.bench.coarse_floor``): what any
cascade's coarse pass must at least do before it landmarks a frame, measured to see how far below
the model floor a cascade can go.
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from curation.media.frame_source import AnalysisGeometry
from curation.media.probe import MediaInfo
from curation.media.source_frames import DECODERS


def _decode_only(path: str, geometry: AnalysisGeometry, fps: float, threads: int, decoder: str = "ffmpeg") -> int:
    return sum(1 for _ in DECODERS[decoder](path, geometry, fps, 3600, threads))


def _decode_and_landmarker(
    path: str, geometry: AnalysisGeometry, fps: float, threads: int, model: str, decoder: str = "ffmpeg"
) -> int:
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
        for frame in DECODERS[decoder](path, geometry, fps, 3600, threads):
            landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb), n * 40 + 1)
            n += 1
    return n


def coarse_pass_only(path: str, short_side: int, fps: float, model: str, detector_every: int = 5) -> int:
    """A stripped coarse pass: decode at ``short_side`` px, quality on the grey frame and its
    halved thumbnail and the content shot detector on every frame, BlazeFace (the landmarker
    bundle's own detector) on every ``detector_every``-th frame. No tiled small-face search, no
    landmarker, no audio: a lower bound on a coarse pass that keeps shots and quality per frame.
    Returns the frames read."""
    import zipfile

    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from annotators.shots.frame_quality import FrameQualityMeter
    from annotators.shots.shot_detector import make_shot_detector
    from stages.visual_analysis import SHARPNESS_SHORT_SIDE, THUMB_SHORT_SIDE, VisualAnalysisStage, resize_short

    with zipfile.ZipFile(model) as bundle:
        detector_model = bundle.read("face_detector.tflite")
    options = vision.FaceDetectorOptions(base_options=BaseOptions(model_asset_buffer=detector_model))
    geometry = _geometry(path, short_side)
    quality = FrameQualityMeter()
    stage = VisualAnalysisStage()  # the shot detector the analysis uses by default
    min_gap = max(1, round(stage.min_shot_gap_s * fps))
    shots = make_shot_detector(stage.shot_detector, stage.shot_threshold, min_gap, fps, None)
    n = 0
    with vision.FaceDetector.create_from_options(options) as detector:
        for frame in DECODERS["ffmpeg"](path, geometry, fps, 3600):
            # The analysis's own small images; on a 256-px frame the grey image is the frame itself.
            half = resize_short(frame.rgb, SHARPNESS_SHORT_SIDE)
            thumb = resize_short(half, THUMB_SHORT_SIDE)
            shots.feed(frame.index, cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR))
            quality.measure(thumb, cv2.cvtColor(half, cv2.COLOR_RGB2GRAY))
            if frame.index % detector_every == 0:
                detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb))
            n += 1
    return n


def model_floor_of(path: str, short_side: int, fps: float, model: str) -> int:
    """The model floor of one file in this process (``measure_floor`` runs it in workers)."""
    return _decode_and_landmarker(path, _geometry(path, short_side), fps, 1, model)


def decode_floor_of(path: str, short_side: int, fps: float) -> int:
    """The decode floor of one file in this process."""
    return _decode_only(path, _geometry(path, short_side), fps, 1)


def _geometry(path: str, short_side: int) -> AnalysisGeometry:
    from curation.media.probe import probe_media

    info = probe_media(path)
    return AnalysisGeometry.for_source(info.width, info.height, short_side)


def balanced_order(infos: dict[str, MediaInfo]) -> list[str]:
    """Longest first, so parallel workers finish close together."""
    return sorted(infos, key=lambda p: -infos[p].duration_s)


def measure_floor(
    kind: str,
    infos: dict[str, MediaInfo],
    short_side: int,
    fps: float,
    threads: int,
    workers: int,
    model: Path,
    decoder: str = "ffmpeg",
) -> tuple[float, int]:
    """(wall seconds, frames) for one floor over all files, decoded as the analysis stage decodes
    (``decoder``: the pipeline and its floors always read frames the same way)."""
    context = multiprocessing.get_context("spawn")
    jobs = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for path in balanced_order(infos):
            info = infos[path]
            geometry = AnalysisGeometry.for_source(info.width, info.height, short_side)
            if kind == "decode":
                jobs.append(pool.submit(_decode_only, path, geometry, fps, threads, decoder))
            else:
                jobs.append(pool.submit(_decode_and_landmarker, path, geometry, fps, threads, str(model), decoder))
        frames = sum(job.result() for job in jobs)
    return time.perf_counter() - started, frames
