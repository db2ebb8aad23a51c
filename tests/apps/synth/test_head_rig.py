"""The rig's motions are checked with the real FaceLandmarker: what a pipeline would measure."""

import numpy as np
import pytest

from apps.synth.head_rig import HeadPose, HeadRig
from apps.synth.still_landmarks import CHIN, FOREHEAD_TOP, StillFaceLandmarker

BACKGROUND_BGR = (90, 140, 60)


def _measure(landmarker: StillFaceLandmarker, rig: HeadRig, pose: HeadPose):
    drawn = rig.render(pose)
    alpha = drawn.alpha[..., None].astype(np.float32) / 255
    picture = (drawn.image * alpha + np.float32(BACKGROUND_BGR) * (1 - alpha)).astype(np.uint8)
    faces = landmarker.detect(picture)
    assert faces, f"no face found in the rendered {rig.portrait.person_id} at {pose}"
    return faces[0], drawn


def test_mouth_opens_with_the_drive_on_every_identity(portraits, landmarker):
    for portrait in portraits:
        rig = HeadRig(portrait.scaled_to(150))
        gaps, jaws = [], []
        for mouth_open in (0.0, 0.5, 1.0):
            face, _ = _measure(landmarker, rig, HeadPose(mouth_open=mouth_open))
            gaps.append(face.inner_lip_gap)
            jaws.append(face.blendshapes["jawOpen"])
        assert gaps[0] < 0.015, f"{portrait.person_id}: closed mouth measured open ({gaps[0]:.3f})"
        assert gaps[1] > gaps[0] + 0.03 and gaps[2] > gaps[1] + 0.02, f"{portrait.person_id}: {gaps}"
        assert jaws[2] > jaws[0], f"{portrait.person_id}: jawOpen {jaws}"
    # On most faces the jawOpen blendshape itself moves clearly (some smiles keep it low).
    assert np.median([_measure(landmarker, HeadRig(p.scaled_to(150)), HeadPose(mouth_open=1.0))[0]
                      .blendshapes["jawOpen"] for p in portraits]) > 0.2


def test_photo_with_open_mouth_is_closed_at_rest(portraits, landmarker):
    smiling = max(portraits, key=lambda p: p.face.inner_lip_gap)
    assert smiling.face.inner_lip_gap > 0.03, "expected one packaged photo with teeth showing"
    face, _ = _measure(landmarker, HeadRig(smiling.scaled_to(150)), HeadPose(nod=0.03, tilt_deg=3))
    assert face.inner_lip_gap < 0.02


def test_blink_closes_the_eyes(portraits, landmarker):
    rig = HeadRig(next(p for p in portraits if p.person_id == "skimage-astronaut").scaled_to(150))
    open_eyes, _ = _measure(landmarker, rig, HeadPose(blink=0.0))
    closed, _ = _measure(landmarker, rig, HeadPose(blink=1.0))
    score = lambda f: max(f.blendshapes["eyeBlinkLeft"], f.blendshapes["eyeBlinkRight"])  # noqa: E731
    assert score(closed) > score(open_eyes) + 0.25


@pytest.mark.parametrize("nod", [0.04, -0.04])
def test_nod_moves_the_face_and_the_reported_outline_with_it(portraits, landmarker, nod):
    rig = HeadRig(portraits[0].scaled_to(150))
    rest, rest_drawn = _measure(landmarker, rig, HeadPose())
    nodded, nodded_drawn = _measure(landmarker, rig, HeadPose(nod=nod))
    expected = nod * rig.face_height
    measured = float(nodded.landmarks[FOREHEAD_TOP][1] + nodded.landmarks[CHIN][1]
                     - rest.landmarks[FOREHEAD_TOP][1] - rest.landmarks[CHIN][1]) / 2
    assert measured == pytest.approx(expected, abs=0.35 * abs(expected))
    reported = float(nodded_drawn.outline[:, 1].mean() - rest_drawn.outline[:, 1].mean())
    assert reported == pytest.approx(expected, abs=0.35 * abs(expected))


def test_gaze_and_turn_shift_the_eyes(portraits, landmarker):
    rig = HeadRig(next(p for p in portraits if p.person_id == "skimage-astronaut").scaled_to(150))
    rest, _ = _measure(landmarker, rig, HeadPose())
    right, _ = _measure(landmarker, rig, HeadPose(gaze=1.0, turn=1.0))
    left, _ = _measure(landmarker, rig, HeadPose(gaze=-1.0, turn=-1.0))
    iris = lambda f: float(f.landmarks[468:478, 0].mean())  # noqa: E731
    assert iris(right) > iris(rest) + 1.5 and iris(left) < iris(rest) - 1.5
