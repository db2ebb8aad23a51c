import numpy as np
import pytest
from identity_fixtures import dominant_face_track

from annotators.face.face_alignment import (
    ARCFACE_TEMPLATE,
    align_face,
    alignment_matrix,
    five_points_from_mediapipe,
    landmarks_in_crop,
    similarity_transform,
)


def test_five_points_come_from_eye_centres_nose_tip_and_mouth_corners():
    landmarks = np.zeros((478, 3))
    for index in (33, 133, 159, 145):
        landmarks[index, :2] = (100.0 + index % 7, 200.0)
    for index in (362, 263, 386, 374):
        landmarks[index, :2] = (300.0, 210.0 + index % 5)
    landmarks[1, :2] = (205.0, 290.0)
    landmarks[61, :2] = (150.0, 380.0)
    landmarks[291, :2] = (260.0, 385.0)
    points = five_points_from_mediapipe(landmarks)
    expected_right_eye_x = np.mean([100.0 + i % 7 for i in (33, 133, 159, 145)])
    expected_left_eye_y = np.mean([210.0 + i % 5 for i in (362, 263, 386, 374)])
    np.testing.assert_allclose(
        points,
        [[expected_right_eye_x, 200.0], [300.0, expected_left_eye_y], [205, 290], [150, 380], [260, 385]],
    )


def test_five_points_reject_other_landmark_layouts():
    with pytest.raises(ValueError, match="478"):
        five_points_from_mediapipe(np.zeros((68, 2)))


def test_similarity_transform_recovers_a_known_rotation_scale_and_shift():
    rng = np.random.default_rng(3)
    source = rng.uniform(0, 200, (5, 2))
    angle, scale, shift = 0.4, 1.7, np.array([12.0, -30.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = source @ (scale * rotation).T + shift
    matrix = similarity_transform(source, target)
    np.testing.assert_allclose(matrix[:, :2], scale * rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)


def test_similarity_transform_matches_scikit_image_on_noisy_points():
    from skimage.transform import SimilarityTransform

    rng = np.random.default_rng(5)
    source = rng.uniform(0, 300, (5, 2))
    target = ARCFACE_TEMPLATE + rng.normal(0, 2.0, (5, 2))
    reference = SimilarityTransform.from_estimate(source, target)
    np.testing.assert_allclose(similarity_transform(source, target), reference.params[:2], atol=1e-9)


@pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")  # inside insightface
def test_aligned_crop_equals_insightface_norm_crop_on_a_real_face():
    from insightface.utils.face_align import norm_crop

    face = dominant_face_track("fantasy_end0.1", max_seconds=6.0)[0]
    points = face.five_points()
    ours = align_face(face.image, points).astype(int)
    theirs = norm_crop(np.ascontiguousarray(face.image), points.astype(np.float32)).astype(int)
    assert ours.shape == theirs.shape == (112, 112, 3)
    # Same transform and warp: at most rounding differences of one grey level.
    assert np.abs(ours - theirs).max() <= 1


@pytest.mark.parametrize("clip", ["fantasy_end0.1", "infinitetalk_ref_video", "talkvid_talk_emotion_gt"])
def test_real_faces_land_on_the_arcface_template(clip):
    residuals = []
    for face in dominant_face_track(clip, max_seconds=6.0):
        points = face.five_points()
        aligned = landmarks_in_crop(points, alignment_matrix(points))
        residuals.append(np.linalg.norm(aligned - ARCFACE_TEMPLATE, axis=1).mean())
        # Swapping left and right cannot be fitted without a mirror: the order matters.
        swapped = points[[1, 0, 2, 4, 3]]
        mirrored = landmarks_in_crop(swapped, alignment_matrix(swapped))
        assert np.linalg.norm(mirrored - ARCFACE_TEMPLATE, axis=1).max() > 15.0
    # MediaPipe's points are not the detector's the template was made from, and heads turn (the
    # nose moves most); on average each point still lands within a few pixels of its place.
    assert np.mean(residuals) < 4.0


def test_zoom_shows_more_around_the_face_with_the_same_centre():
    face = dominant_face_track("infinitetalk_ref_video", max_seconds=6.0)[0]
    points = face.five_points()
    tight = landmarks_in_crop(points, alignment_matrix(points, 112))
    wide = landmarks_in_crop(points, alignment_matrix(points, 112, zoom=0.5))
    centre = np.array([56.0, 56.0])
    np.testing.assert_allclose(wide - centre, (tight - centre) * 0.5, atol=1e-6)
