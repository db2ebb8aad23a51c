"""Each fitted rule of ``bench validity``, refitted leaving one source out, on constructed records
whose right answer is known: two sources that need different thresholds, so a fold that saw its
held-out source would be caught."""

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest

from apps.bench import mouth_motion_folds, performer_filter_folds, skip_margin_folds
from apps.bench.fold_rows import SourcedRow
from apps.bench.sync_folds import FoldRule, leave_one_source_out
from apps.bench.validity_bench import RECORDS_FORMAT, validity_report
from apps.bench.validity_records import ClipRecord, SpeakingSegment, TrackSignals
from apps.cli.main import main
from curation.config.workflow import load_workflow
from schemas.tables import ShotRow, TrackRow
from stages.performer_filter import PerformerFilterStage
from stages.workflow_stages import WORKFLOW_STAGES

FPS = 25.0
SHIPPED_MOUTH = mouth_motion_folds.MouthRule(0.004, 0.45, 0.6, 0.5, 0.5, 0.3)


def _shot(clip: str, **fields: Any) -> ShotRow:
    base = {"shot_id": f"{clip}-s0", "t_start": 0.0, "t_end": 4.0, "sharpness": 100.0, "brightness": 120.0,
            "border_frac": 0.0, "frozen_frac": 0.0, "noise": 1.0, "landmarked_frac": 1.0,
            "coarse_face_px": 200.0, "coarse_face_frac": 1.0, "coarse_frontal_frac": 1.0,
            "coarse_competing_frac": 0.0, "usable": True}
    return ShotRow(**{**base, **fields})


def _track(clip: str, height: float = 200.0, frontal: float = 1.0) -> TrackRow:
    return TrackRow(track_id=f"{clip}-s0-t0", shot_id=f"{clip}-s0", n_frames=100, coverage=1.0,
                    face_height_px=height, frontal_frac=frontal, x_center=0.5, usable=True)


def _signals(clip: str, amplitude: float, n: int = 200, silent_from: int = 150) -> TrackSignals:
    """A mouth opening and closing 4 times a second while the voice is heard, still after ``silent_from``."""
    t = np.arange(n) / FPS
    mouth = 0.05 + amplitude * np.sin(2 * np.pi * 4 * t)
    mouth[silent_from:] = 0.05
    vad = np.where(np.arange(n) < silent_from, 0.9, 0.05).astype(np.float32)
    return TrackSignals(f"{clip}-s0-t0", 0, mouth.astype(np.float32), np.zeros(n, dtype=np.float32),
                        np.ones(n, dtype=bool), vad, [])


def _record(clip: str, source: str, label: str = "talking_head", *, amplitude: float = 0.03,
            shots: list | None = None, tracks: list | None = None, segments: list | None = None,
            voice_source: str | None = None) -> ClipRecord:
    return ClipRecord(
        clip=clip, label=label, source=source, person=clip, voice_source=voice_source or source, fps=FPS,
        voiced=150 if label in ("talking_head", "dubbed") else 0, speaking_frames=150, segments=segments or [],
        shots=[_shot(clip)] if shots is None else shots, tracks=[_track(clip)] if tracks is None else tracks,
        signals=[_signals(clip, amplitude)] if label == "talking_head" else [],
    )


@dataclass(frozen=True, kw_only=True)
class Numbered(SourcedRow):
    x: int


