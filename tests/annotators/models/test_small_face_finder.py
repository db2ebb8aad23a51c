"""The cascade's confirmation of a face on its crop (no blendshapes) gives the box, height and pose
the full crop landmarks give, to the bit, on real faces of several sizes; and finds nothing where
the full landmarks find nothing."""

import numpy as np

from annotators.face.face_signals import Signal
from annotators.models.small_face_finder import SmallFaceFinder
from curation.media.frame_source import AnalysisGeometry
from curation.media.source_frames import decode_frames_inprocess
from curation.models.model_store import resolve

HEIGHT, YAW, PITCH = Signal.FACE_HEIGHT, Signal.YAW, Signal.PITCH


def test_a_confirmation_carries_the_numbers_of_the_full_crop_landmarks(shared_media):
    finder = SmallFaceFinder(resolve("face_landmarker"))
    confirmed = 0
    try:
        clips = (("talkvid_tys_gt.mp4", 512), ("panda_it8sFJe038g.7.mp4", 512), ("liveportrait_s18.mp4", 200))
        for clip, short_side in clips:
            path = str(shared_media / clip)
            geometry = AnalysisGeometry.for_source(*_size(path), short_side)
            for frame in list(decode_frames_inprocess(path, geometry, 25.0, 60))[:40:8]:
                detected = [box for _, box in finder._detector.detect(frame.rgb)]
                # a box off any face too: both must answer None there
                for box in [*detected, np.array([0, 0, 24, 24], dtype=np.float32)]:
                    full = finder.landmarks_on_crop(frame.rgb, box)
                    quick = finder.confirm_on_crop(frame.rgb, box)
                    assert (full is None) == (quick is None)
                    if full is None:
                        continue
                    confirmed += 1
                    np.testing.assert_array_equal(quick.box, full.box)
                    assert quick.height_px == float(full.signals.values[HEIGHT])
                    assert quick.yaw == float(full.signals.values[YAW])
                    assert quick.pitch == float(full.signals.values[PITCH])
    finally:
        finder.close()
    assert confirmed >= 10


def _size(path: str) -> tuple[int, int]:
    from curation.media.probe import probe_media

    info = probe_media(path)
    return info.width, info.height
