"""Every model wrapper shares one lifecycle: declared model-store entries, idempotent ``setup``,
``close`` that releases, and a ``with`` block doing both; real models here (the FaceLandmarker
bundle, the Silero VAD in its wheel, a tiny ArcFace-shaped ONNX network)."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from identity_fixtures import build_tiny_arcface_onnx

import annotators.models
from annotators.models.arcface_embedder import ArcFaceEmbedder
from annotators.models.face_detector import BlazeFaceDetector
from annotators.models.face_landmarker import FaceLandmarkerAnnotator
from annotators.models.model_wrapper import ModelWrapper
from annotators.models.voice_activity import VoiceActivityDetector
from curation.models.model_catalog import MODEL_CATALOG

# the protocol, a path helper, a network and its audio features, MediaPipe's exit hook and its result
# reader, and the small-face finder built of two wrappers
NOT_WRAPPERS = {
    "model_wrapper", "model_location", "syncnet_network", "syncnet_mfcc", "mediapipe_exit", "landmarker_results",
    "small_face_finder",
}


def wrapper_classes() -> dict[str, list[type]]:
    found = {}
    for info in pkgutil.iter_modules(annotators.models.__path__):
        module = importlib.import_module(f"annotators.models.{info.name}")
        found[info.name] = [
            c for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, ModelWrapper) and c is not ModelWrapper and c.__module__ == module.__name__
        ]
    return found


def test_every_module_of_the_models_package_holds_a_wrapper_with_catalogued_models():
    found = wrapper_classes()
    assert len(found) >= 9
    bare = sorted(name for name, classes in found.items() if not classes and name not in NOT_WRAPPERS)
    assert bare == []
    for classes in found.values():
        for cls in classes:
            assert set(cls.catalog_names) <= set(MODEL_CATALOG), cls


def _lifecycle(wrapper: ModelWrapper, use) -> None:
    assert not wrapper.is_set_up  # the constructor loads nothing
    with wrapper as opened:
        assert opened is wrapper and wrapper.is_set_up
        loaded = vars(wrapper).copy()
        wrapper.setup()  # idempotent: the same loaded objects
        assert all(vars(wrapper)[k] is v for k, v in loaded.items())
        first = use(wrapper)
    assert not wrapper.is_set_up
    # used again after close: set up again on first use, same answer
    np.testing.assert_allclose(use(wrapper), first, atol=1e-5)
    wrapper.close()


def test_the_face_landmarker_follows_the_lifecycle(shared_media):
    frame = np.full((240, 320, 3), 128, dtype=np.uint8)
    _lifecycle(FaceLandmarkerAnnotator(video_mode=False), lambda w: np.array([len(w.detect(frame))]))


def test_the_face_detector_follows_the_lifecycle(shared_media):
    from curation.media.frame_source import AnalysisGeometry, decode_frames

    frame = next(decode_frames(str(shared_media / "talkvid_tys_gt.mp4"), AnalysisGeometry(256, 256, 0.5), 25.0, 60))
    found: list[list] = []

    def use(w: BlazeFaceDetector) -> np.ndarray:
        found.append(w.detect(frame.rgb))
        return np.array([len(found[-1])])

    _lifecycle(BlazeFaceDetector(), use)
    assert len(found[0]) == 1  # the talking head's one face


def test_the_voice_activity_detector_follows_the_lifecycle():
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    _lifecycle(VoiceActivityDetector(), lambda w: w.detect(audio).window_probabilities)


def test_arcface_follows_the_lifecycle(tmp_path):
    embedder = ArcFaceEmbedder(build_tiny_arcface_onnx(tmp_path / "tiny.onnx"))
    crops = [np.full((112, 112, 3), v, dtype=np.uint8) for v in (40, 200)]
    _lifecycle(embedder, lambda w: w.embed_crops(crops))


def test_a_wrapper_missing_a_lifecycle_method_cannot_be_built():
    class Half(ModelWrapper):
        def setup(self) -> None: ...

    with pytest.raises(TypeError, match="abstract"):
        Half()