def test_a_fold_is_fitted_on_the_other_sources_only():
    seen: dict[str, set[str]] = {}
    rows = [Numbered(picture_source=s, voice_source=v, x=i) for i, (s, v) in enumerate(
        [("A", "A"), ("B", "B"), ("C", "C"), ("A", "B"), ("C", "A")])]

    def fit(train: list[Numbered]) -> int:
        sources = {r.picture_source for r in train} | {r.voice_source for r in train}
        seen[",".join(sorted(sources))] = sources
        return sum(r.x for r in train)

    rule: FoldRule[Numbered, int] = FoldRule(fit=fit, judge=lambda total, row: total,
                                             describe=lambda total: {"total": total})
    report = leave_one_source_out(rows, lambda judged: {"judged": [j for _, j in judged]}, rule=rule, shipped=-1)
    folds = {f["held_out_source"]: f for f in report["folds"]}
    # Without A: B's and C's own rows only (A-with-B's-voice and C-with-A's-voice are A's too).
    assert folds["A"]["total"] == 1 + 2 and folds["A"]["fitted_rows"] == 2
    assert folds["B"]["total"] == 0 + 2 + 4 and folds["C"]["total"] == 0 + 1 + 3
    assert folds["A"]["judged"] == [3, 3] and folds["A"]["shipped"] == {"judged": [-1, -1]}
    assert report["shipped"] == {"total": -1, "pooled": {"judged": [-1] * 5}}
    assert report["fit_on_all_sources"]["total"] == sum(range(5))


def test_mouth_threshold_fitted_on_wide_mouths_loses_a_source_of_small_ones():
    # Source A speaks with wide mouth motion (RMS about 0.02 face heights), source B with small (about 0.006).
    records = [_record(f"a{i}", "A", amplitude=0.03) for i in range(2)] + [_record("b0", "B", amplitude=0.008)]
    rows = mouth_motion_folds.rows_of(records, SHIPPED_MOUTH)
    report = leave_one_source_out(rows, mouth_motion_folds.figures, rule=mouth_motion_folds.fold_rule(SHIPPED_MOUTH),
                                  shipped=SHIPPED_MOUTH)
    folds = {f["held_out_source"]: f for f in report["folds"]}
    # B's fold never saw B: its threshold sits above B's motion, so B's speech is lost held out,
    # while the shipped 0.004 keeps it.
    assert folds["B"]["mouth_motion_threshold"] > 0.01
    assert folds["B"]["recall"]["fraction"] < 0.1
    assert folds["B"]["shipped"]["recall"]["fraction"] > 0.95
    # A's fold is fitted on B alone (the same threshold as fitting B's rows), and keeps A's speech.
    b_only = mouth_motion_folds.fit([r for r in rows if r.picture_source == "B"], SHIPPED_MOUTH)
    assert folds["A"]["mouth_motion_threshold"] == b_only.mouth_motion_threshold < 0.006
    assert folds["A"]["recall"]["fraction"] > 0.95
    # The still mouths after each track's speech, under a voice, read as listening at any of these thresholds.
    assert folds["A"]["negatives_yes"]["of"] > 0 and folds["A"]["listening_under_voice"] == 1.0
    low, high = report["pooled_held_out"]["recall"]["wilson95"]
    assert low <= report["pooled_held_out"]["recall"]["fraction"] <= high


def test_performer_filter_loosens_only_as_far_as_the_training_talking_heads_need():
    records = [
        _record("a0", "A"), _record("a1", "A"),
        _record("b0", "B", tracks=[_track("b0", height=50.0)]),  # B's faces are under the shipped 64 px
        _record("c0", "C", label="no_face", shots=[_shot("c0", usable=False, landmarked_frac=0.0,
                                                          coarse_face_px=None, coarse_face_frac=0.0)], tracks=[]),
    ]
    shipped = PerformerFilterStage()
    rows = performer_filter_folds.rows_of(records)
    report = leave_one_source_out(rows, performer_filter_folds.figures,
                                  rule=performer_filter_folds.fold_rule(shipped), shipped=shipped)
    folds = {f["held_out_source"]: f for f in report["folds"]}
    # Without B the shipped filter keeps every training talking head: it is the fit, and B is lost.
    assert folds["B"]["min_face_px"] == 64.0
    assert folds["B"]["talking_head_clips_kept"]["fraction"] == 0.0
    assert folds["B"]["talking_heads_rejected"] == ["b0"]
    # Without A (and C) the fit must keep B's 50 px faces: min_face_px drops to them, and no further.
    assert folds["A"]["min_face_px"] == 50.0 and folds["A"]["min_frontal_frac"] == 0.5
    assert folds["A"]["talking_head_clips_kept"]["fraction"] == 1.0
    # The clip without a face is rejected by every fold and by the shipped filter.
    assert folds["C"]["no_face_clips_kept"]["fraction"] == 0.0
    assert folds["C"]["shipped"]["no_face_clips_kept"]["fraction"] == 0.0
    pooled = report["pooled_held_out"]
    assert pooled["recall"]["n"] == 2 and pooled["recall"]["of"] == 3 and pooled["precision"]["fraction"] == 1.0


