"""A face track's identity vector from its stored crops, and the people within one video.

Used by two stages: ``states`` groups a video's faces to tell whose voice is whose, ``identity``
clusters tracks across the run. Both need the same vector for the same track, so it is computed
once per (track, embedder kind, frame count) and kept on the record (``VideoWork.identity_vectors``).
"""

from typing import Literal

import numpy as np

from annotators.face.landmarked_face import FaceEmbedder, LandmarkedFace
from annotators.identity.face_track_embedding import embed_track
from annotators.identity.identity_clusterer import IdentityTrack, cluster_identities, identity_of_track
from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice, onnx_providers, resolve_device
from curation.runtime.products import TrackIdentityVector
from curation.runtime.video_work import VideoWork
from curation.store.stored_crops import crop_images
from schemas.tables import TrackRow

FaceDescriptorChoice = Literal["auto", "arcface", "dlib", "fallback"]
# What ``auto`` picks, best first: ArcFace once fetched, dlib's ResNet (installed with the package),
# and the hand-made descriptor only when neither is there (the run warns about it).
FACE_EMBEDDER_MODELS = {"arcface": "arcface", "dlib": "dlib_face_resnet"}


def chosen_face_embedder(descriptor: FaceDescriptorChoice = "auto") -> str:
    """The embedder ``descriptor`` resolves to on this machine: arcface, dlib or fallback."""
    if descriptor != "auto":
        return descriptor
    return next((name for name, model in FACE_EMBEDDER_MODELS.items() if is_available(model)), "fallback")


def face_embedder_choice(capability: str, stage: str, descriptor: FaceDescriptorChoice = "auto") -> ModelChoice:
    """The model behind ``face_embedder(descriptor)``, or the hand-made descriptor standing in for dlib's."""
    chosen = chosen_face_embedder(descriptor)
    if chosen in FACE_EMBEDDER_MODELS:
        return ModelChoice.using(capability, stage, FACE_EMBEDDER_MODELS[chosen])
    return ModelChoice.instead(
        capability, stage, "the hand-made landmark/texture descriptor", FACE_EMBEDDER_MODELS["dlib"],
        "weak: merges look-alikes, splits one person across lighting changes",
    )


def face_embedder(descriptor: FaceDescriptorChoice = "auto", device: DeviceChoice = "auto") -> FaceEmbedder:
    """The identity embedder ``chosen_face_embedder`` names; ArcFace runs on ``device`` (ONNX
    Runtime's CUDA provider on a GPU), dlib on the CPU."""
    chosen = chosen_face_embedder(descriptor)
    if chosen == "arcface":
        from annotators.models.arcface_embedder import ArcFaceEmbedder

        return ArcFaceEmbedder(providers=onnx_providers(resolve_device(device)))
    if chosen == "dlib":
        from annotators.models.dlib_face_embedder import DlibFaceEmbedder

        return DlibFaceEmbedder()
    from annotators.identity.face_descriptor import FaceDescriptor

    return FaceDescriptor()


def track_identity_vector(
    work: VideoWork, track_id: str, embedder: FaceEmbedder, max_frames: int | None = None
) -> TrackIdentityVector | None:
    """The track's identity vector from its candidate crops (None without crops); ``max_frames``
    defaults to the embedder's own ``frames_per_track``."""
    max_frames = max_frames or embedder.frames_per_track
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


def face_groups(work: VideoWork, tracks: list[TrackRow], embedder: FaceEmbedder) -> dict[str, str]:
    """Track id -> the person within this one video (tracks of one person share a value), by the
    same clustering and cut as the run's identities; a track without crops is its own person."""
    members = []
    for track in tracks:
        vector = track_identity_vector(work, track.track_id, embedder)
        if vector is not None:
            members.append(
                IdentityTrack(track.track_id, work.video_id, track.t_start, track.t_end, vector.vector,
                              vector.kind)
            )
    groups = {t.track_id: t.track_id for t in tracks}
    groups.update(identity_of_track(cluster_identities(members)))
    return groups
