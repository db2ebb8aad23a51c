"""One crop that could condition a model as a reference image of its person, with what ranks it."""

from dataclasses import dataclass


@dataclass
class ReferenceCandidate:
    # bins and scores (``reference_bins.candidate_facts``)
    view_bin: str
    expression_bin: str
    sharpness: float
    face_height_px: float  # in source pixels
    yaw: float
    pitch: float
    score: float  # 0..1 (``reference_bins.reference_score``)
    # where it is, and whose pool it joins
    id: str  # "<track id>@<time>"
    owner: str  # the identity, else the track: the pool it belongs to
    identity_id: str | None
    video_id: str
    track_id: str
    t: float
    archive: str  # run-store path of the crop archive holding its JPEGs
    crop_name: str
