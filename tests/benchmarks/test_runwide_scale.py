"""The run-wide scale benchmark on a tiny synthetic run: planted truth recovered, figures reported."""

import itertools

from benchmarks.runwide_scale import main, pairwise_precision_recall, run_runwide_scale, synthetic_run


def test_a_small_synthetic_run_recovers_the_planted_identities_and_copies():
    report = run_runwide_scale(300, seed=1)
    assert (report["videos"], report["tracks"], report["segments"], report["key_frames"]) == (300, 1500, 3000, 24000)
    assert report["identity_precision"] == 1.0 and report["identity_recall"] == 1.0
    assert report["identities"] == report["planted_identities"]
    assert report["planted_duplicates"] >= 50
    assert report["planted_duplicates_found"] == report["planted_duplicates"]
    assert report["duplicates"] == report["planted_duplicates"]  # random hashes: no chance duplicate
    for key in ("identity_seconds", "dedup_seconds", "identity_peak_rss_mb", "dedup_peak_rss_mb"):
        assert report[key] > 0
    assert report["identity_dedup_seconds"] >= report["identity_seconds"]
    # Two voices a video; the same person's voices join across videos, never two people's.
    assert report["voices"] == 600 and report["run_voices"] == report["planted_speakers"]
    assert report["voice_precision"] == 1.0 and report["voice_recall"] == 1.0


def test_overlapping_tracks_of_a_synthetic_video_are_different_people():
    run = synthetic_run(200, seed=2)
    by_video = {}
    for track in run.tracks:
        by_video.setdefault(track.video_id, []).append(track)
    for tracks in by_video.values():
        for first, second in itertools.pairwise(tracks):
            assert first.t_end > second.t_start  # consecutive tracks overlap ...
            assert run.identity_of[first.track_id] != run.identity_of[second.track_id]  # ... and differ


def test_pairwise_precision_and_recall_count_pairs():
    truth = {"a": 1, "b": 1, "c": 1, "d": 2}
    assert pairwise_precision_recall({"a": "x", "b": "x", "c": "y", "d": "y"}, truth) == (0.5, 1 / 3)
    assert pairwise_precision_recall(truth, truth) == (1.0, 1.0)


def test_the_command_prints_json(capsys):
    assert main(["--videos", "40", "--json"]) == 0
    assert '"identity_dedup_seconds"' in capsys.readouterr().out
