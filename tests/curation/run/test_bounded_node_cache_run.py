"""A node cache bounded at three times the largest input holds a run of inputs totalling ten times
that bound: the run completes with every input accounted, and the cache never holds more than
its bound (sampled on disk while the run goes, and the high-water mark the cache itself keeps).

The inputs are real shared clips served over HTTP from this process (a stand-in for the object
store): the Ray workers of ``lpm-curate run`` fetch them into the cache, which they share."""

import json
import threading
from pathlib import Path

import pytest
from pipeline_runs import cli_env, rows_by_name, run_cli
from served_files import served_files

from curation.ingest.node_cache import NodeCache
from curation.ingest.node_cache_index import INDEX_FILE, LOCK_FILE

BOUND_TIMES_LARGEST = 3
RUN_TIMES_BOUND = 10


def _clips_totalling(shared_media: Path, media_manifest: list) -> list[Path]:
    """The smallest clips, as few as make ``RUN_TIMES_BOUND`` times a bound of
    ``BOUND_TIMES_LARGEST`` times the largest of them."""
    clips = sorted((shared_media / entry.file for entry in media_manifest), key=lambda p: p.stat().st_size)
    total = 0
    for count, clip in enumerate(clips, start=1):
        total += clip.stat().st_size
        if total >= RUN_TIMES_BOUND * BOUND_TIMES_LARGEST * clip.stat().st_size:
            return clips[:count]
    raise AssertionError("the shared clips cannot make a run ten times the bound")


class _Sampler(threading.Thread):
    """The most bytes the cache folder held at once (copies and downloads in progress), sampled."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.samples = root, 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.01):
            held = 0
            for item in self.root.iterdir() if self.root.is_dir() else []:
                if item.name not in (INDEX_FILE, LOCK_FILE) and not item.name.startswith(".index-"):
                    try:
                        held += item.stat().st_size
                    except FileNotFoundError:
                        continue  # evicted or renamed between listing and looking
            self.peak, self.samples = max(self.peak, held), self.samples + 1


@pytest.mark.slow
def test_a_cache_of_three_largest_inputs_holds_a_run_ten_times_its_size(
    shared_media: Path, media_manifest: list, tmp_path: Path
) -> None:
    clips = _clips_totalling(shared_media, media_manifest)
    largest = max(clip.stat().st_size for clip in clips)
    node_cache_gb = BOUND_TIMES_LARGEST * largest / 1e9
    bound = int(node_cache_gb * 1e9)  # what the run computes from --node-cache-gb
    total = sum(clip.stat().st_size for clip in clips)
    cache_root = tmp_path / "node" / "inputs"
    sampler = _Sampler(cache_root)
    sampler.start()
    listing = tmp_path / "inputs.txt"
    try:
        with served_files(clips, tmp_path / "bucket") as urls:
            listing.write_text("".join(f"{url}\n" for url in urls))
            done = run_cli(
                "run", "--input", str(listing), "--out", str(tmp_path / "run"), "--workflow", "ingest",
                "--workers", "2", "--node-cache-gb", f"{node_cache_gb!r}",
                env=cli_env(LPM_CACHE_DIR=str(tmp_path / "node")), timeout=600,
            )  # fmt: skip
    finally:
        sampler.stop.set()
        sampler.join()
    assert done.returncode == 0, done.stdout + done.stderr
    assert total >= RUN_TIMES_BOUND * bound
    accounting = json.loads((tmp_path / "run" / "run.json").read_text())["accounting"]
    assert accounting["inputs"] == len(clips) and accounting["failed"] == 0
    rows = rows_by_name(tmp_path / "run")
    assert sorted(rows) == sorted(clip.name for clip in clips)
    assert all(row["state"] in ("kept", "rejected") and row["reason"] != "unreadable" for row in rows.values())
    stats = NodeCache(cache_root).stats()
    assert sampler.samples > 100 and 0 < sampler.peak <= bound
    assert largest <= stats.peak_bytes <= bound and stats.held_bytes() <= bound
    # every distinct video was fetched; what the cache holds at the end is all the rest left
    assert stats.evictions + len(stats.entries) >= len({row["video_id"] for row in rows.values()})
    assert all(not entry.pins and entry.fetching is None for entry in stats.entries.values())
    print(
        f"{len(clips)} clips, {total} bytes through a cache bound at {bound} bytes "
        f"({total / bound:.1f}x): peak {stats.peak_bytes} reserved, {sampler.peak} on disk "
        f"({sampler.samples} samples), {stats.evictions} evictions"
    )
