"""dlib's ResNet face embedding aligned from MediaPipe landmarks, on real talking-head frames."""

import numpy as np
import pytest
from identity_fixtures import dominant_face_track

from annotators.face.landmarked_face import STRONG
from annotators.identity.identity_clusterer import IDENTITY_DISTANCE_THRESHOLDS
from annotators.models.dlib_face_embedder import DLIB_KIND, DlibFaceEmbedder, dlib_five_points
from curation.models.model_catalog import MODEL_CATALOG
from curation.models.model_spec import ModelSpec
from curation.models.model_store import ModelMissingError


@pytest.fixture(scope="module")
def embedder() -> DlibFaceEmbedder:
    return DlibFaceEmbedder()


def test_vectors_are_unit_128d_and_marked_strong(embedder):
    faces = list(dominant_face_track("infinitetalk_ref_video", max_seconds=2.0))[:3]
    vectors = embedder.embed(faces)
    assert vectors.shape == (3, 128) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (embedder.kind, embedder.strength) == (DLIB_KIND, STRONG)
    assert embedder.embed([]).shape == (0, 128)


def test_points_from_mediapipe_align_like_dlibs_own_shape_predictor(embedder):
    """The same frame embedded from dlib's own detector + 5-point predictor and from the
    FaceLandmarker's points: the two chips must give the same person well inside the cut (a wrong
    point order would mirror or rotate the chip and land far apart)."""
    import dlib
    import face_recognition_models

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    model = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
    distances = []
    for face in list(dominant_face_track("latentsync_demo3_video", max_seconds=3.0))[:4]:
        (box,) = detector(face.image, 1)
        own = np.asarray(model.compute_face_descriptor(face.image, predictor(face.image, box)), dtype=np.float64)
        own /= np.linalg.norm(own)
        ours = embedder.embed([face])[0]
        distances.append(1.0 - float(own @ ours))
        # dlib's points and ours name the same places: eye corners and the base of the nose
        dlib_points = np.array([[p.x, p.y] for p in predictor(face.image, box).parts()], dtype=np.float64)
        eye_distance = np.linalg.norm(dlib_points[0] - dlib_points[2])
        assert np.abs(dlib_five_points(face.landmarks) - dlib_points).max() < 0.15 * eye_distance
    assert max(distances) < IDENTITY_DISTANCE_THRESHOLDS[DLIB_KIND] / 2, distances


def test_one_person_across_clips_is_closer_than_two_people(embedder):
    fantasy = [embedder.embed(list(dominant_face_track(c, max_seconds=3.0))).mean(axis=0)
               for c in ("fantasy_end0.1", "fantasy_end1.0")]
    other = embedder.embed(list(dominant_face_track("talkvid_talk_emotion_gt", max_seconds=3.0))).mean(axis=0)
    same = 1.0 - float(fantasy[0] @ fantasy[1]) / np.linalg.norm(fantasy[0]) / np.linalg.norm(fantasy[1])
    apart = 1.0 - float(fantasy[0] @ other) / np.linalg.norm(fantasy[0]) / np.linalg.norm(other)
    cut = IDENTITY_DISTANCE_THRESHOLDS[DLIB_KIND]
    assert same < cut < apart, (same, apart)


def test_missing_weights_are_a_clear_error(tmp_path, monkeypatch):
    # the constructor loads nothing: an absent weights file is dlib's error at setup or first use
    embedder = DlibFaceEmbedder(tmp_path / "absent.dat")
    assert not embedder.is_set_up
    with pytest.raises(RuntimeError):
        embedder.setup()
    faces = list(dominant_face_track("infinitetalk_ref_video", max_seconds=1.0))[:1]
    with pytest.raises(RuntimeError):
        embedder.embed(faces)
    assert not embedder.is_set_up
    # a package model whose package is not installed names the pip command
    absent = ModelSpec("dlib_face_resnet", "weights.dat", "package", "test", "CC0", package="no-such-dist",
                       module="no_such_module_for_lpm")
    monkeypatch.setitem(MODEL_CATALOG, "dlib_face_resnet", absent)
    with pytest.raises(ModelMissingError, match="pip install no-such-dist"):
        DlibFaceEmbedder()
