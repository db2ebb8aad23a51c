"""The report's actor-pool table, from the shared smoke run's ``metrics.jsonl``: per pool and
node, the videos its actors finished, videos per minute and busy time."""

import pytest

from apps.report.run_figures import gather
from apps.report.run_report import render_page
from curation.manifests.manifest_writer import read_manifest
from curation.store.run_store import RunStore
from curation.telemetry.metrics_log import read_metrics_log

pytestmark = pytest.mark.slow


def test_every_pool_has_its_videos_rate_and_busy_time_in_the_report(smoke_run):
    store = RunStore(str(smoke_run.out))
    figures = gather(str(smoke_run.out))
    assert figures.pools, "no pool figures"
    wall_min = read_metrics_log(store)[-1]["elapsed_s"] / 60
    inputs = len(read_manifest(store, "videos"))
    for pool in figures.pools:
        assert pool.node not in ("", "unknown")
        assert 1 <= pool.videos <= inputs
        assert pool.busy_s > 0
        assert pool.videos_per_min == pytest.approx(pool.videos / wall_min)
        assert pool.videos_per_actor_min == pytest.approx(60 * pool.videos / pool.busy_s)
    page = render_page(figures, [])
    assert all(f"data-pool='{pool.pool}'" in page for pool in figures.pools)
