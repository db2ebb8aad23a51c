"""A face track's mouth over one speaking segment: what a lip-sync model is given to score.

The offline estimator (``annotators.speaking.lip_sync``) reads the mouth signals; SyncNet
(``annotators.models.syncnet``) reads the pixels again from the video, around the face boxes.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MouthTrack:
    """What a lip-sync model sees of one segment: per-frame mouth signals of the face track
    (NaN where the face is absent) and where the segment starts in the video."""

    mouth_open: np.ndarray
    jaw_open: np.ndarray
    mouth_dark: np.ndarray
    first_frame: int  # in the video's analysis frames
    fps: float
    video_uri: str = ""  # the source, for models that read the mouth pixels themselves
    face_boxes: np.ndarray | None = None  # (n, 4) x0, y0, x1, y1 as fractions of the frame, NaN where absent
    # The same face track around the segment, within its shot (``lip_sync.LIP_SYNC_CONTEXT_S`` each side): a
    # model that pools evidence beyond the segment reads this instead; None: the segment alone.
    context: "MouthTrack | None" = None
    # The track's face as dlib's ResNet describes it (128-d unit vector), for a model that asks whether
    # the voice could be this face's (``face_voice_lip_sync``); None: not computed.
    face_vector: np.ndarray | None = None
    # (n, 3) yaw, pitch, roll in degrees (NaN where absent), for a model that asks whether the head
    # moves with the voice (``head_motion_sync``); None: not given.
    head_pose: np.ndarray | None = None
