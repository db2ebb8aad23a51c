"""The performer filter's decisions, one reason at a time, on controlled shot/track rows."""

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from curation.runtime.products import AnalysisGrid
from curation.runtime.video_work import VideoWork
from schemas.tables import ShotRow, TrackRow
from stages.performer_filter import PerformerFilterStage

FPS = 25.0


def _shot(**quality: Any) -> ShotRow:
    base = {
        "shot_id": "v-s0000",
        "t_start": 0.0,
        "t_end": 4.0,
        "sharpness": 100.0,
        "brightness": 120.0,
        "border_frac": 0.0,
        "frozen_frac": 0.0,
    }
    return ShotRow(**{**base, **quality})


def _track(
    k: int, height: float = 200.0, coverage: float = 1.0, frontal: float = 1.0, x: float = 0.5, **fields: Any
) -> TrackRow:
    return TrackRow(
        track_id=f"v-s0000-t{k:02d}",
        shot_id="v-s0000",
        t_start=0.0,
        t_end=4.0,
        n_frames=int(100 * coverage),
        coverage=coverage,
        face_height_px=height,
        frontal_frac=frontal,
        x_center=x,
        **fields,
    )


def _grid() -> AnalysisGrid:
    return AnalysisGrid(fps=FPS, width=512, height=512, scale=1.0, n_frames=0, quality=np.zeros((0, 1), np.float16))


def _judge(shot: ShotRow, tracks: list[TrackRow], **params: Any) -> VideoWork:
    work = VideoWork(uri="u", video_id="v", shots=[shot], tracks=tracks, analysis=_grid())
    return PerformerFilterStage(**params).process(work)


def test_one_dominant_face_is_usable():
    work = _judge(_shot(), [_track(0), _track(1, height=60, coverage=0.3)])
    assert work.shots[0].usable and work.state == "pending"
    assert [t.usable for t in work.tracks] == [True, False]
    assert work.tracks[1].reason == "not_performer"


@pytest.mark.parametrize(
    "shot,tracks,reason",
    [
        (_shot(t_end=0.5), [_track(0)], "shot_too_short"),
        (_shot(sharpness=2.0), [_track(0)], "low_quality"),
        (_shot(border_frac=0.7), [_track(0)], "low_quality"),
        (_shot(noise=6.0), [_track(0)], "low_quality"),
        (_shot(), [], "no_face"),
        (_shot(), [_track(0, coverage=0.05)], "no_face"),
        (_shot(), [_track(0, height=40)], "face_too_small"),
        (_shot(), [_track(0, coverage=0.3)], "face_coverage_low"),
        (_shot(), [_track(0, frontal=0.2)], "face_not_frontal"),
        (_shot(), [_track(0, x=0.3), _track(1, x=0.4), _track(2, x=0.6)], "multiple_faces"),
        (_shot(), [_track(0, text_on_crop_frac=0.8)], "text_overlay"),
    ],
)
def test_each_rejection_reason(shot, tracks, reason):
    work = _judge(shot, tracks)
    assert not work.shots[0].usable
    assert work.shots[0].reason == reason
    assert work.state == "rejected" and work.reason == reason
    assert any(r.entity == "shot" and r.reason == reason for r in work.rejections)
    assert all(not t.usable for t in work.tracks)


def test_split_screen_keeps_both_performers_unless_disabled():
    tracks = [_track(0, x=0.25), _track(1, height=190, x=0.75)]
    work = _judge(_shot(), [replace(t) for t in tracks])
    assert [t.usable for t in work.tracks] == [True, True]
    assert work.shots[0].performer_track_id.count(",") == 1
    strict = _judge(_shot(), [replace(t) for t in tracks], split_screen=False)
    assert strict.shots[0].reason == "multiple_faces"


def test_video_reason_prefers_content_reasons_over_short_shots():
    shots = [_shot(shot_id="v-s0000", t_end=0.5), _shot(shot_id="v-s0001", t_start=0.5, t_end=4.0)]
    work = VideoWork(uri="u", video_id="v", shots=shots, tracks=[], analysis=_grid())
    work = PerformerFilterStage().process(work)
    assert work.reason == "no_face"
    assert "shot_too_short" in work.detail


