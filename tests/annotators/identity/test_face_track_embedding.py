import cv2
import numpy as np
import pytest
from identity_fixtures import dominant_face_track

from annotators.face.landmarked_face import LandmarkedFace
from annotators.identity.face_descriptor import FaceDescriptor
from annotators.identity.face_track_embedding import (
    embed_track,
    frame_quality,
    head_angles_degrees,
    mean_direction,
    select_frames,
)


def _rotation_about_y(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def _turned(face: LandmarkedFace, degrees: float) -> LandmarkedFace:
    centre = face.landmarks.mean(axis=0)
    landmarks = (face.landmarks - centre) @ _rotation_about_y(degrees).T + centre
    return LandmarkedFace(face.image, landmarks, face.frame_index)


def test_head_angles_of_a_frontal_face_are_small_and_follow_a_turn():
    # liveportrait_d10 looks straight into the camera (checked on its frames).
    face = dominant_face_track("liveportrait_d10", max_seconds=6.0)[0]
    yaw, pitch = head_angles_degrees(face.landmarks)
    assert abs(yaw) < 8 and abs(pitch) < 12
    turned_yaw, _ = head_angles_degrees(_turned(face, 30).landmarks)
    assert turned_yaw == pytest.approx(yaw + 30, abs=2)


def test_quality_drops_for_blur_darkness_and_a_turned_head():
    face = dominant_face_track("infinitetalk_ref_video", max_seconds=6.0)[0]
    base = frame_quality(face)
    blurred = frame_quality(LandmarkedFace(cv2.GaussianBlur(face.image, (0, 0), 3), face.landmarks))
    dark = frame_quality(LandmarkedFace((face.image * 0.25).astype(np.uint8), face.landmarks))
    turned = frame_quality(_turned(face, 40))
    assert blurred.sharpness < 0.3 * base.sharpness
    assert dark.exposure < 0.6 * base.exposure
    assert turned.frontality < 0.3 * base.frontality
    assert base.size == 1.0  # eyes about 100 px apart at 512 px


def test_selection_skips_blurred_frames_and_keeps_time_order():
    faces = list(dominant_face_track("infinitetalk_ref_video", max_seconds=6.0))
    blurred = {1, 3, 5, 7, 9}
    degraded = [
        LandmarkedFace(cv2.GaussianBlur(f.image, (0, 0), 4), f.landmarks, f.frame_index) if i in blurred else f
        for i, f in enumerate(faces)
    ]
    chosen = select_frames([frame_quality(f) for f in degraded], max_frames=4)
    assert chosen == sorted(chosen)
    assert len(chosen) == 4
    assert not blurred & set(chosen)


def test_mean_direction_averages_unit_vectors():
    vectors = np.array([[2.0, 0.0], [0.0, 5.0]])
    np.testing.assert_allclose(mean_direction(vectors), [np.sqrt(0.5), np.sqrt(0.5)])
    with pytest.raises(ValueError):
        mean_direction(np.array([[1.0, 0.0], [-1.0, 0.0]]))


def test_track_embedding_uses_the_best_frames_and_carries_kind_and_strength():
    faces = list(dominant_face_track("latentsync_demo3_video", max_seconds=6.0))
    embedding = embed_track("latentsync#0", faces, FaceDescriptor(), max_frames=5)
    assert embedding.kind == "landmark_texture_v1"
    assert embedding.strength == "weak"
    assert len(embedding.frame_indices) == 5
    assert set(embedding.frame_indices) <= {f.frame_index for f in faces}
    assert np.linalg.norm(embedding.vector) == pytest.approx(1.0, abs=1e-5)
    # The track vector is the renormalised mean of the chosen frames' vectors.
    chosen = [f for f in faces if f.frame_index in embedding.frame_indices]
    np.testing.assert_allclose(embedding.vector, mean_direction(FaceDescriptor().embed(chosen)), atol=1e-6)
    assert 0.0 < embedding.mean_frame_score <= 1.0


def test_a_track_without_faces_is_an_error():
    with pytest.raises(ValueError, match="no landmarked faces"):
        embed_track("empty", [], FaceDescriptor())
