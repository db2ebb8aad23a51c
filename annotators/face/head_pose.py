"""Head yaw, pitch and roll from MediaPipe's facial transformation matrix.

The matrix maps the canonical face (x to the face's left as seen by the camera... i.e. the
viewer's right, y up, z out of the face towards the camera) into camera space; its rotation part
gives the head pose. Conventions here, in degrees: yaw > 0 when the person turns to their left
(we see more of their right cheek), pitch > 0 when they look up, roll > 0 when the head tilts
towards their right shoulder. Frontal is (0, 0, 0).
"""

import math

import numpy as np


def head_pose_degrees(matrix: np.ndarray) -> tuple[float, float, float]:
    # Plain floats on the nine rotation entries: this runs for every face on every landmarked frame.
    m = np.asarray(matrix, dtype=np.float64)[:3, :3].tolist()
    # remove any scale the matrix carries (each column's length)
    norms = [math.sqrt(m[0][c] ** 2 + m[1][c] ** 2 + m[2][c] ** 2) or 1.0 for c in range(3)]
    r = [[m[row][c] / norms[c] for c in range(3)] for row in range(3)]
    yaw = math.degrees(math.atan2(r[0][2], r[2][2]))
    pitch = math.degrees(math.asin(min(1.0, max(-1.0, -r[1][2]))))
    roll = math.degrees(math.atan2(r[1][0], r[1][1]))
    return yaw, -pitch, roll
