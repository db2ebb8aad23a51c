"""The FaceLandmarker's results read from its C result equal MediaPipe's own conversion, bit for
bit, in both running modes, on real frames with one face and with several."""

import numpy as np
import pytest

from annotators.models import landmarker_results
from annotators.models.landmarker_results import RawFace, detect_faces
from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.models.model_store import resolve


def _frames(path, n: int) -> list[np.ndarray]:
    frames = decode_frames(str(path), AnalysisGeometry(512, 288, 0.5), 25.0, 60)
    return [f.rgb for _, f in zip(range(n), frames, strict=False)]


def _landmarker(video: bool, faces: int = 4):
    from mediapipe.tasks.python import BaseOptions, vision

    mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resolve("face_landmarker"))),
        running_mode=mode,
        num_faces=faces,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    return vision.FaceLandmarker.create_from_options(options)


def _both_ways(frames: list[np.ndarray], video: bool) -> tuple[list[list[RawFace]], list[list[RawFace]]]:
    """Each frame through the C reader and through the public API, each on a fresh task (a VIDEO
    task tracks: both must see the same frames in the same order)."""
    import mediapipe as mp

    results = []
    for reader in (landmarker_results.c_reader(), landmarker_results._from_public):
        with _landmarker(video) as task:
            results.append(
                [
                    reader(task, mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), 40 * k + 1 if video else None)
                    for k, rgb in enumerate(frames)
                ]
            )
    return results[0], results[1]


@pytest.mark.parametrize("video", [True, False], ids=["video_mode", "image_mode"])
def test_the_c_reader_gives_mediapipes_own_numbers(shared_media, video):
    assert landmarker_results.c_reader() is not None  # the pinned MediaPipe has the C layout
    frames = _frames(shared_media / "talkvid_tys_gt.mp4", 6) + _frames(shared_media / "panda_it8sFJe038g.7.mp4", 6)
    fast, public = _both_ways(frames, video)
    counts = [len(faces) for faces in public]
    assert counts[:6] == [1] * 6  # the talking head
    assert max(counts[6:]) >= 2  # the multi-face clip
    for mine, theirs in zip(fast, public, strict=True):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert a.landmarks.shape == (478, 3) and a.landmarks.dtype == np.float32
            assert a.blendshapes.shape == (52,) and a.matrix.shape == (4, 4)
            np.testing.assert_array_equal(a.landmarks, b.landmarks)
            np.testing.assert_array_equal(a.blendshapes, b.blendshapes)
            np.testing.assert_array_equal(a.matrix, b.matrix)


def test_a_task_without_the_c_handles_is_read_through_the_public_api(shared_media):
    """Another MediaPipe release (no ``_handle`` on the task): the public API, the same faces."""
    import mediapipe as mp

    rgb = _frames(shared_media / "talkvid_tys_gt.mp4", 1)[0]
    with _landmarker(video=False) as task:
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)

        class PublicOnly:  # the public methods only
            detect = task.detect

        fallback = detect_faces(PublicOnly(), image, None)
        direct = detect_faces(task, image, None)
    assert len(fallback) == len(direct) == 1
    np.testing.assert_array_equal(fallback[0].landmarks, direct[0].landmarks)
