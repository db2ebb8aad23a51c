"""Every model wrapper shares one lifecycle, written once in ``ModelWrapper``: declared model-store
entries, idempotent ``setup`` around the wrapper's ``load_model``, ``close`` that releases, a
``with`` block doing both, and a missing library named with its install command; real models here
(the FaceLandmarker bundle, the Silero VAD in its wheel, a tiny ArcFace-shaped ONNX network)."""

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
from annotators.models.model_wrapper import ModelWrapper, optional_import
from annotators.models.voice_activity import VoiceActivityDetector
from curation.models.model_catalog import MODEL_CATALOG

# the protocol, a path helper, a network and its audio features, MediaPipe's exit hook and its result
# reader, the small-face finder built of two wrappers, and the learned lip-sync network (its weights ship
# in the package, loaded by annotators.speaking.learned_lip_sync; a test holds them to the catalogue's SHA-256)
NOT_WRAPPERS = {
    "model_wrapper", "model_location", "syncnet_network", "syncnet_mfcc", "mediapipe_exit", "landmarker_results",
    "small_face_finder", "learned_sync_network",
    # the face/voice map is data the lip-sync verdict loads (as learned_sync_network's weights); the other
    # two are helpers of the weights and the models
    "face_voice_map", "stable_npz", "torch_threads",
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


def test_a_wrapper_without_load_model_cannot_be_built():
    class Half(ModelWrapper):
        def setup(self) -> None: ...

    with pytest.raises(TypeError, match=r"abstract.*load_model"):
        Half()


def test_every_wrapper_keeps_the_bases_setup_and_is_set_up():
    """The guard and the load are written once, in ``ModelWrapper``; a wrapper gives ``load_model``."""
    for classes in wrapper_classes().values():
        for cls in classes:
            assert cls.setup is ModelWrapper.setup, cls
            assert cls.is_set_up is ModelWrapper.is_set_up, cls


class _Counted(ModelWrapper):
    def __init__(self) -> None:
        self.loads: list[object] = []
        self.released: list[object] = []

    def load_model(self) -> object:
        self.loads.append(object())
        return self.loads[-1]

    def release(self, model: object) -> None:
        self.released.append(model)


def test_setup_loads_once_and_close_releases_what_was_loaded_once():
    wrapper = _Counted()
    wrapper.close()  # never set up: nothing to release
    assert wrapper.released == [] and not wrapper.is_set_up
    wrapper.setup()
    wrapper.setup()
    assert len(wrapper.loads) == 1 and wrapper.is_set_up
    wrapper.close()
    wrapper.close()
    assert wrapper.released == wrapper.loads and not wrapper.is_set_up
    with wrapper:  # set up again after close: a second load
        assert len(wrapper.loads) == 2
    assert wrapper.released == wrapper.loads


def test_a_missing_library_names_the_command_that_installs_it():
    with pytest.raises(ImportError, match=r"^frames need nosuchlib: pip install nosuchlib$") as raised:
        optional_import("nosuchlib_for_this_test", "frames need nosuchlib: pip install nosuchlib")
    assert isinstance(raised.value.__cause__, ModuleNotFoundError)
    assert optional_import("json", "never shown").dumps([1]) == "[1]"