def test_text_away_from_the_crop_or_in_few_frames_keeps_the_shot():
    bystander = _track(1, height=50, text_on_crop_frac=1.0)
    work = _judge(_shot(), [_track(0, text_on_crop_frac=0.25), bystander])
    assert work.shots[0].usable
    assert work.shots[0].text_on_crop_frac == 0.25  # the performer's, not the bystander's
    assert not _judge(_shot(), [_track(0, text_on_crop_frac=0.25)], max_text_on_crop_frac=0.2).shots[0].usable


def test_a_shot_the_cascade_did_not_landmark_is_judged_on_the_detectors_faces():
    work = _judge(_shot(landmarked_frac=0.0, coarse_face_px=40.0, coarse_face_frac=0.8), [])
    assert work.shots[0].reason == "face_too_small"
    detail = next(r.detail for r in work.rejections if r.entity == "shot")
    assert detail == "face 40 px < min_face_px=64 (face detector; not landmarked)"
    # seen on no coarse frame, or on too few of them (a track needs 10 % of the shot and 0.4 s)
    unseen, rare = {"coarse_face_px": None, "coarse_face_frac": 0.0}, {"coarse_face_px": 40.0, "coarse_face_frac": 0.05}
    for coarse in (unseen, rare):
        assert _judge(_shot(landmarked_frac=0.0, **coarse), []).shots[0].reason == "no_face"
    # a shot landmarked throughout is judged on its tracks alone, as without the cascade
    landmarked = _shot(landmarked_frac=1.0, coarse_face_px=40.0, coarse_face_frac=1.0)
    assert _judge(landmarked, []).shots[0].reason == "no_face"


@pytest.mark.parametrize(
    "coarse,reason,detail",
    [
        ({"coarse_face_frac": 0.3}, "face_coverage_low", "face in 30% of the shot < 50%"),
        ({"coarse_frontal_frac": 0.2}, "face_not_frontal", "frontal in 20% of frames < 50%"),
        ({"coarse_competing_frac": 0.6}, "multiple_faces", "a face of comparable size beside the largest in 60%"),
        ({"frozen_frac": 0.95}, "low_quality", "frozen frames 95% > 80%"),
    ],
)
def test_each_reason_a_shot_without_tracks_gets_from_its_coarse_evidence(coarse, reason, detail):
    good = {"coarse_face_px": 150.0, "coarse_face_frac": 0.9, "coarse_frontal_frac": 1.0, "coarse_competing_frac": 0.0}
    work = _judge(_shot(landmarked_frac=0.0, **(good | coarse)), [])
    assert work.shots[0].reason == reason
    shown = next(r.detail for r in work.rejections if r.entity == "shot")
    assert shown.startswith(detail)
    assert shown.endswith("(face detector; not landmarked)") or reason == "low_quality"
    # evidence that passes every threshold still gives no usable shot without a track
    assert _judge(_shot(landmarked_frac=0.0, **good), []).shots[0].reason == "no_face"


def test_a_margin_loosens_every_coarse_threshold_in_the_shots_favour():
    stage = PerformerFilterStage()
    shot = _shot(coarse_face_px=58.0, coarse_face_frac=0.4, coarse_frontal_frac=0.4, coarse_competing_frac=0.2)
    assert stage.coarse_verdict(shot)[0] == "face_too_small"  # 58 < 64
    assert stage.coarse_verdict(shot, margin=0.15) is None  # 58 >= 54.4, 0.4 >= 0.35, 0.2 < 0.25
    assert stage.coarse_verdict(shot, margin=0.05)[0] == "face_too_small"  # 58 < 60.8
    assert stage.coarse_verdict(replace(shot, coarse_face_px=61.0), margin=0.05)[0] == "face_coverage_low"  # 0.4 < 0.45
    # whatever fails with a margin fails without one
    for margin in (0.05, 0.15, 0.3):
        for field, value in [("coarse_face_px", 40.0), ("coarse_face_frac", 0.1), ("border_frac", 0.9)]:
            failing = replace(shot, **{field: value})
            if stage.coarse_verdict(failing, margin) is not None:
                assert stage.coarse_verdict(failing) is not None
    # the shot's length counts only once it is known
    assert stage.coarse_verdict(_shot(t_end=0.5, coarse_face_px=150.0, coarse_face_frac=1.0))[0] == "shot_too_short"
    unended = _shot(coarse_face_px=150.0, coarse_face_frac=1.0, t_end=None)
    assert stage.coarse_verdict(unended) is None
