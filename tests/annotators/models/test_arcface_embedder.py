"""ArcFace through InsightFace's own loader, on a tiny random ONNX model with ArcFace's shapes.

The real ``w600k_r50.onnx`` is not available offline; the tiny model takes the same path
(``insightface.model_zoo.get_model`` on a plain .onnx file, routed by its shapes to ArcFaceONNX).
Its embeddings are noise, so these tests check the loading, preprocessing and plumbing, not
recognition quality.
"""

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from identity_fixtures import build_tiny_arcface_onnx, dominant_face_track

from annotators.face.landmarked_face import STRONG
from annotators.identity.face_track_embedding import embed_track
from annotators.identity.identity_clusterer import IDENTITY_DISTANCE_THRESHOLDS, IdentityTrack, cluster_identities
from annotators.models.arcface_embedder import ArcFaceEmbedder
from curation.models.model_store import ModelMissingError


@pytest.fixture(scope="module")
def tiny_arcface(tmp_path_factory) -> Path:
    return build_tiny_arcface_onnx(tmp_path_factory.mktemp("arcface") / "tiny_arcface.onnx")


@pytest.fixture(scope="module")
def embedder(tiny_arcface) -> ArcFaceEmbedder:
    return ArcFaceEmbedder(tiny_arcface)


def _reference_embedding(model_path: Path, rgb_crops: list[np.ndarray]) -> np.ndarray:
    """What ArcFace must receive: RGB, (x - 127.5) / 127.5, NCHW; then L2-normalised."""
    session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    blob = ((np.stack(rgb_crops).astype(np.float32) - 127.5) / 127.5).transpose(0, 3, 1, 2)
    out = session.run(None, {"input.1": blob})[0]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_insightface_loads_the_onnx_file_as_a_recognition_model(embedder):
    assert embedder.kind == "arcface"
    assert embedder.strength == STRONG
    assert embedder.crop_size == 112
    assert embedder.dimension == 64


def test_embeddings_are_arcface_preprocessed_rgb_crops(embedder, tiny_arcface):
    faces = list(dominant_face_track("talkvid_talk_emotion_gt", max_seconds=6.0)[:3])
    crops = [embedder.align(f) for f in faces]
    ours = embedder.embed(faces)
    assert ours.shape == (3, 64)
    np.testing.assert_allclose(ours, _reference_embedding(tiny_arcface, crops), atol=1e-5)
    # The check has teeth: feeding BGR (a channel-order bug) gives different vectors.
    swapped = _reference_embedding(tiny_arcface, [c[..., ::-1] for c in crops])
    assert np.abs(ours - swapped).max() > 1e-3


def test_missing_weights_name_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("LPM_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelMissingError, match="lpm-curate models fetch arcface"):
        ArcFaceEmbedder()


def test_a_model_with_other_shapes_is_refused(tmp_path):
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["x"], ["y"], name="pool")],
        "not_arcface",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 100, 100])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 1, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(tmp_path / "pool.onnx"))
    with pytest.raises(ValueError, match="not an ArcFace recognition model"):
        ArcFaceEmbedder(tmp_path / "pool.onnx").setup()


def test_arcface_tracks_are_clustered_at_the_arcface_cut(embedder):
    tracks = []
    for clip in ("fantasy_end0.1", "fantasy_end0.4", "infinitetalk_ref_video", "latentsync_demo3_video"):
        embedding = embed_track(clip, list(dominant_face_track(clip, max_seconds=6.0)), embedder)
        assert embedding.kind == "arcface" and embedding.strength == "strong"
        tracks.append(IdentityTrack(clip, clip, 0.0, 6.0, embedding.vector, embedding.kind))

    def partition(identities):
        return sorted(i.track_ids for i in identities)

    thresholds = IDENTITY_DISTANCE_THRESHOLDS
    by_kind = partition(cluster_identities(tracks))
    assert by_kind == partition(cluster_identities(tracks, distance_threshold=thresholds["arcface"]))
    # Random weights are no recogniser (latentsync's man lands with the fantasy renders at
    # cosine ~0.8), which is why the strict weak-descriptor cut gives a different partition here.
    assert by_kind == [("fantasy_end0.1", "fantasy_end0.4", "latentsync_demo3_video"), ("infinitetalk_ref_video",)]
    weak_cut = partition(cluster_identities(tracks, distance_threshold=thresholds["landmark_texture_v1"]))
    assert len(weak_cut) == 3
