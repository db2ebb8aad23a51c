from pathlib import Path

import numpy as np
import pytest

from annotators.models.text_box_detector import TextBoxDetector
from annotators.shots.text_overlay import (
    MIN_REGION_COVER,
    covered_fraction,
    performer_band,
    shot_text_scores,
    text_on_region_frac,
)
from apps.synth.subtitles import burn_subtitles
from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.media.probe import probe_media

CLIPS = ("talkvid_tys_gt.mp4", "latentsync_demo3_video.mp4", "infinitetalk_ref_video.mp4")


def first_frames(video: Path, n: int = 1) -> list[np.ndarray]:
    info = probe_media(video)
    geometry = AnalysisGeometry.for_source(info.width, info.height, 512)
    frames = []
    for frame in decode_frames(str(video), geometry, 1.0, timeout_s=120):
        frames.append(frame.rgb.copy())
        if len(frames) == n:
            break
    return frames


@pytest.fixture(scope="module")
def detector() -> TextBoxDetector:
    return TextBoxDetector()


@pytest.mark.parametrize("clip", CLIPS)
def test_subtitles_burned_into_a_real_frame_are_found_at_the_bottom(shared_media, detector, clip):
    clean = first_frames(shared_media / clip)[0]
    assert len(detector.boxes(clean)) == 0  # these talking heads carry no text
    subtitled = burn_subtitles(clean.copy(), ("So tell me what happened next",))
    boxes = detector.boxes(subtitled)
    assert len(boxes) >= 1
    lowest = boxes[np.argmax(boxes[:, 3])]
    assert lowest[1] > 0.75  # the subtitle line sits in the bottom quarter
    assert lowest[2] - lowest[0] > 0.3  # and spans a good part of the width
    assert covered_fraction(boxes, (0.0, 0.5, 1.0, 1.0)) >= MIN_REGION_COVER
    assert covered_fraction(boxes, (0.0, 0.0, 1.0, 0.5)) == 0.0


def test_covered_fraction_counts_overlapping_boxes_once():
    boxes = np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]], dtype=np.float32)
    assert covered_fraction(boxes, (0.0, 0.0, 1.0, 1.0)) == pytest.approx(0.5)
    assert covered_fraction(boxes, (0.0, 0.0, 0.5, 0.5)) == pytest.approx(1.0)
    assert covered_fraction(np.zeros((0, 4), np.float32), (0.0, 0.0, 1.0, 1.0)) == 0.0


def test_shot_and_region_scores_use_only_their_sampled_frames():
    text = np.array([[0.1, 0.8, 0.9, 0.9]], dtype=np.float32)
    none = np.zeros((0, 4), dtype=np.float32)
    samples = {0: text, 25: none, 50: text, 75: text}
    scores = shot_text_scores(samples, 0, 60)
    assert scores["text_frames_frac"] == pytest.approx(2 / 3)
    assert scores["text_area_frac"] == pytest.approx(2 / 3 * 0.08, abs=0.01)
    assert shot_text_scores(samples, 80, 100) == {"text_area_frac": None, "text_frames_frac": None}
    lower, upper = (0.0, 0.5, 1.0, 1.0), (0.0, 0.0, 1.0, 0.5)
    assert text_on_region_frac(samples, [(0, lower), (25, lower), (1, lower)]) == pytest.approx(0.5)
    assert text_on_region_frac(samples, [(0, upper), (50, upper)]) == 0.0
    assert text_on_region_frac(samples, [(3, lower)]) is None


def test_a_corner_watermark_beside_the_face_is_not_over_the_performer_but_subtitles_are():
    """A close-up's crop is the whole frame; only the band across the face's width counts. Boxes as
    the detector gave them on talkvid_talk_emotion_gt ("Generated Video" in the bottom-left corner)
    and on the synthetic subtitled kind (a line centred under the face)."""
    face, crop = (0.27, 0.16, 0.68, 0.64), (0.0, 0.0, 1.0, 1.0)
    band = performer_band(crop, face)
    assert band == (0.27, 0.0, 0.68, 1.0)
    watermark = np.array([[0.0, 0.85, 0.29, 0.94]], dtype=np.float32)
    subtitle = np.array([[0.27, 0.88, 0.73, 0.96]], dtype=np.float32)
    assert covered_fraction(watermark, crop) >= MIN_REGION_COVER  # inside the crop ...
    assert covered_fraction(watermark, band) < MIN_REGION_COVER / 2  # ... but beside the performer
    assert covered_fraction(subtitle, band) > 2 * MIN_REGION_COVER
    # the band stays inside the crop
    assert performer_band((0.3, 0.1, 0.6, 0.7), (0.25, 0.2, 0.45, 0.5)) == (0.3, 0.1, 0.45, 0.7)



@pytest.mark.parametrize("clip", CLIPS)
def test_a_strip_of_the_performers_rows_finds_the_subtitle_as_the_whole_frame_does(shared_media, detector, clip):
    """The stage looks only at the rows of the performers' crops (``visual_analysis.text_region``):
    text there must cover the band as much as when the whole frame is searched, in frame fractions."""
    subtitled = burn_subtitles(first_frames(shared_media / clip)[0].copy(), ("So tell me what happened next",))
    band = (0.3, 0.3, 0.7, 0.95)  # a crop's band whose lower edge crosses the subtitle line
    whole = detector.boxes(subtitled)
    strip = detector.boxes(subtitled, (band[1], band[3]))
    assert covered_fraction(strip, band) >= MIN_REGION_COVER
    # within a raster row or so of the 64x64 cover grid: the box edges move by a detector pixel
    assert covered_fraction(strip, band) == pytest.approx(covered_fraction(whole, band), abs=0.02)
    lowest = strip[np.argmax(strip[:, 3])]
    assert lowest[1] > 0.75 and lowest[2] - lowest[0] > 0.3  # where the whole frame has it
    assert len(detector.boxes(subtitled, (0.1, 0.4))) == 0  # rows well above the subtitle: nothing
