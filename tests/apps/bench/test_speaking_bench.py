"""The speaking benchmark: its spliced conversations match their truth, and a small run adds up.

The splice tests render two conversations from the shared talking-head clips and check them with
tools other than the ones that made them (ffprobe frame counts, the pipeline's own decoder, frame
differences for the cuts, the decoded audio for the silences). The run test runs the whole
benchmark on two conversations and two talking-head clips.
"""

import argparse
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from annotators.shots.frame_quality import QUALITY_NAMES, FrameQualityMeter
from annotators.speaking.av_sync import estimate_av_offset
from apps.bench.conversation_plan import MAX_PART_FRAMES, MIN_PART_FRAMES, SPEECH_MARGIN_S, plan_conversations
from apps.bench.offset_recovery import SHIFTS, shift_audio
from apps.bench.speaking_bench import run_speaking_bench
from apps.bench.spliced_conversations import SAMPLES_PER_FRAME, TRUTH_FORMAT, build_spliced_set
from apps.bench.state_scoring import NO_LABEL, FrameStateScore
from apps.bench.talking_head_sources import TalkingHeadClip, load_talking_heads, person_key
from apps.bench.truth_matching import expand_runs
from apps.cli.bench_command import add_parser
from curation.media.audio_decoder import decode_audio
from curation.media.frame_source import AnalysisGeometry, decode_frames

FPS = 25.0
RUN_CLIPS = ["talkvid_tys_gt.mp4", "fantasy_end0.4.mp4"]


@pytest.fixture(scope="module")
def clips(shared_media: Path) -> list[TalkingHeadClip]:
    return load_talking_heads(shared_media)


@pytest.fixture(scope="module")
def spliced(clips: list[TalkingHeadClip], tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("spliced")
    truths = [json.loads(p.read_text()) for p in build_spliced_set(clips, out, n_videos=2, seed=3)]
    return [truth | {"path": out / truth["video"]} for truth in truths]


def test_clips_of_one_rendered_face_are_one_person():
    assert person_key("fantasy_end0.1.mp4") == person_key("fantasy_end1.0.mp4") == "fantasy_end"
    assert person_key("talkvid_tys_gt.mp4") != person_key("talkvid_talk_emotion_gt.mp4")


def test_plans_are_seeded_and_alternate_two_different_people(clips: list[TalkingHeadClip]):
    plans = plan_conversations(clips, 6, seed=5)
    assert plans == plan_conversations(clips, 6, seed=5)
    assert plans != plan_conversations(clips, 6, seed=6)
    speech = {c.name: c.speech for c in clips}
    for plan in plans:
        people = {p.face_person for p in plan.parts}
        assert len(people) == 2, plan.name
        assert expand_runs(plan.state_runs(), plan.n_frames).count(None) == 0
        for before, after in zip(plan.parts, plan.parts[1:], strict=False):
            assert before.face_person != after.face_person
            assert after.first_frame == before.first_frame + before.n_frames
        for part in plan.parts:
            assert MIN_PART_FRAMES <= part.n_frames <= MAX_PART_FRAMES
            if part.kind == "speaking":
                assert (part.voice_clip, part.voice_t0) == (part.face_clip, part.face_t0)
            elif part.kind.startswith("listening"):
                assert part.voice_person != part.face_person
            else:
                assert part.voice_clip is None
            if part.voice_clip:  # the voice never leaves a speech span (half a frame of snapping allowed)
                end = part.voice_t0 + part.n_frames / FPS
                slack = SPEECH_MARGIN_S - 0.5 / FPS
                assert any(a + slack <= part.voice_t0 and end <= b - slack for a, b in speech[part.voice_clip])


def test_spliced_videos_have_the_truths_frames_and_samples(spliced: list[dict]):
    for truth in spliced:
        assert truth["format"] == TRUTH_FORMAT
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
             "-show_entries", "stream=nb_read_frames,width,height:format=duration", "-of", "json", str(truth["path"])],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        facts = json.loads(probe.stdout)
        stream = facts["streams"][0]
        assert int(stream["nb_read_frames"]) == truth["n_frames"]
        assert float(facts["format"]["duration"]) == pytest.approx(truth["duration_s"], abs=0.5 / FPS)
        assert (stream["width"], stream["height"]) == (truth["width"], truth["height"])
        # The pipeline's own 25 fps decode must see every frame too, the last one included.
        geometry = AnalysisGeometry.for_source(truth["width"], truth["height"], 128)
        assert sum(1 for _ in decode_frames(str(truth["path"]), geometry, FPS, 60)) == truth["n_frames"]
        assert len(decode_audio(truth["path"])) == truth["n_frames"] * SAMPLES_PER_FRAME


def test_cuts_are_where_the_truth_says_and_silences_are_silent(spliced: list[dict]):
    for truth in spliced:
        geometry = AnalysisGeometry.for_source(truth["width"], truth["height"], 128)
        frames = [f.rgb for f in decode_frames(str(truth["path"]), geometry, FPS, 60)]
        grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames])
        change = np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2))  # change[i]: frame i -> i + 1
        cut_changes = change[np.asarray(truth["cuts"]) - 1]
        inside = np.delete(change, np.asarray(truth["cuts"]) - 1)
        assert cut_changes.min() > 2 * inside.max(), (cut_changes.round(1), inside.max())
        audio = decode_audio(truth["path"])
        for part in truth["parts"]:
            first, end = part["first_frame"], part["first_frame"] + part["n_frames"]
            span = audio[first * SAMPLES_PER_FRAME : end * SAMPLES_PER_FRAME]
            rms = float(np.sqrt(np.mean(span**2)))
            if part["voice_clip"] is None:
                assert rms < 1e-4, part
            else:
                assert rms > 0.01, part
            if part["kind"].endswith("_still"):
                # The held frame sways, so the quality meter must not call the shot frozen.
                meter = FrameQualityMeter()
                chunk = frames[part["first_frame"] : part["first_frame"] + part["n_frames"]]
                rows = [meter.measure(f, cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)) for f in chunk]
                assert np.mean([r[QUALITY_NAMES.index("frozen")] for r in rows]) < 0.5


