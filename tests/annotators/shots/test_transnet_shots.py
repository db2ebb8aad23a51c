from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from annotators.models.transnet_network import INPUT_SIZE, TransNetV2Network
from annotators.shots.shot_detector import make_shot_detector
from annotators.shots.transnet_shots import TransNetShotDetector
from apps.synth.transitions import HALF_FRAMES, with_transitions
from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.media.probe import probe_media

FPS = 25.0


def thumbnails(video: Path, n: int) -> list[np.ndarray]:
    """The first ``n`` frames at 25 fps as 128-px-short-side BGR thumbnails (what visual analysis feeds)."""
    info = probe_media(video)
    geometry = AnalysisGeometry.for_source(info.width, info.height, 128)
    out = []
    for frame in decode_frames(str(video), geometry, FPS, timeout_s=120):
        out.append(cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
        if len(out) == n:
            break
    return out


@pytest.fixture(scope="module")
def network():
    with TransNetV2Network() as network:
        yield network


@pytest.fixture(scope="module")
def two_shots(shared_media) -> list[np.ndarray]:
    """70 frames of one talking head then 80 of another, all at one thumbnail size (cut at 70)."""
    a = thumbnails(shared_media / "latentsync_demo3_video.mp4", 70)
    b = thumbnails(shared_media / "talkvid_tys_gt.mp4", 80)
    size = (a[0].shape[1], a[0].shape[0])
    return a + [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in b]


def detect(network, frames: list[np.ndarray]) -> TransNetShotDetector:
    detector = TransNetShotDetector(network, threshold=0.5, min_shot_frames=12)
    for i, frame in enumerate(frames):
        detector.feed(i, frame)
    return detector


def test_hard_cut_between_two_real_clips(network, two_shots):
    shots = detect(network, two_shots).shots()
    assert [(s.first_frame, s.end_frame) for s in shots][-1][1] == len(two_shots)
    assert [s.first_frame for s in shots[1:]] == [pytest.approx(70, abs=1)]


@pytest.mark.parametrize("kind", ["dissolve", "fade"])
def test_gradual_transition_is_one_cut_inside_it(network, two_shots, kind):
    frames = list(with_transitions(iter(two_shots), {70: kind}))
    assert len(frames) == len(two_shots)
    cuts = [s.first_frame for s in detect(network, frames).shots()[1:]]
    assert len(cuts) == 1
    assert abs(cuts[0] - 70) <= HALF_FRAMES + 1


def test_streaming_windows_give_the_packages_own_scores(network, two_shots):
    """Windows run as frames arrive must score every frame as the package's whole-video call does."""
    small = np.stack([cv2.resize(f, INPUT_SIZE, interpolation=cv2.INTER_AREA)[:, :, ::-1] for f in two_shots])
    expected, _ = network._model.predict_frames(torch.from_numpy(np.ascontiguousarray(small)), quiet=True)
    streamed = detect(network, two_shots).transition_scores()
    assert streamed.shape == (len(two_shots),)
    np.testing.assert_allclose(streamed, expected.numpy(), atol=1e-5)


def test_factory_picks_the_detector_by_name(network):
    assert isinstance(make_shot_detector("transnetv2", 0.5, 12, FPS, network), TransNetShotDetector)
    assert not isinstance(make_shot_detector("content", 27.0, 12, FPS), TransNetShotDetector)
    assert not torch.are_deterministic_algorithms_enabled()  # loading left the process setting alone
