"""The JPEG crops a video's ``FaceCrops`` product names, read back from the run store."""

import cv2
import numpy as np

from curation.runtime.products import FaceCrop, crop_jpeg_name
from curation.runtime.video_work import VideoWork
from curation.store.artefacts import BlobArchive


def crop_jpegs(work: VideoWork, crops: list[FaceCrop], kind: str) -> list[bytes]:
    """The ``kind`` JPEG (face, body, global) of each crop, in order; one archive read per call."""
    if not crops or work.crops is None:
        return []
    with BlobArchive(work.run_uri, work.crops.archive) as archive:
        return [archive.get(crop_jpeg_name(crop.name, kind)) for crop in crops]


def crop_images(work: VideoWork, crops: list[FaceCrop], kind: str) -> list[np.ndarray]:
    """The same crops decoded to RGB uint8."""
    return [decode_jpeg(data) for data in crop_jpegs(work, crops, kind)]


def decode_jpeg(data: bytes) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
