import numpy as np
import pytest
from identity_fixtures import dominant_face_track

from annotators.face.landmarked_face import WEAK, LandmarkedFace
from annotators.identity.face_descriptor import (
    _LBP_LOOKUP,
    FACE_DESCRIPTOR_KIND,
    LBP_LABELS,
    FaceDescriptor,
    geometry_block,
    lbp_codes,
    texture_block,
)


def _rotation_about_y(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def test_descriptor_is_marked_weak_and_is_a_unit_vector():
    face = dominant_face_track("infinitetalk_ref_video", max_seconds=6.0)[0]
    descriptor = FaceDescriptor()
    vectors = descriptor.embed([face, face])
    assert descriptor.kind == FACE_DESCRIPTOR_KIND == "landmark_texture_v1"
    assert descriptor.strength == WEAK == "weak"
    assert vectors.shape == (2, descriptor.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_uniform_lbp_has_59_labels_and_codes_a_known_pattern():
    assert LBP_LABELS == 59
    flat = np.full((5, 5), 100, dtype=np.uint8)
    # All neighbours >= centre: code 255, a uniform pattern, the same label everywhere.
    assert len(np.unique(lbp_codes(flat, 1))) == 1
    ramp = np.tile(np.arange(0, 50, 10, dtype=np.uint8), (5, 1))  # brighter to the right
    ramp_codes = lbp_codes(ramp, 1)
    # Right-hand neighbours (bits 2, 3, 4) and the column above/below (bits 1, 5) are >= centre:
    # code 0b00111110 = 62, uniform; all interior pixels share it and differ from the flat label.
    assert len(np.unique(ramp_codes)) == 1
    assert ramp_codes[0, 0] == _LBP_LOOKUP[0b00111110]
    assert ramp_codes[0, 0] != lbp_codes(flat, 1)[0, 0]


def test_texture_ignores_brightness_and_contrast_changes():
    face = dominant_face_track("talkvid_talk_emotion_gt", max_seconds=6.0)[0]
    crop_grey = face.image.mean(axis=2).astype(np.uint8)[100:300, 150:350]
    regraded = np.clip(crop_grey.astype(np.float64) * 0.7 + 20, 0, 255).astype(np.uint8)
    assert float(texture_block(crop_grey, 1) @ texture_block(regraded, 1)) > 0.97


def test_geometry_is_the_same_for_a_turned_and_rescaled_head():
    face = dominant_face_track("infinitetalk_ref_video", max_seconds=6.0)[0]
    centred = face.landmarks - face.landmarks.mean(axis=0)
    turned = 1.8 * centred @ _rotation_about_y(30).T + 40.0
    np.testing.assert_allclose(geometry_block(turned), geometry_block(face.landmarks), atol=1e-9)


def test_geometry_changes_when_the_face_shape_changes():
    face = dominant_face_track("infinitetalk_ref_video", max_seconds=6.0)[0]
    wider = face.landmarks * np.array([1.15, 1.0, 1.0])
    assert float(geometry_block(wider) @ geometry_block(face.landmarks)) < 0.95


def test_landmarked_face_rejects_normalised_or_partial_landmarks():
    with pytest.raises(ValueError, match="478"):
        LandmarkedFace(np.zeros((8, 8, 3), dtype=np.uint8), np.zeros((468, 3)))


def test_frames_of_one_person_are_closer_than_frames_of_another():
    descriptor = FaceDescriptor()
    a = descriptor.embed(list(dominant_face_track("infinitetalk_ref_video", max_seconds=6.0)[:6]))
    b = descriptor.embed(list(dominant_face_track("latentsync_demo3_video", max_seconds=6.0)[:6]))
    within = (a @ a.T)[np.triu_indices(len(a), 1)]
    across = (a @ b.T).ravel()
    # Every same-person frame pair beats every cross-person pair on these clips.
    assert within.min() > across.max()
    assert across.max() < 0.9