def test_frame_state_score_counts_missing_labels_apart():
    score = FrameStateScore()
    truth = np.array([0, 0, 1, 1, 1, 2, 2, 2])
    predicted = np.array([0, NO_LABEL, 1, 1, 2, 1, 2, NO_LABEL])
    score.add(truth, predicted)
    report = score.as_dict()
    assert report["n_frames"] == 8
    assert report["coverage"] == pytest.approx(6 / 8)
    assert report["state_accuracy"] == pytest.approx(4 / 6)
    assert report["state_accuracy_all_frames"] == pytest.approx(4 / 8)
    assert report["state_precision"] == pytest.approx({"idle": 1.0, "speaking": 2 / 3, "listening": 1 / 2})
    assert report["state_recall"] == pytest.approx({"idle": 1.0, "speaking": 2 / 3, "listening": 1 / 2})
    assert report["state_confusion"]["counts"] == [[1, 0, 0, 1], [0, 2, 1, 0], [0, 1, 1, 1]]


def test_delaying_the_audio_gives_a_positive_av_sync_offset():
    rng = np.random.default_rng(0)
    n = 200
    mouth = np.convolve(rng.standard_normal(n + 10), np.ones(4) / 4, mode="same")[:n]
    loudness = np.repeat(mouth - mouth.min(), SAMPLES_PER_FRAME)
    audio = (loudness * rng.standard_normal(loudness.size)).astype(np.float32)
    delayed = shift_audio(audio, 3, FPS)
    assert np.all(delayed[: 3 * SAMPLES_PER_FRAME] == 0)
    assert np.array_equal(delayed[3 * SAMPLES_PER_FRAME :], audio[: -3 * SAMPLES_PER_FRAME])
    # Differences only: av_sync may report offsets relative to the natural sound-after-mouth lag.
    base = estimate_av_offset(mouth, audio, FPS, 10).offset_frames
    assert abs(base) <= 1
    assert estimate_av_offset(mouth, delayed, FPS, 10).offset_frames - base == 3
    assert estimate_av_offset(mouth, shift_audio(audio, -5, FPS), FPS, 10).offset_frames - base == -5


@pytest.mark.slow
def test_small_benchmark_run_adds_up(shared_media: Path, tmp_path: Path):
    report = run_speaking_bench(shared_media, tmp_path, n_videos=2, seed=1, talking_heads=RUN_CLIPS)
    truths = [json.loads(p.read_text()) for p in sorted((tmp_path / "spliced").glob("*.json"))]
    assert report["n_videos"] == len(truths) == 2
    # The conversations were one run: each says whose voice the run gave to whom.
    assert report["one_run"] and all("relabelled_by_run" in v and "run_voice_owners" in v for v in report["videos"])
    assert json.loads((tmp_path / "speaking_report.json").read_text())["n_frames"] == report["n_frames"]
    assert report["n_frames"] == sum(t["n_frames"] for t in truths)
    counts = np.asarray(report["state_confusion"]["counts"])
    assert counts.sum() == report["n_frames"]
    assert sum(row["frames"] for row in report["by_part_kind"].values()) == report["n_frames"]
    assert report["coverage"] == pytest.approx(counts[:, :3].sum() / counts.sum())
    for key in ("state_accuracy", "coverage", "talking_head_speaking_rate", "offset_recovery_rate"):
        assert 0.0 <= report[key] <= 1.0, key
    for figures in ("state_precision", "state_recall", "state_f1"):
        assert all(v is None or 0.0 <= v <= 1.0 for v in report[figures].values())
    assert report["offset_cases"] == len(RUN_CLIPS) * len(SHIFTS)
    # Every cut splits a shot; the parts that need no lip reading are labelled right (a voice over
    # a still face is listening, silence is idle) and a person's own speech is never idle.
    assert all(v["cuts_found"] == v["cuts"] for v in report["videos"])
    for kind in ("listening_still", "idle", "idle_still"):
        assert report["by_part_kind"][kind]["accuracy_all_frames"] >= 0.95, (kind, report["by_part_kind"][kind])
    speaking = report["by_part_kind"]["speaking"]
    assert speaking["idle"] + speaking["none"] <= 0.05 * speaking["frames"]
    assert speaking["accuracy_all_frames"] >= 0.7  # measured 0.84-1.0 with the mouth-motion speaker
    by_clip = report["talking_head_by_clip"]
    assert [row["clip"] for row in by_clip] == RUN_CLIPS and all(row["voiced_frames"] > 0 for row in by_clip)
    assert report["talking_head_voiced_frames"] == sum(row["voiced_frames"] for row in by_clip)
    assert report["talking_head_speaking_rate"] >= 0.8  # measured 0.95-1.0 on these two clips
    # fantasy_end0.4 is rendered in sync: every shift moves its estimate by the shift.
    in_sync = next(row for row in report["offset_by_clip"] if row["clip"] == "fantasy_end0.4.mp4")
    assert in_sync["rate_relative"] >= 0.8, in_sync


def test_each_alone_is_an_option_of_the_command():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    assert parser.parse_args(["bench", "speaking", "--each-alone"]).each_alone
    assert not parser.parse_args(["bench", "speaking"]).each_alone
