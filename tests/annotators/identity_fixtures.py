"""Test helpers for the identity and near-duplicate annotators: real frames, real landmarks,
tiny models built on the spot, and clustering agreement with a ground truth.

Frames come from the shared clips through ffmpeg; landmarks from the project's MediaPipe
FaceLandmarker annotator. Both are cached per test session (per process), because several test
files look at the same clips.
"""

import functools
import itertools
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from annotators.face.landmarked_face import LandmarkedFace
from annotators.models.face_landmarker import FaceLandmarkerAnnotator

FACE_MODEL = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "face_landmarker.task"


def shared_media_dir() -> Path:
    override = os.environ.get("LPM_SHARED_MEDIA")
    return Path(override) if override else Path(__file__).resolve().parents[2].parent / "shared" / "media"


def clip_path(name: str) -> Path:
    """A shared clip by its manifest name without ``.mp4``, or an absolute path as is."""
    path = Path(name)
    return path if path.is_absolute() else shared_media_dir() / f"{name}.mp4"


def video_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
         "-of", "json", str(path)],
        capture_output=True, check=True, timeout=60,
    ).stdout
    stream = json.loads(out)["streams"][0]
    return int(stream["width"]), int(stream["height"])


@functools.lru_cache(maxsize=64)
def decode_frames(
    name: str, fps: float = 2.0, short_side: int = 512, max_seconds: float | None = None
) -> np.ndarray:
    """RGB frames (n, H, W, 3) sampled at ``fps``, scaled so the short side is ``short_side``."""
    path = clip_path(name)
    width, height = video_size(path)
    scale = short_side / min(width, height)
    out_w, out_h = round(width * scale / 2) * 2, round(height * scale / 2) * 2
    limit = ["-t", f"{max_seconds}"] if max_seconds else []
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", *limit, "-i", str(path),
         "-vf", f"fps={fps},scale={out_w}:{out_h}:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "pipe:1"],
        capture_output=True, check=True, timeout=300,
    ).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, out_h, out_w, 3)
    frames.flags.writeable = False  # shared through the cache: nobody may modify it
    return frames


@functools.lru_cache(maxsize=64)
def dominant_face_track(
    name: str, fps: float = 2.0, short_side: int = 512, max_seconds: float | None = None
) -> tuple[LandmarkedFace, ...]:
    """The largest face of every sampled frame in which MediaPipe finds one.

    One clip shows one main person here (a small picture-in-picture face, as in
    ``talkvid_tys_gt``, loses to the main face by size).
    """
    frames = decode_frames(name, fps, short_side, max_seconds)
    faces = []
    with FaceLandmarkerAnnotator(model_path=FACE_MODEL, max_faces=2) as landmarker:
        for index, frame in enumerate(frames):
            found = landmarker.detect(frame, t_seconds=index / fps)
            if found:
                main = max(found, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
                landmarks = np.asarray(main.landmarks, dtype=np.float64)
                faces.append(LandmarkedFace(frame, landmarks, frame_index=index))
    return tuple(faces)


def reencode(name: str, target: Path, video_filter: str, extra_input_args: tuple[str, ...] = ()) -> Path:
    """A re-upload-like copy of a clip: filtered (scale, colour, bars...) and re-encoded, no audio."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *extra_input_args, "-i", str(clip_path(name)),
         "-vf", video_filter, "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-an", str(target)],
        check=True, timeout=300,
    )
    return target


def pairwise_precision_recall(
    predicted: Mapping[str, str], truth: Mapping[str, str]
) -> tuple[float, float]:
    """Pairwise clustering precision and recall of predicted labels against true labels.

    Over all pairs of items: precision = share of predicted same-cluster pairs that are truly the
    same person; recall = share of true same-person pairs that were put together. Either is 1.0
    when it has no pairs to judge.
    """
    items = sorted(truth)
    together_predicted = together_true = together_both = 0
    for a, b in itertools.combinations(items, 2):
        p, t = predicted[a] == predicted[b], truth[a] == truth[b]
        together_predicted += p
        together_true += t
        together_both += p and t
    precision = together_both / together_predicted if together_predicted else 1.0
    recall = together_both / together_true if together_true else 1.0
    return precision, recall


def build_tiny_arcface_onnx(path: Path, embedding_size: int = 64, seed: int = 0) -> Path:
    """A randomly initialised ONNX network with ArcFace's interface: (N, 3, 112, 112) -> (N, d).

    A strided convolution, ReLU, flatten and a dense layer. InsightFace routes a model to its
    ArcFace class by these shapes alone, so this file takes the same loading path as w600k_r50.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    conv_w = rng.normal(0, 0.1, (8, 3, 8, 8)).astype(np.float32)
    conv_b = np.zeros(8, dtype=np.float32)
    dense_w = rng.normal(0, 0.02, (8 * 14 * 14, embedding_size)).astype(np.float32)
    dense_b = np.zeros(embedding_size, dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["input.1", "conv_w", "conv_b"], ["c"], name="conv",
                             kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("Relu", ["c"], ["r"], name="relu"),
            helper.make_node("Flatten", ["r"], ["f"], name="flatten", axis=1),
            helper.make_node("Gemm", ["f", "dense_w", "dense_b"], ["embedding"], name="dense"),
        ],
        "tiny_arcface",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", embedding_size])],
        [numpy_helper.from_array(a, n) for a, n in
         ((conv_w, "conv_w"), (conv_b, "conv_b"), (dense_w, "dense_w"), (dense_b, "dense_b"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
