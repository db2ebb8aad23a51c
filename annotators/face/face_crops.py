"""Small JPEG crops of a face, its upper body and the whole frame, for identity and references.

Frames are never kept after the single analysis decode, so the crops that identity embedding and
reference selection will need are cut during that pass, a few per second, and stored compactly.
"""

import cv2
import numpy as np

FACE_CROP_PX = 160
BODY_CROP_PX = 224
FRAME_THUMB_PX = 256
FACE_EXPAND = 1.6


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def square_box(box: np.ndarray, expand: float) -> tuple[int, int, int]:
    """(x0, y0, side) of a square centred on ``box`` and ``expand`` times its larger side."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(8, int(round(max(box[2] - box[0], box[3] - box[1]) * expand)))
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def crop_resized(rgb: np.ndarray, x0: int, y0: int, w: int, h: int, out_w: int, out_h: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    canvas = np.zeros((h, w, 3), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(width, x0 + w), min(height, y0 + h)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return cv2.resize(canvas, (out_w, out_h), interpolation=cv2.INTER_AREA)


def face_crop(rgb: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> tuple[bytes, np.ndarray]:
    """A square face crop and the landmarks (x, y, z) in the crop's pixel units (z scaled like x)."""
    x0, y0, side = square_box(box, FACE_EXPAND)
    crop = crop_resized(rgb, x0, y0, side, side, FACE_CROP_PX, FACE_CROP_PX)
    scale = FACE_CROP_PX / side
    local = (landmarks[:, :3] - np.array([x0, y0, 0.0], dtype=np.float32)) * scale
    return encode_jpeg(crop), local.astype(np.float16)


def body_crop(rgb: np.ndarray, box: np.ndarray) -> bytes:
    """Head and shoulders: 3.2 face widths wide, from half a face above to 3.5 faces below the top."""
    fw, fh = box[2] - box[0], box[3] - box[1]
    cx = (box[0] + box[2]) / 2
    w, h = int(round(3.2 * fw)), int(round(4.0 * fh))
    x0, y0 = int(round(cx - w / 2)), int(round(box[1] - 0.5 * fh))
    out_h = BODY_CROP_PX
    out_w = max(16, int(round(out_h * w / max(h, 1))))
    return encode_jpeg(crop_resized(rgb, x0, y0, max(w, 8), max(h, 8), out_w, out_h))


def frame_thumbnail(rgb: np.ndarray) -> bytes:
    height, width = rgb.shape[:2]
    scale = FRAME_THUMB_PX / min(height, width)
    size = (max(2, int(round(width * scale))), max(2, int(round(height * scale))))
    return encode_jpeg(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), quality=85)
