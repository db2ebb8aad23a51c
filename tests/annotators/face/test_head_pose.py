"""Head pose angles recovered from rotation matrices, and their sign on real mirrored faces."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from annotators.face.head_pose import head_pose_degrees
from annotators.models.face_landmarker import FaceLandmarkerAnnotator
from curation.media.frame_source import AnalysisGeometry, decode_frames


@pytest.mark.parametrize("yaw,pitch,roll", [(0, 0, 0), (30, 0, 0), (-45, 10, 0), (10, -20, 15), (0, 0, -25)])
def test_angles_round_trip_through_a_matrix(yaw, pitch, roll):
    # Our convention: yaw about y, pitch about x (positive looks up: negative rotation about x), roll about z.
    rotation = Rotation.from_euler("YXZ", [yaw, -pitch, roll], degrees=True).as_matrix()
    matrix = np.eye(4)
    matrix[:3, :3] = rotation * 3.0  # MediaPipe matrices may carry scale
    got = head_pose_degrees(matrix)
    assert got == pytest.approx((yaw, pitch, roll), abs=0.5)


def test_mirroring_a_turned_face_flips_the_sign_of_yaw(shared_media, models_dir):
    # liveportrait_d12: the head turns away and back (about 14 degrees of yaw)
    frames = decode_frames(str(shared_media / "liveportrait_d12.mp4"), AnalysisGeometry(512, 512, 1.0), 2, 60)
    yaws, mirrored = [], []
    with FaceLandmarkerAnnotator(video_mode=False) as landmarker:
        for frame in frames:
            a = landmarker.detect(frame.rgb)
            b = landmarker.detect(np.ascontiguousarray(frame.rgb[:, ::-1]))
            if a and b:
                yaws.append(a[0].signals.values[0])
                mirrored.append(b[0].signals.values[0])
    assert len(yaws) >= 5
    yaws, mirrored = np.array(yaws), np.array(mirrored)
    turned = np.abs(yaws) > 5
    assert turned.any(), "pick a clip where the head turns"
    assert np.all(np.sign(yaws[turned]) == -np.sign(mirrored[turned]))
    assert np.allclose(yaws[turned], -mirrored[turned], atol=6)
