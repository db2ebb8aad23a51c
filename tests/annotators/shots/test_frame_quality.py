"""Frame quality measures on a real frame and controlled changes of it."""

import cv2
import numpy as np
import pytest

from annotators.shots.frame_quality import QUALITY_NAMES, FrameQualityMeter
from curation.media.frame_source import AnalysisGeometry, decode_frames

Q = {name: i for i, name in enumerate(QUALITY_NAMES)}


@pytest.fixture(scope="module")
def real_frame(shared_media) -> np.ndarray:
    frames = decode_frames(str(shared_media / "talkvid_tys_gt.mp4"), AnalysisGeometry(256, 256, 0.5), 5, 60)
    return next(iter(frames)).rgb.copy()


def _measure(meter: FrameQualityMeter, rgb: np.ndarray) -> np.ndarray:
    thumb = cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_AREA)
    return meter.measure(thumb, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def test_blur_lowers_sharpness(real_frame):
    sharp = _measure(FrameQualityMeter(), real_frame)[Q["sharpness"]]
    blurred = _measure(FrameQualityMeter(), cv2.GaussianBlur(real_frame, (0, 0), 3))[Q["sharpness"]]
    assert blurred < sharp / 4


def test_letterbox_is_measured_as_border(real_frame):
    boxed = real_frame.copy()
    boxed[:64] = 0
    boxed[-64:] = 0  # 128 of 256 rows black
    assert _measure(FrameQualityMeter(), real_frame)[Q["border_frac"]] < 0.05
    assert _measure(FrameQualityMeter(), boxed)[Q["border_frac"]] == pytest.approx(0.5, abs=0.03)


def test_a_dark_textured_backdrop_is_picture_not_border(real_frame):
    # A dark stage or curtain at the frame's edges: near black on average but textured, as a
    # letterbox bar never is. Counted as border, a talk on a dark stage was rejected as low quality.
    staged = real_frame.copy()
    for edge in (np.s_[:, :80], np.s_[:, -80:]):
        picture = real_frame[edge].astype(np.float32)
        staged[edge] = np.clip(10 + 0.2 * (picture - picture.mean()), 0, 255).astype(np.uint8)
    grey_edges = cv2.cvtColor(staged, cv2.COLOR_RGB2GRAY)[:, :80]
    assert grey_edges.mean() < 20 and grey_edges.std(axis=0).min() > 3  # dark, and textured
    assert _measure(FrameQualityMeter(), staged)[Q["border_frac"]] < 0.05
    boxed = staged.copy()
    boxed[:, :40] = 0
    boxed[:, -40:] = 0  # real pillarbox bars beside the dark backdrop: those, and only those, count
    assert _measure(FrameQualityMeter(), boxed)[Q["border_frac"]] == pytest.approx(80 / 256, abs=0.03)


def test_repeated_frame_is_frozen_and_a_changed_one_moves(real_frame):
    meter = FrameQualityMeter()
    _measure(meter, real_frame)
    same = _measure(meter, real_frame)
    assert same[Q["frozen"]] == 1.0 and same[Q["motion"]] == 0.0
    moved = _measure(meter, np.roll(real_frame, 20, axis=1))
    assert moved[Q["frozen"]] == 0.0 and moved[Q["motion"]] > 2.0


def test_darkening_lowers_brightness_and_grey_has_no_colour(real_frame):
    base = _measure(FrameQualityMeter(), real_frame)
    dark = _measure(FrameQualityMeter(), (real_frame * 0.3).astype(np.uint8))
    assert dark[Q["brightness"]] < 0.4 * base[Q["brightness"]]
    grey = cv2.cvtColor(cv2.cvtColor(real_frame, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    assert _measure(FrameQualityMeter(), grey)[Q["colorfulness"]] < 1.0 < base[Q["colorfulness"]]


def test_added_noise_raises_the_noise_estimate_to_its_level(real_frame):
    clean = _measure(FrameQualityMeter(), real_frame)[Q["noise"]]
    rng = np.random.default_rng(0)
    noisy_frame = np.clip(real_frame + rng.normal(0, 8, real_frame.shape), 0, 255).astype(np.uint8)
    noisy = _measure(FrameQualityMeter(), noisy_frame)[Q["noise"]]
    assert clean < 3.0
    # sigma 8 per RGB channel is 8 * |(0.299, 0.587, 0.114)| = 5.35 grey levels after conversion
    assert 4.5 < noisy < 7.0
