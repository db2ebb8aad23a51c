"""Shots from a list of cuts: every frame in exactly one shot, a new shot at each cut."""

from annotators.shots.shot_span import ShotSpan, shots_from_cuts


def test_shots_start_at_each_cut_and_cover_every_frame():
    assert shots_from_cuts([30, 10], 50) == [ShotSpan(0, 0, 10), ShotSpan(1, 10, 30), ShotSpan(2, 30, 50)]


def test_cuts_outside_the_video_or_repeated_make_no_shot():
    # frame 0 never starts a new shot, and a cut at or past the end has nothing after it
    assert shots_from_cuts([0, 5, 5, 8, 12], 8) == [ShotSpan(0, 0, 5), ShotSpan(1, 5, 8)]
    assert shots_from_cuts([3], 0) == []
