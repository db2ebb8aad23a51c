"""``bench scale`` replicates a real run's stored products and drives the run-wide phases through
the Ray executor: every replicated video, track and segment reaches the manifests and the shards."""

from pathlib import Path

import pytest

from apps.bench.scale_bench import run_scale_bench
from tests.curation.pipeline_runs import run_cli

CLIPS = ("talkvid_tys_gt.mp4", "fantasy_end0.1.mp4")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def source_run(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    for name in CLIPS:
        (folder / name).symlink_to(shared_media / name)
    out = tmp_path_factory.mktemp("source") / "run"
    done = run_cli("run", "--input", str(folder), "--out", str(out), "--workflow", "smoke", "--executor", "local",
                   timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]
    return out


def test_replicated_videos_reach_every_table_and_the_driver_is_measured(source_run: Path, tmp_path: Path) -> None:
    report = run_scale_bench(str(source_run), [3, 8], str(tmp_path), workers=2, tracks=3, segments=4, keep=True,
                             shard_bytes=2_000_000)
    assert set(report["per_n"]) == {"3", "8"}
    for n, row in report["per_n"].items():
        n_videos = int(n)
        tables = row["tables"]
        assert (row["videos"], row["kept"], tables["videos"]) == (n_videos, n_videos, n_videos)
        assert tables["tracks"] == 3 * n_videos and tables["segments"] == 4 * n_videos
        # every replica's three tracks are three planted people, each seen in several videos: the
        # clustering finds exactly the planted people
        assert tables["identities"] == row["planted_people"] < 3 * n_videos
        assert row["bytes_written"]["shards"] > 0 and tables["shards"] >= 1
        assert {"outcomes", "identity", "voice_identities", "dedup", "references", "shards", "manifests"} <= set(
            row["phase_seconds"]
        )
        assert row["driver_peak_rss_mb"] >= row["driver_start_rss_mb"] > 50
        # every run-wide decision is stored cut by video: an actor loads its video's bucket alone
        assert row["decision_sliced"] == {"identity": True, "voice_identities": True, "dedup": True,
                                          "cross_video_pairs": True, "references": True}
        assert all(mb >= 0 for mb in row["decision_load_peak_rss_mb"].values())
    status = run_cli("status", str(tmp_path / "n8"), "--verify", "--json")
    assert '"ok": true' in status.stdout, status.stdout[-2000:]
    assert report["driver_rss_growth_mb"] == pytest.approx(
        report["per_n"]["8"]["driver_peak_rss_mb"] - report["per_n"]["3"]["driver_peak_rss_mb"]
    )


def test_on_s3_every_request_goes_through_the_latency_proxy_and_the_shards_are_planned(source_run: Path) -> None:
    """The object-store variant: the replicas are planted in moto's S3 server, the driver's every
    request crosses the delaying proxy (counted there), the run-wide stages decide over all N, and
    the manifests place every sample by the shard plan (no shard is packed on S3)."""
    report = run_scale_bench(str(source_run), [4, 9], workers=2, tracks=3, segments=4, shard_bytes=2_000_000,
                             store="s3", latency_ms=5)
    assert report["store"] == "s3" and report["latency_ms"] == 5
    for n, row in report["per_n"].items():
        n_videos = int(n)
        tables = row["tables"]
        assert (row["videos"], row["kept"], tables["videos"]) == (n_videos, n_videos, n_videos)
        assert tables["segments"] == 4 * n_videos and "shards" not in tables
        assert tables["identities"] == row["planted_people"]
        assert row["shards_packed"] is False and row["bytes_written"]["shards"] > 0  # the plan alone
        assert row["barrier_stages"] == ["identity", "voice_identities", "dedup", "cross_video_pairs", "references"]
        assert row["barrier_seconds"] == {s: row["phase_seconds"][s] for s in row["barrier_stages"]}
        # each video's outcome and record are read at least once, its summaries in parts of many
        # videos, and no read is repeated per video per stage: a handful of requests per video
        assert 3 <= row["requests_per_video"] < 40
    largest = report["per_n"]["9"]
    assert report["barrier_seconds_max_at_max"] == max(largest["phase_seconds"][s] for s in largest["barrier_stages"])


def test_s3_files_keeps_the_replicas_in_files_and_drives_them_again_without_planting(
    source_run: Path, tmp_path: Path
) -> None:
    """The 10^5 point's store: s3rver (installed by bootstrap.sh, pinned) holds the replicas as files
    under the work folder. Planted once (``plant_only``), they are driven, then driven again from
    what planting left (the first drive's decisions, plan and manifests removed): the same tables
    and the same requests; a run with other settings is refused rather than measured on them."""
    common = {"workdir": str(tmp_path), "workers": 2, "segments": 4, "shard_bytes": 2_000_000, "keep": True,
              "store": "s3-files"}
    planting = run_scale_bench(str(source_run), [5], tracks=3, plant_only=True, **common)
    assert planting["planted_only"] and planting["per_n"]["5"]["planted_earlier"] is False
    root = tmp_path / "s3" / "bench" / "n5"
    planted = {p.relative_to(root).as_posix() for p in root.rglob("*._S3rver_object")}
    assert len([key for key in planted if key.endswith(".outcome.json._S3rver_object")]) == 5, sorted(planted)
    assert not any(key.startswith("manifest/") for key in planted)

    drives = [run_scale_bench(str(source_run), [5], tracks=3, latency_ms=5, **common) for _ in range(2)]
    rows = [drive["per_n"]["5"] for drive in drives]
    for row in rows:
        assert row["planted_earlier"] is True and row["plant_seconds"] == planting["per_n"]["5"]["plant_seconds"]
        tables = row["tables"]
        assert (row["videos"], row["kept"], tables["videos"], tables["segments"]) == (5, 5, 5, 20)
        assert tables["identities"] == row["planted_people"]
        assert row["barrier_stages"] == ["identity", "voice_identities", "dedup", "cross_video_pairs", "references"]
        assert row["barrier_seconds"] == {s: row["phase_seconds"][s] for s in row["barrier_stages"]}
    assert rows[0]["tables"] == rows[1]["tables"] and rows[0]["store_requests"] == rows[1]["store_requests"]
    stored = {p.relative_to(root).as_posix() for p in root.rglob("*._S3rver_object")}
    assert "manifest/videos/part-00000.parquet._S3rver_object" in stored and planted < stored
    with pytest.raises(ValueError, match="planted with"):
        run_scale_bench(str(source_run), [5], tracks=2, plant_only=True, **common)