def test_skip_margin_fitted_on_frontal_shots_skips_a_source_of_half_turned_ones():
    records = [_record("a0", "A"), _record("a1", "A"),
               # B's performers face the camera in 40 % of the coarse frames: they fail min_frontal_frac 0.5
               # by 0.1, so only a margin of 0.1 or more landmarks them.
               _record("b0", "B", shots=[_shot("b0", coarse_frontal_frac=0.4)])]
    judge = PerformerFilterStage()
    rule = skip_margin_folds.fold_rule(judge)
    rows = skip_margin_folds.rows_of(records)
    report = leave_one_source_out(rows, skip_margin_folds.figures, rule=rule, shipped=0.15)
    folds = {f["held_out_source"]: f for f in report["folds"]}
    assert folds["B"]["cascade_skip_margin"] == 0.0 and folds["B"]["recall"]["fraction"] == 0.0
    assert folds["B"]["shipped"]["recall"]["fraction"] == 1.0
    assert folds["A"]["cascade_skip_margin"] == pytest.approx(0.1)
    assert skip_margin_folds.replay_check(rows, rule, 0.15)["agree"] == 3


def test_validity_report_judges_each_source_with_sync_thresholds_it_never_saw():
    def seg(score: float, weight: int = 50) -> SpeakingSegment:
        return SpeakingSegment(score, weight, 0, 100)

    records = [
        _record("a0", "A", segments=[seg(3.0)]), _record("b0", "B", segments=[seg(2.5)]),
        _record("c0", "C", segments=[seg(0.8)]),  # C's own speech scores low: the others' cut rejects it
        _record("a0x", "A", "dubbed", segments=[seg(0.3)], voice_source="B"),
        _record("b0x", "B", "dubbed", segments=[seg(0.2)], voice_source="C"),
        _record("c0x", "C", "dubbed", segments=[seg(0.4)], voice_source="A"),
    ]
    lip_sync = {"model": "learned_sync", "threshold": 0.5, "accept_threshold": 2.02}
    report = validity_report(records, [], lip_sync)
    folds = {f["held_out_source"]: f for f in report["rules"]["lip_sync_verdict"]["folds"]}
    # Without C: genuine A (3.0) and B (2.5) against dubbed A-with-B's-voice (0.3): the cut sits
    # between 2.5 and the next lower score seen, 0.3.
    assert folds["C"]["reject_below"] == pytest.approx((2.5 + 0.3) / 2)
    kept = report["genuine_voiced_kept_speaking"]
    assert kept["held_out"]["per_source"]["C"]["n"] == 0 and kept["held_out"]["rejected_whole"] == ["c0"]
    assert kept["shipped"]["per_source"]["C"]["n"] == 50 and kept["without_verdict"]["pooled"]["fraction"] == 1 / 3
    assert report["targets"]["talking_heads_rejected_whole"] == {"op": "<=", "target": 0, "measured": 1,
                                                                 "met": False}
    assert report["dubbed_segments_kept_speaking"]["shipped"]["n"] == 0
    assert set(report["rules"]) == {"lip_sync_verdict", "mouth_motion_threshold", "performer_filter",
                                    "cascade_skip_margin"}
    json.dumps(report)  # plain data, as --json prints it


