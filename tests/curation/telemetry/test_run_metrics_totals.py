"""The run's metrics against its manifests: Ray's Prometheus endpoint while the run goes, the
``metrics.prom`` snapshot it leaves, and ``metrics.jsonl``, all with the manifests' totals.

The session's one smoke run on the embedded Ray (``smoke_run``: two kept talking heads, a kept
clip without audio, a no-face clip and an empty file), whose endpoint was read while it went.
"""

import pytest

from curation.manifests.duckdb_views import open_catalog
from curation.run.run_info import read_run_info
from curation.store.run_store import RunStore
from curation.telemetry.metrics_log import final_totals, read_metrics_log
from curation.telemetry.ray_metrics import SNAPSHOT_FILE, parse_counters
from tests.curation.observed_runs import videos_done


def _manifest_totals(out) -> dict[str, dict]:
    with open_catalog(RunStore(str(out))) as con:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        return {
            "videos": dict(q("SELECT state, count(*) FROM videos WHERE duplicate_of IS NULL GROUP BY 1")),
            "input_seconds": q("SELECT sum(duration_s) FROM videos WHERE duplicate_of IS NULL")[0][0],
            "rejections": {(e, s, r): n for e, s, r, n in q("SELECT entity, stage, reason, count(*) FROM rejections "
                                                             "GROUP BY ALL")},
            "segments": dict(q("SELECT state, count(*) FROM segments GROUP BY 1")),
            "segment_seconds": dict(q("SELECT state, sum(t_end - t_start) FROM segments GROUP BY 1")),
            "shard_bytes": q("SELECT sum(bytes) FROM shards")[0][0],
        }


def _by(values: dict, name: str, label: str) -> dict:
    return {dict(labels)[label]: v for (n, labels), v in values.items() if n == name}


def _check_totals(values: dict, expected: dict) -> None:
    assert _by(values, "lpm_videos_total", "state") == expected["videos"]
    assert values[("lpm_input_seconds_total", ())] == pytest.approx(expected["input_seconds"], rel=1e-9)
    rejections = {tuple(dict(labels)[k] for k in ("entity", "stage", "reason")): v
                  for (n, labels), v in values.items() if n == "lpm_rejections_total"}
    assert rejections == expected["rejections"]
    assert _by(values, "lpm_segments_total", "state") == expected["segments"]
    seconds = _by(values, "lpm_segment_seconds_total", "state")
    assert seconds == pytest.approx(expected["segment_seconds"], rel=1e-9)
    assert _by(values, "lpm_bytes_written_total", "kind")["shards"] == expected["shard_bytes"]


@pytest.mark.slow
def test_the_run_has_every_kind_of_outcome(smoke_run):
    out = smoke_run.out
    expected = _manifest_totals(out)
    assert expected["videos"] == {"kept": 3, "rejected": 2}
    assert ("video", "ingest", "empty_file") in expected["rejections"]
    assert any(stage == "performer_filter" for _e, stage, _r in expected["rejections"])


@pytest.mark.slow
def test_the_endpoint_moved_while_the_run_went_on(smoke_run):
    scrapes = smoke_run.scrapes
    shown = sorted(set(scrapes))
    assert len([v for v in shown if v > 0]) >= 3, f"the endpoint's videos-done counter only showed {shown}"
    assert scrapes == sorted(scrapes), "a counter never goes down"
    print(f"lpm_videos_done_total as scraped during the run: {shown}")


@pytest.mark.slow
def test_the_prometheus_snapshot_has_the_manifests_totals(smoke_run):
    out, scrapes = smoke_run.out, smoke_run.scrapes
    text = (out / SNAPSHOT_FILE).read_text()
    assert "# TYPE ray_lpm_videos_total counter" in text and "# TYPE ray_lpm_stage_seconds histogram" in text
    values = parse_counters(text)
    _check_totals(values, _manifest_totals(out))
    assert videos_done(text) >= max(scrapes)
    print(f"manifests: {_manifest_totals(out)}")
    # per-stage seconds: the counter's totals are the run's own (run.json sums them over the videos)
    stage_seconds = _by(values, "lpm_stage_seconds_total", "stage")
    recorded = read_run_info(RunStore(str(out))).stage_seconds
    assert stage_seconds == pytest.approx(recorded, rel=1e-6)
    # and the histogram counted one observation per video per stage that ran on it
    counts = _by(values, "lpm_stage_seconds_count", "stage")
    assert counts["probe"] == 4 and set(counts) == set(stage_seconds)


@pytest.mark.slow
def test_metrics_jsonl_totals_equal_the_manifests(smoke_run):
    out = smoke_run.out
    lines = read_metrics_log(RunStore(str(out)))
    assert len(lines) >= 5 and lines[-1]["phase"] == "end"
    assert [line["elapsed_s"] for line in lines] == sorted(line["elapsed_s"] for line in lines)
    totals = {(name, tuple(sorted(labels))): v for (name, labels), v in final_totals(lines).items()}
    _check_totals(totals, _manifest_totals(out))
    assert lines[-1]["accounting"]["inputs"] == 5
