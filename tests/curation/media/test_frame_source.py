"""``decode_frames`` from a start time: the first frame is the source's frame at that time.

SyncNet reads a speaking segment's face crops this way; decoding from the file's start instead
would hand it the video's first frames under the segment's audio."""

from pathlib import Path

import numpy as np

from curation.media.frame_source import AnalysisGeometry, decode_frames

FPS = 25.0
GEOMETRY = AnalysisGeometry(128, 128, 0.25)


def test_frames_from_a_start_time_are_the_whole_decodes_frames_from_that_index(shared_media: Path) -> None:
    clip = str(shared_media / "talkvid_tys_gt.mp4")
    whole = [f.rgb.astype(np.int16) for f in decode_frames(clip, GEOMETRY, FPS, 60)]
    first = 40
    seeked = list(decode_frames(clip, GEOMETRY, FPS, 60, start_time=first / FPS))
    assert seeked[0].index == 0 and abs(seeked[0].t - first / FPS) < 1e-6
    for k in (0, 5, 10):
        differences = [np.abs(seeked[k].rgb.astype(np.int16) - whole[i]).mean() for i in range(len(whole))]
        assert int(np.argmin(differences)) == first + k, (k, np.argsort(differences)[:3])
    assert len(seeked) == len(whole) - first
