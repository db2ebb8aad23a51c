"""Burned-in text (subtitles, captions, lower thirds) found by an OCR text detector.

A clip whose subtitles cross the performer's face or mouth teaches a generator to draw text, so
text over the performer's crop is a reason to drop the shot (``Reason.TEXT_OVERLAY``, decided in
``stages.performer_filter``). Text away from the crop (a logo in a corner of a wide frame) stays,
and so does text beside the performer: only the band of the crop above and below the face
(``performer_band``) is looked at. In a close-up the crop spans the whole frame, so a corner
watermark lies inside it (``talkvid_talk_emotion_gt``'s "Generated Video" covers 1.8-2.8 % of its
crop and 0-1.3 % of its band); subtitles, centred under the speaker, cross the band.

The boxes come from ``annotators.models.text_box_detector`` (PP-OCRv4 text detection) on a few
frames per second: subtitles stay on screen for a second or more, so a frame a second sees them.
The stage runs it only on sampled frames that show a face, over the rows of the faces' crops
(``visual_analysis.text_region``): text anywhere else never reaches a decision.

Per sampled frame the detector gives axis-aligned boxes as fractions of the frame; per shot,
``shot_text_scores`` gives the mean area the text covers and the share of sampled frames with
any text; per face track, ``text_on_region_frac`` gives the share of the track's sampled frames
in which text covers at least ``MIN_REGION_COVER`` of the performer's band of the region the clip
will be cut from.
"""
from collections.abc import Iterable

import numpy as np

# Share of the performer's band that text must cover in a frame to count. Measured: one subtitle
# line (``apps.synth.subtitles``) burned into the real close-ups talkvid_tys_gt and
# infinitetalk_ref_video covers 4.7-7.8 % of the band (3.5-5.9 % of the crop), the synthetic
# subtitled kind's two lines 17 %; a stray detection on hair or a collar, or the edge of a loose
# box around text beside the face, covers less (the corner watermark above: at most 1.3 %).
MIN_REGION_COVER = 0.025

Region = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame


def performer_band(crop: Region, face_box: Region) -> Region:
    """The part of ``crop`` above and below the face: the crop's height across the face's width."""
    return (max(crop[0], face_box[0]), crop[1], min(crop[2], face_box[2]), crop[3])


def covered_fraction(boxes: np.ndarray, region: Region, grid: int = 64) -> float:
    """Share of ``region`` (x0, y0, x1, y1, fractions of the frame) covered by the union of ``boxes``,
    on a ``grid`` x ``grid`` raster of the region (overlapping boxes count once)."""
    x0, y0, x1, y1 = region
    if len(boxes) == 0 or x1 <= x0 or y1 <= y0:
        return 0.0
    xs = x0 + (np.arange(grid) + 0.5) * (x1 - x0) / grid
    ys = y0 + (np.arange(grid) + 0.5) * (y1 - y0) / grid
    inside = np.zeros((grid, grid), dtype=bool)
    for bx0, by0, bx1, by1 in boxes:
        inside |= ((ys >= by0) & (ys < by1))[:, None] & ((xs >= bx0) & (xs < bx1))[None, :]
    return float(inside.mean())


def shot_text_scores(samples: dict[int, np.ndarray], first_frame: int, end_frame: int) -> dict[str, float | None]:
    """``text_area_frac`` (mean share of the frame under text) and ``text_frames_frac`` (share of
    sampled frames with any text) over the shot's sampled frames; None when none was sampled."""
    inside = [boxes for index, boxes in samples.items() if first_frame <= index < end_frame]
    if not inside:
        return {"text_area_frac": None, "text_frames_frac": None}
    return {
        "text_area_frac": float(np.mean([covered_fraction(b, (0.0, 0.0, 1.0, 1.0)) for b in inside])),
        "text_frames_frac": float(np.mean([len(b) > 0 for b in inside])),
    }


def text_on_region_frac(
    samples: dict[int, np.ndarray], regions: Iterable[tuple[int, Region]]
) -> float | None:
    """Share of the (frame index, region) pairs whose frame was sampled and whose region text
    covers by at least ``MIN_REGION_COVER``; None when no frame of them was sampled."""
    hits = [covered_fraction(samples[i], region) >= MIN_REGION_COVER for i, region in regions if i in samples]
    return float(np.mean(hits)) if hits else None
