"""Head yaw, pitch and roll from MediaPipe's facial transformation matrix.

The matrix maps the canonical face (x to the face's left as seen by the camera... i.e. the
viewer's right, y up, z out of the face towards the camera) into camera space; its rotation part
gives the head pose. Conventions here, in degrees: yaw > 0 when the person turns to their left
(we see more of their right cheek), pitch > 0 when they look up, roll > 0 when the head tilts
towards their right shoulder. Frontal is (0, 0, 0).
"""

import numpy as np


def head_pose_degrees(matrix: np.ndarray) -> tuple[float, float, float]:
    rotation = np.asarray(matrix, dtype=np.float64)[:3, :3]
    # remove any scale the matrix carries
    rotation = rotation / np.linalg.norm(rotation, axis=0, keepdims=True)
    yaw = np.degrees(np.arctan2(rotation[0, 2], rotation[2, 2]))
    pitch = np.degrees(np.arcsin(np.clip(-rotation[1, 2], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[1, 1]))
    return float(yaw), float(-pitch), float(roll)
