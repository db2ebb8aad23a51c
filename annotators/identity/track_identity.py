"""A face track's identity vector from its stored crops, and the people within one video.

Used by two stages: ``states`` groups a video's faces to tell whose voice is whose, ``identity``
clusters tracks across the run. Both need the same vector for the same track, so it is computed
once per (track, embedder kind, frame count) and kept on the record (``VideoWork.identity_vectors``).
"""

from typing import Any

import numpy as np

from annotators.face.landmarked_face import FaceEmbedder, LandmarkedFace
from annotators.identity.face_track_embedding import DEFAULT_MAX_FRAMES, embed_track
from annotators.identity.identity_clusterer import IdentityTrack, cluster_identities, identity_of_track
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice, onnx_providers, resolve_device
from curation.runtime.products import TrackIdentityVector
from curation.runtime.stored_crops import crop_images
from curation.runtime.video_work import VideoWork


def face_embedder(descriptor: str = "auto", device: DeviceChoice = "auto") -> FaceEmbedder:
    """ArcFace when asked for or (``auto``) when its model is present, else the no-weights
    descriptor; ArcFace runs on ``device`` (ONNX Runtime's CUDA provider on a GPU)."""
    if descriptor == "arcface" or (descriptor == "auto" and is_available("arcface")):
        from annotators.models.arcface_embedder import ArcFaceEmbedder

        return ArcFaceEmbedder(providers=onnx_providers(resolve_device(device)))
    from annotators.identity.face_descriptor import FaceDescriptor

    return FaceDescriptor()


def track_identity_vector(
    work: VideoWork, track_id: str, embedder: FaceEmbedder, max_frames: int
) -> TrackIdentityVector | None:
    """The track's identity vector from its candidate crops (None without crops)."""
    key = f"{track_id}:{embedder.kind}:{max_frames}"
    if key not in work.identity_vectors:
        crops = work.crops.of_track(track_id) if work.crops is not None else []
        if not crops:
            return None
        images = crop_images(work, crops, "face")
        faces = [
            LandmarkedFace(image, crop.face_landmarks.astype(np.float64), frame_index=i)
            for i, (image, crop) in enumerate(zip(images, crops, strict=True))
        ]
        embedding = embed_track(track_id, faces, embedder, max_frames)
        work.identity_vectors[key] = TrackIdentityVector(
            embedding.vector, embedding.kind, embedding.strength, max_frames
        )
    return work.identity_vectors[key]


def face_groups(work: VideoWork, tracks: list[dict[str, Any]], embedder: FaceEmbedder) -> dict[str, str]:
    """Track id -> the person within this one video (tracks of one person share a value), by the
    same clustering and cut as the run's identities; a track without crops is its own person."""
    members = []
    for track in tracks:
        vector = track_identity_vector(work, track["track_id"], embedder, DEFAULT_MAX_FRAMES)
        if vector is not None:
            members.append(
                IdentityTrack(track["track_id"], work.video_id, track["t_start"], track["t_end"], vector.vector,
                              vector.kind)
            )
    groups = {t["track_id"]: t["track_id"] for t in tracks}
    groups.update(identity_of_track(cluster_identities(members)))
    return groups