def test_each_talking_head_rejected_whole_names_its_cause():
    seg = SpeakingSegment(0.1, 50, 0, 100)
    records = [
        _record("a0", "A", segments=[SpeakingSegment(3.0, 50, 0, 100)]),
        _record("b0", "B", segments=[seg]),  # its speech judged out of sync
        replace(_record("b1", "B"), video_rejection="states: no_segments",
                rejections={"segment_too_short": 1, "no_segments": 1}),
        replace(_record("b2", "B"), rejections={"low_quality": 2, "face_too_small": 1}),
        _record("b3", "B", segments=[SpeakingSegment(3.0, 0, 0, 100)]),  # its segment holds no voiced frame
        _record("a0x", "A", "dubbed", segments=[SpeakingSegment(0.2, 50, 0, 100)], voice_source="B"),
    ]
    lip_sync = {"model": "learned_sync", "threshold": 0.5, "accept_threshold": 2.02}
    shipped = validity_report(records, [], lip_sync)["genuine_voiced_kept_speaking"]["shipped"]
    assert shipped["rejected_whole_causes"] == {
        "b0": "states: out_of_sync (every speaking segment)", "b1": "states: no_segments",
        "b2": "low_quality", "b3": "states: no voiced frame labelled speaking"}
    assert shipped["rejected_whole_by_cause"]["low_quality"] == 1 and shipped["rejected_whole_count"] == 4


def test_a_record_survives_its_json():
    record = _record("a0", "A", segments=[SpeakingSegment(None, 10, 0, 50)])
    record.signals[0].mouth_open[3] = np.nan
    again = ClipRecord.from_json(json.loads(json.dumps(record.as_json())))
    assert again.segments == record.segments and again.shots == record.shots
    np.testing.assert_allclose(again.signals[0].mouth_open, record.signals[0].mouth_open, atol=1e-6)
    assert np.isnan(again.signals[0].mouth_open[3]) and again.signals[0].present.dtype == bool


def test_real_listeners_are_measured_where_the_corpus_has_them():
    def seg(score: float, weight: int) -> SpeakingSegment:
        return SpeakingSegment(score, weight, 0, 100)

    talking = [_record("a0", "A", segments=[seg(3.0, 50)]), _record("b0", "B", segments=[seg(2.5, 50)]),
               _record("a0x", "A", "dubbed", segments=[seg(0.3, 50)], voice_source="B"),
               _record("b0x", "B", "dubbed", segments=[seg(0.2, 50)], voice_source="A")]
    lip_sync = {"model": "learned_sync", "threshold": 0.5, "accept_threshold": 2.02}
    before = validity_report(talking, [], lip_sync)["targets"]["listening_under_another_voice"]
    assert before["measured"] is None and before["met"] is None and "not_measured" in before
    # A listener whose mouth moved for a moment: 16 of its 80 voiced frames labelled speaking, in a
    # segment the verdict keeps (3.0) or rejects (0.1).
    listener = replace(_record("l0", "L", "listening", segments=[seg(3.0, 16)]), voiced=80, listening_voiced=60)
    rejected = replace(listener, clip="l1", segments=[seg(0.1, 16)])
    report = validity_report([*talking, listener, rejected], [], lip_sync)
    listening = report["listening_under_another_voice"]
    assert listening["clips"] == 2 and listening["labelled_listening"]["pooled"]["fraction"] == 120 / 160
    assert listening["labelled_speaking"]["pooled"]["n"] == 16  # the rejected segment is no speech a trainer gets
    target = report["targets"]["listening_under_another_voice"]
    assert (target["measured"], target["met"], target["frames"]) == (120 / 160, False, 160)
    # A listener is never a genuine talking head, in no fold of the lip-sync verdict.
    assert "L" not in {f["held_out_source"] for f in report["rules"]["lip_sync_verdict"]["folds"]}
    assert "L" not in report["genuine_voiced_kept_speaking"]["shipped"]["per_source"]


