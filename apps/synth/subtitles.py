"""Burned-in subtitles for the ``subtitled`` synthetic kind: one or two lines of white text with a
dark outline near the bottom of the frame, as broadcast and web subtitles are drawn.

The lines come from a fixed phrase list picked per shot by the video's random generator, so a
corpus is reproducible from its seed. The text is drawn on every frame of a flagged shot: a
pipeline that samples a frame a second must see it in every sample.
"""

import cv2
import numpy as np

PHRASES = (
    "I never thought we would get this far",
    "So tell me what happened next",
    "That is exactly what I was trying to say",
    "We talked about it for hours that night",
    "Nobody expected the results to look like this",
    "And then everything changed again",
)
BOTTOM_MARGIN = 0.06  # of the frame height, below the last line
LINE_HEIGHT = 0.075  # of the frame height: a subtitle line of typical size


def subtitle_lines(rng: np.random.Generator) -> tuple[str, ...]:
    """One or two lines for one shot."""
    count = 1 + int(rng.random() < 0.5)
    picks = rng.choice(len(PHRASES), size=count, replace=False)
    return tuple(PHRASES[int(i)] for i in picks)


def burn_subtitles(frame: np.ndarray, lines: tuple[str, ...]) -> np.ndarray:
    """``frame`` (RGB, modified in place and returned) with ``lines`` centred near its bottom."""
    height, width = frame.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    (_, base_h), _ = cv2.getTextSize("Ag", font, 1.0, 2)
    scale = LINE_HEIGHT * height * 0.6 / base_h
    thickness = max(1, round(scale * 2))
    line_px = LINE_HEIGHT * height
    for k, line in enumerate(reversed(lines)):
        (text_w, _), _ = cv2.getTextSize(line, font, scale, thickness)
        while text_w > 0.9 * width and scale > 0.2:  # long lines shrink to fit the frame
            scale *= 0.9
            (text_w, _), _ = cv2.getTextSize(line, font, scale, thickness)
        x, y = int((width - text_w) / 2), int(height * (1 - BOTTOM_MARGIN) - k * line_px)
        # The outline is the same text shifted around (a thicker stroke would also be wider: OpenCV's
        # glyph advance grows with the thickness, so the two would drift apart along the line).
        for dx, dy in ((-2, 0), (2, 0), (0, -2), (0, 2), (-1, -1), (1, 1), (-1, 1), (1, -1)):
            cv2.putText(frame, line, (x + dx, y + dy), font, scale, (0, 0, 0), thickness, cv2.LINE_AA)
        cv2.putText(frame, line, (x, y), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return frame
