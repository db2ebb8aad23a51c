"""Mouth pixels beside the lip-sync feature cache, for ``benchmarks.mouth_pixel_sync``.

``apps.bench.sync_corpus_features`` caches what the shipped lip-sync networks read: three mouth signals
per frame from MediaPipe's landmarks. A network that reads the mouth's pixels (SyncNet's kind) needs the
pixels, so this runs the same extraction (the same stages, the same segments) and stores beside each
context's signals, per frame, a ``CROP_SHAPE`` grey crop of the lower face cut from the track's face box
(``crops``, uint8; ``crop_ok`` False where the track has no box that frame). The video is decoded once
more per clip at its analysis rate, streaming: only the context frames are kept.

Run: ``python -m benchmarks.mouth_crops --corpus CAL --media ../shared/media --out FEATURES_PX`` (105
clips, about 20 min on 2 cores). Not part of the pipeline: an experiment's input.
"""

import argparse
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from annotators.face.landmarked_face import FaceEmbedder
from apps.bench.lip_sync_recorder import Call, latest_calls
from apps.bench.sync_corpus_features import (
    clip_arrays,
    context_track,
    corpus_clips,
    extract,
    shared_clips,
)
from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.media.probe import probe_media
from curation.runtime.video_work import VideoWork

CROP_SHAPE = (32, 48)  # rows, columns: the mouth is wider than tall
DECODE_SHORT_SIDE = 360
# The lower face within a face box: from a little below its middle (the nose's tip) to just past its
# bottom (the chin), as wide as 1.5 times that height, centred on the box.
CROP_TOP, CROP_BOTTOM, CROP_ASPECT = 0.55, 1.05, 1.5


def lower_face_crop(grey: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The ``CROP_SHAPE`` crop of ``grey`` (h, w) under the face box ``box`` (x0, y0, x1, y1 as fractions
    of the frame); edges padded by repetition where it leaves the frame; None for a box of under 4 px."""
    height, width = grey.shape
    x0, y0, x1, y1 = np.asarray(box, dtype=np.float64) * [width, height, width, height]
    top, bottom = y0 + CROP_TOP * (y1 - y0), y0 + CROP_BOTTOM * (y1 - y0)
    half = CROP_ASPECT * (bottom - top) / 2
    centre = (x0 + x1) / 2
    left, right = int(round(centre - half)), int(round(centre + half))
    top_px, bottom_px = int(round(top)), int(round(bottom))
    if right - left < 4 or bottom_px - top_px < 4:
        return None
    pad = max(0, -left, -top_px, right - width, bottom_px - height)
    padded = np.pad(grey, pad, mode="edge") if pad else grey
    crop = padded[top_px + pad : bottom_px + pad, left + pad : right + pad]
    return cv2.resize(crop, CROP_SHAPE[::-1], interpolation=cv2.INTER_AREA)


def context_crops(work: VideoWork, calls: list[Call], fps: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per recorded segment (``clip_arrays``' order): its context's crops (n, *CROP_SHAPE) and which
    frames have one."""
    wanted: dict[int, list[tuple[int, int, np.ndarray]]] = defaultdict(list)  # frame -> (context, row, box)
    out = []
    for k, (mouth, _, _) in enumerate(latest_calls(calls).values()):
        context = mouth.context or mouth
        n = len(context.mouth_open)
        out.append((np.zeros((n, *CROP_SHAPE), np.uint8), np.zeros(n, bool)))
        found = context_track(work, context, fps)
        if found is None:
            continue
        track_id, first = found
        boxes = work.track_features[track_id].face_box
        if boxes is None:
            continue
        for i in range(n):
            box = np.asarray(boxes[first + i], dtype=np.float64)
            if np.isfinite(box).all():
                wanted[context.first_frame + i].append((k, i, box))
    if not wanted:
        return out
    info = probe_media(work.uri)
    geometry = AnalysisGeometry.for_source(info.width, info.height, DECODE_SHORT_SIDE)
    last = max(wanted)
    for index, frame in enumerate(decode_frames(work.uri, geometry, fps, 600.0)):
        if index > last:
            break
        if index in wanted:
            grey = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY)
            for k, i, box in wanted[index]:
                crop = lower_face_crop(grey, box)
                if crop is not None:
                    out[k][0][i], out[k][1][i] = crop, True
    return out


def clip_arrays_with_crops(
    work: VideoWork, calls: list[Call], vad_threshold: float, embedder: FaceEmbedder
) -> dict[str, np.ndarray]:
    """``sync_corpus_features.clip_arrays`` plus ``crops`` and ``crop_ok``, concatenated as ``signals`` is."""
    arrays = clip_arrays(work, calls, vad_threshold, embedder)
    found = context_crops(work, calls, float(arrays["fps"]))
    arrays["crops"] = np.concatenate([c for c, _ in found]) if found else np.zeros((0, *CROP_SHAPE), np.uint8)
    arrays["crop_ok"] = np.concatenate([ok for _, ok in found]) if found else np.zeros(0, bool)
    return arrays


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a calibration fetch cache")
    parser.add_argument("--media", type=Path, help="a media folder with MANIFEST.csv (talking_head clips)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/lpm-sync-features"))
    args = parser.parse_args(argv)
    clips = (corpus_clips(args.corpus) if args.corpus else []) + (shared_clips(args.media) if args.media else [])
    extract(clips, args.out, args.workdir, arrays_of=clip_arrays_with_crops)


if __name__ == "__main__":
    main()