def _three_sources_each_dubbed() -> list[ClipRecord]:
    """A talking head of each of three sources scoring 2.5-3.0, and each dubbed with the next one's voice
    scoring 0.2-0.4."""
    def seg(score: float) -> SpeakingSegment:
        return SpeakingSegment(score, 50, 0, 100)

    return [_record("a0", "A", segments=[seg(3.0)]), _record("b0", "B", segments=[seg(2.5)]),
            _record("c0", "C", segments=[seg(2.8)]),
            _record("a0x", "A", "dubbed", segments=[seg(0.3)], voice_source="B"),
            _record("b0x", "B", "dubbed", segments=[seg(0.2)], voice_source="C"),
            _record("c0x", "C", "dubbed", segments=[seg(0.4)], voice_source="A")]


def test_dubbed_copies_judged_by_networks_trained_on_them_are_no_result():
    records = _three_sources_each_dubbed()
    for model, judged in (("av_sync", True), ("learned_av_sync", False), ("learned_sync", False)):
        target = validity_report(records, [], {"model": model, "threshold": 0.5, "accept_threshold": 2.0}
                                 )["targets"]["dubbed_segments_kept_speaking"]
        assert target["measured"] == 0.0, model
        assert (target["met"] is True, "not_a_result" in target) == (judged, not judged), model


