"""SyncNet lip-sync scores (the learned ``LipSyncModel`` of ``annotators.speaking.lip_sync``).

Used when ``syncnet_v2.model`` is in the models directory (``lpm-curate models fetch syncnet``;
no SyncNet-class weights install from PyPI). For a segment: its frames are decoded again at
25 fps (only speaking segments are scored, and only with this model), each face is cropped as
``syncnet_python`` crops it (a box 2.4 face half-widths wide, from one half-height above the
face centre to 1.8 below), scaled to 224 x 224 BGR; the audio around the segment becomes
MFCCs (``annotators.models.syncnet_mfcc``). Every 5-frame window's lip embedding is compared with the
audio embedding of the same 0.2 s at offsets of up to ``MAX_OFFSET`` frames. The score is
SyncNet's confidence at the expected offset: the median distance over all offsets minus the
smallest distance within ``NEAR_OFFSET`` frames of 0, about 0 for a voice that is not this
mouth's. ``THRESHOLD`` follows the published use of SyncNet confidence for filtering talking-
head data (in-sync clips score 5-8, mismatched audio below 2); it was not measured here, because
the weights cannot be fetched on this machine.
"""

from typing import Any, ClassVar

import cv2
import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.models.model_wrapper import ModelWrapper
from annotators.models.syncnet_mfcc import mfcc
from curation.models.model_store import is_available, resolve

MODEL = "syncnet"
FPS = 25.0  # SyncNet's video rate: 4 MFCC windows (10 ms) per frame
CROP_SIZE = 224
CROP_SCALE = 0.4
MAX_OFFSET = 15
NEAR_OFFSET = 2
THRESHOLD = 3.0
SAMPLE_RATE = 16000


def syncnet_available() -> bool:
    return is_available(MODEL)


class SyncNetLipSync(ModelWrapper):
    name: ClassVar[str] = "syncnet"
    catalog_names = (MODEL,)

    def __init__(self, threshold: float = THRESHOLD, path: str | None = None) -> None:
        self.threshold = threshold
        # No uncertain band until SyncNet's scores are calibrated here (lip_sync_accept_threshold
        # of the states stage sets one).
        self.accept_threshold = threshold
        self.path = path  # a syncnet_v2.model file; None: the model store's

    @classmethod
    def load(cls, threshold: float = THRESHOLD, path: str | None = None) -> "SyncNetLipSync":
        model = cls(threshold, path)
        model.setup()
        return model

    def load_model(self) -> Any:
        from annotators.models.syncnet_network import load_syncnet

        return load_syncnet(self.path or str(resolve(MODEL)))

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        if mouth.face_boxes is None or not mouth.video_uri:
            return float("nan")
        frames = segment_face_crops(mouth)
        return self.score_crops(frames, audio, mouth.first_frame / mouth.fps)

    def score_crops(self, crops: np.ndarray, audio: np.ndarray, t_start: float) -> float:
        """``crops``: (n, 224, 224, 3) BGR uint8 at 25 fps from ``t_start`` of ``audio`` (16 kHz)."""
        distances = self.offset_distances(crops, audio, t_start)
        if distances is None:
            return float("nan")
        near = np.abs(np.arange(-MAX_OFFSET, MAX_OFFSET + 1)) <= NEAR_OFFSET
        return float(np.median(distances) - distances[near].min())

    def offset_distances(self, crops: np.ndarray, audio: np.ndarray, t_start: float) -> np.ndarray | None:
        """Mean lip/audio embedding distance at each audio offset -MAX_OFFSET..MAX_OFFSET frames
        (offset o pairs the lips at frame t with the audio at t + o); None when too short."""
        import torch

        n = len(crops) - 4
        if n < 2 * MAX_OFFSET + 1:
            return None
        # The audio from MAX_OFFSET frames before the segment to as many after it (zeros before 0).
        first = int(round((t_start - MAX_OFFSET / FPS) * SAMPLE_RATE))
        length = int((len(crops) + 2 * MAX_OFFSET + 2) / FPS * SAMPLE_RATE)
        span = np.concatenate([np.zeros(max(0, -first)), audio[max(0, first) :]])[:length]
        coefficients = mfcc(span * 32768.0, SAMPLE_RATE).T  # SyncNet saw int16 sample values
        windows = [coefficients[:, 4 * i : 4 * i + 20] for i in range(n + 2 * MAX_OFFSET)]
        if any(w.shape[1] < 20 for w in windows):
            return None
        video = torch.from_numpy(np.ascontiguousarray(crops.transpose(3, 0, 1, 2))).float()
        self.setup()
        with torch.no_grad():
            lips = self._model.forward_lip(torch.stack([video[:, i : i + 5] for i in range(n)]))
            sounds = self._model.forward_aud(torch.from_numpy(np.stack(windows)[:, None]).float())
        # audio window i + MAX_OFFSET is the same instant as lip window i
        return np.array(
            [torch.nn.functional.pairwise_distance(lips, sounds[MAX_OFFSET + o : MAX_OFFSET + o + n]).mean().item()
             for o in range(-MAX_OFFSET, MAX_OFFSET + 1)]
        )  # fmt: skip


def segment_face_crops(mouth: MouthTrack) -> np.ndarray:
    """The segment's frames at 25 fps, each cropped around its face box, (n, 224, 224, 3) BGR."""
    from curation.media.frame_source import AnalysisGeometry, decode_frames
    from curation.media.probe import probe_media

    info = probe_media(mouth.video_uri)
    geometry = AnalysisGeometry.for_source(info.width, info.height, min(info.width, info.height))
    n = len(mouth.face_boxes)
    boxes = _filled(np.asarray(mouth.face_boxes, dtype=np.float64))
    crops = []
    start = mouth.first_frame / mouth.fps
    for i, frame in enumerate(decode_frames(mouth.video_uri, geometry, FPS, 60.0, start_time=start)):
        if i >= n:
            break
        crops.append(face_crop(frame.rgb, boxes[min(i, n - 1)]))
    return np.stack(crops) if crops else np.zeros((0, CROP_SIZE, CROP_SIZE, 3), np.uint8)


def face_crop(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """``syncnet_python``'s crop around a face box (fractions of the frame), 224 x 224 BGR."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = box * np.array([width, height, width, height])
    half = max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    pad = int(round(half * (1 + 2 * CROP_SCALE)))
    padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), constant_values=110)
    top, bottom = int(cy - half) + pad, int(cy + half * (1 + 2 * CROP_SCALE)) + pad
    left, right = int(cx - half * (1 + CROP_SCALE)) + pad, int(cx + half * (1 + CROP_SCALE)) + pad
    crop = padded[max(top, 0) : bottom, max(left, 0) : right]
    return cv2.resize(crop[:, :, ::-1], (CROP_SIZE, CROP_SIZE))


def _filled(boxes: np.ndarray) -> np.ndarray:
    """Boxes with the frames where the face was missing taken from the nearest frame that has one."""
    ok = np.isfinite(boxes).all(axis=1)
    if not ok.any():
        return np.tile([0.25, 0.25, 0.75, 0.75], (len(boxes), 1))
    index = np.flatnonzero(ok)
    nearest = index[np.abs(np.arange(len(boxes))[:, None] - index[None, :]).argmin(axis=1)]
    return boxes[nearest]
