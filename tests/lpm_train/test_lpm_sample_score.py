"""``lpm-train sample``, validation videos, TensorBoard logs, kept checkpoints, and ``lpm-train
score`` (the curation toolkit's sync and identity measures, run as a separate process)."""

from __future__ import annotations

import contextlib
import io
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from cli_outputs import last_json, streams_of
from lpm_talking_clips import recording, talking_head_segments, with_foreign_audio

from lpm_train.cli import main
from lpm_train.metrics_log import read_log


@pytest.mark.slow
def test_base_run_wrote_validation_videos_tensorboard_events_and_kept_checkpoints(trained_teacher):
    run = trained_teacher["result"].run_dir
    # validate_every 100 over 200 steps: two sets of the same 2 held-out samples, with their audio
    sets = sorted(p.name for p in (run / "samples").iterdir())
    assert sets == ["step-00000100", "step-00000200"]
    first, last = (json.loads((run / "samples" / s / "index.json").read_text()) for s in sets)
    assert [r["key"] for r in first] == [r["key"] for r in last] and len(first) == 2
    streams = streams_of(run / "samples" / sets[-1] / first[0]["mp4"])
    assert int(streams["video"]["nb_read_frames"]) == 8 and "audio" in streams
    assert sorted(p.name for p in run.glob("checkpoint*.pt")) == [
        "checkpoint-00000100.pt",
        "checkpoint-00000200.pt",
        "checkpoint.pt",
    ]

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = list(run.glob("events.out.tfevents.*"))
    assert len(events) == 1
    board = EventAccumulator(str(events[0]))
    board.Reload()
    logged = {r["step"]: r["loss"] for r in read_log(run / "log.jsonl") if "loss" in r}
    scalars = {e.step: e.value for e in board.Scalars("loss")}
    assert scalars.keys() == logged.keys()
    assert all(scalars[s] == pytest.approx(logged[s], rel=1e-6) for s in logged)
    assert "heldout_end" in board.Tags()["scalars"]


@pytest.fixture(scope="module")
def teacher_samples(trained_teacher, tmp_path_factory, media_shards) -> dict:
    out = tmp_path_factory.mktemp("samples")
    argv = [
        "sample", "--json",
        "--set", f"sample.checkpoint={trained_teacher['checkpoint']}",
        "--set", f"sample.out_dir={out}",
        "--set", "sample.count=3",
        "--set", "sample.frames=24",
        "--set", f"data.heldout_shards={json.dumps(media_shards['paths']['heldout'])}",
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(argv) == 0
    return {"out": out, "summary": last_json(printed.getvalue())}


@pytest.mark.slow
def test_sample_command_writes_guided_teacher_videos_with_audio(teacher_samples):
    out, summary = teacher_samples["out"], teacher_samples["summary"]
    index = json.loads((out / "index.json").read_text())
    assert summary["videos"] == [r["mp4"] for r in index] and len(index) == 3
    for row in index:
        streams = streams_of(out / row["mp4"])
        assert int(streams["video"]["nb_read_frames"]) == 24 and row["frames"] == 24
        assert float(streams["audio"]["duration"]) == pytest.approx(24 / 25, abs=0.05)  # cut to the video
    assert len(list(out.glob("*.ref.jpg"))) >= 1  # held-out samples with references carry theirs


@pytest.mark.slow
def test_score_command_measures_the_generated_videos(teacher_samples, capsys):
    out = teacher_samples["out"]
    capsys.readouterr()
    assert main(["score", "--json", "--samples", str(out)]) == 0
    summary = last_json(capsys.readouterr().out)
    scores = json.loads((out / "scores.json").read_text())
    assert summary["clips"] == 3 == len(scores["clips"])
    for clip in scores["clips"]:
        assert clip["frames"] == 24 and 0.0 <= clip["face_fraction"] <= 1.0
    print("\nscores of the tiny teacher's 16x16 samples:", json.dumps(scores["summary"]))


SCORED = ("matched", "shuffled")


@pytest.fixture(scope="module")
def real_clip_scores(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("talking")
    segments = talking_head_segments(root / "matched")
    partner = with_foreign_audio(segments, root / "shuffled")
    # Each score is its own scorer process on one core: the two folders are scored side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = list(pool.map(lambda name: main(["score", "--json", "--samples", str(root / name)]), SCORED))
    assert codes == [0, 0]
    scores = {}
    for name in SCORED:
        rows = json.loads((root / name / "scores.json").read_text())["clips"]
        scores[name] = {r["file"].removesuffix(".mp4"): r for r in rows}
    return {"scores": scores, "partner": partner, "names": sorted(segments)}


@pytest.mark.slow
def test_score_separates_real_clips_with_their_own_audio_from_shuffled_audio(real_clip_scores):
    matched, shuffled = real_clip_scores["scores"]["matched"], real_clip_scores["scores"]["shuffled"]
    names = real_clip_scores["names"]
    assert len(names) == 10 and set(matched) == set(shuffled) == set(names)
    assert all(matched[n]["face_fraction"] > 0.9 for n in names)
    wins = [matched[n]["sync"] > shuffled[n]["sync"] for n in names]
    print("\nsync (own audio vs another recording's):")
    for n in names:
        partner = real_clip_scores["partner"][n]
        print(f"  {n:28s} {matched[n]['sync']:.3f} vs {shuffled[n]['sync']:.3f} ({partner})")
    print(f"own audio higher on {sum(wins)}/{len(wins)} clips")
    assert sum(wins) >= 0.8 * len(wins)


@pytest.mark.slow
def test_score_identity_is_higher_against_the_clips_own_reference(real_clip_scores):
    matched, shuffled = real_clip_scores["scores"]["matched"], real_clip_scores["scores"]["shuffled"]
    names = real_clip_scores["names"]
    assert all(recording(real_clip_scores["partner"][n]) != recording(n) for n in names)
    wins = [matched[n]["identity"] > shuffled[n]["identity"] for n in names]
    print(
        f"\nidentity ({matched[names[0]]['identity_kind']}): own reference higher on {sum(wins)}/{len(wins)} clips;",
        f"mean {sum(matched[n]['identity'] for n in names) / len(names):.3f}",
        f"vs {sum(shuffled[n]['identity'] for n in names) / len(names):.3f}",
    )
    assert sum(wins) >= 0.8 * len(wins)