def test_held_out_figures_read_the_scores_of_networks_that_never_saw_the_source(tmp_path, capsys):
    def seg(in_sample: float, held_out: float) -> SpeakingSegment:
        return SpeakingSegment(in_sample, 50, 0, 100, held_out)

    # In sample the networks tell every dubbed copy apart; held out, C's dubbed copy scores like speech.
    records = [_record("a0", "A", segments=[seg(3.0, 2.9)]), _record("b0", "B", segments=[seg(2.5, 2.2)]),
               _record("c0", "C", segments=[seg(2.8, 2.4)]),
               _record("a0x", "A", "dubbed", segments=[seg(0.3, 0.4)], voice_source="B"),
               _record("b0x", "B", "dubbed", segments=[seg(0.2, 0.5)], voice_source="C"),
               _record("c0x", "C", "dubbed", segments=[seg(0.4, 2.6)], voice_source="A")]
    lip_sync = {"model": "learned_av_sync", "threshold": 0.5, "accept_threshold": 2.0,
                "held_out_networks": {"features": "F", "settings": {}, "sources": ["A", "B", "C"]}}
    report = validity_report(records, [], lip_sync)
    dubbed = report["dubbed_segments_kept_speaking"]
    assert dubbed["shipped"]["n"] == 0  # the shipped thresholds on the in-sample scores
    assert dubbed["held_out"]["n"] == 1  # C's copy, kept by the thresholds fitted on A and B's held-out scores
    target = report["targets"]["dubbed_segments_kept_speaking"]
    assert (target["measured"], target["met"], "not_a_result" in target) == (1 / 3, False, False)
    assert report["lip_sync_scores"].startswith("held out")
    rows = {r["clip"]: r for r in report["per_clip"]}
    assert rows["c0x"]["segments"] == [{"score": 0.4, "held_out_score": 2.6, "weight": 50}]
    # Without held-out networks the same records are judged on the in-sample scores, and say so.
    report = validity_report(records, [], {**lip_sync, "held_out_networks": None})
    assert report["dubbed_segments_kept_speaking"]["held_out"]["n"] == 0
    assert "not_a_result" in report["targets"]["dubbed_segments_kept_speaking"]
    # The command line, from the saved records: the report says whose scores it read.
    saved = tmp_path / "records.json"
    saved.write_text(json.dumps({"format": RECORDS_FORMAT, "overrides": [], "lip_sync": lip_sync,
                                 "records": [r.as_json() for r in records]}))
    assert main(["bench", "validity", "--refit", str(saved)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps lines at the terminal's width
    assert "its scores: held out: networks trained without each source" in out and "issue 40 targets" in out


def test_what_a_trainer_of_confirmed_sync_alone_is_given_is_reported_beside_what_is_kept(capsys, tmp_path):
    def seg(score: float) -> SpeakingSegment:
        return SpeakingSegment(score, 50, 0, 100, score)

    records = [_record("a0", "A", segments=[seg(2.9)]), _record("b0", "B", segments=[seg(2.5)]),
               _record("c0", "C", segments=[seg(2.4)]),
               _record("a0x", "A", "dubbed", segments=[seg(0.4)], voice_source="B"),
               _record("b0x", "B", "dubbed", segments=[seg(2.45)], voice_source="C"),
               _record("c0x", "C", "dubbed", segments=[seg(2.6)], voice_source="A")]
    lip_sync = {"model": "learned_av_sync", "threshold": 0.5, "accept_threshold": 2.0,
                "held_out_networks": {"features": "F", "settings": {}, "sources": ["A", "B", "C"]}}
    report = validity_report(records, [], lip_sync)
    folds = {f["held_out_source"]: (f["reject_below"], f["accept_from"])
             for f in report["rules"]["lip_sync_verdict"]["folds"]}
    # B's fold (fitted on A and C) leaves a band: B's own speech (2.5) and its dubbed copy (2.45) fall in it.
    assert folds["B"][0] < 2.45 < 2.5 < folds["B"][1]
    genuine, dubbed = report["genuine_voiced_kept_speaking"], report["dubbed_segments_kept_speaking"]
    assert (genuine["held_out"]["pooled"]["n"], genuine["held_out_in_sync"]["pooled"]["n"]) == (150, 100)
    assert genuine["held_out_in_sync"]["pooled"]["of"] == 450  # every voiced frame, as the kept figure
    assert (dubbed["held_out"]["n"], dubbed["held_out_in_sync"]["n"]) == (2, 1)  # c0x is judged in sync
    saved = tmp_path / "records.json"
    saved.write_text(json.dumps({"format": RECORDS_FORMAT, "overrides": [], "lip_sync": lip_sync,
                                 "records": [r.as_json() for r in records]}))
    assert main(["bench", "validity", "--refit", str(saved)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "data.sync_verdicts=[in_sync]), held out: genuine voiced frames 0.222" in out
    assert "dubbed segments 0.333" in out


def test_the_command_writes_a_workflow_with_the_rules_fitted_on_every_source(tmp_path, capsys):
    """``--write-workflow`` beside a refit: the lip-sync thresholds fitted on all three sources, the
    model that scored them, each rule's held-out figure as a comment; a run loads it as any workflow."""
    records = _three_sources_each_dubbed()
    lip_sync = {"model": "av_sync", "threshold": 0.5, "accept_threshold": 2.0}
    saved = tmp_path / "records.json"
    saved.write_text(json.dumps({"format": RECORDS_FORMAT, "overrides": [], "lip_sync": lip_sync,
                                 "records": [r.as_json() for r in records]}))
    path = tmp_path / "calibrated.yaml"
    assert main(["bench", "validity", "--refit", str(saved), "--write-workflow", str(path), "--json"]) == 0
    fit = json.loads(capsys.readouterr().out)["rules"]["lip_sync_verdict"]["fit_on_all_sources"]
    states = load_workflow(str(path), WORKFLOW_STAGES).stage("states")
    assert (states.lip_sync_model, states.lip_sync_threshold, states.lip_sync_accept_threshold) == (
        "av_sync", pytest.approx(fit["reject_below"]), pytest.approx(fit["accept_from"]))
    assert 0.4 < states.lip_sync_threshold < 2.5
    assert "#   lip_sync_verdict: frames recall" in path.read_text()
