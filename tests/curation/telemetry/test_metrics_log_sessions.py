"""``metrics.jsonl`` across a resumed run: a new session per run, totals summed over sessions."""

import pytest
from observed_runs import clip_folder
from pipeline_runs import SMALL_CLIPS, manifest, run_cli

from curation.store.run_store import RunStore
from curation.telemetry.metrics_log import final_totals, read_metrics_log, total


def test_a_resumed_run_appends_a_session_and_the_totals_stay_the_manifests(shared_media, tmp_path):
    inputs = clip_folder(shared_media, tmp_path / "in", SMALL_CLIPS[:3], empty_file=True)
    out = tmp_path / "run"
    args = ("run", "--input", str(inputs), "--out", str(out), "--workflow", "ingest", "--executor", "local")
    first = run_cli(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    after_one = final_totals(read_metrics_log(RunStore(str(out))))
    again = run_cli(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    lines = read_metrics_log(RunStore(str(out)))
    assert len({line["session"] for line in lines}) == 2
    totals = final_totals(lines)
    assert totals == after_one, "a run with nothing left to do adds nothing"
    videos = manifest(out)
    for state in ("kept", "rejected", "failed"):
        assert total(totals, "lpm_videos_total", state=state) == sum(v["state"] == state for v in videos)
    assert total(totals, "lpm_input_seconds_total") == pytest.approx(sum(v["duration_s"] or 0 for v in videos))
    assert total(totals, "lpm_rejections_total", stage="ingest", reason="empty_file") == 1
