"""A real talking head and its dubbed copy (the same picture muxed with another person's voice by
real ffmpeg, as ``bench dubbing`` does) in one run: dedup keeps the original, whatever the
lip-sync scores of the two, and flags the copy whose audio is not the picture's own."""

import copy
from pathlib import Path

import pytest

from apps.bench.dubbing_bench import dub
from apps.bench.speaking_bench import analyse, apply_run_stages, bench_stages
from curation.media.probe import probe_media
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from schemas.tables import RejectionRow
from stages.dedup import DedupStage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysed(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoWork, VideoWork]:
    """The original and the dubbed copy, analysed up to the speech stage."""
    out = tmp_path_factory.mktemp("dubbed-twin")
    video = shared_media / "talkvid_tys_gt.mp4"
    dubbed = dub(video, shared_media / "latentsync_demo3_video.mp4", out / "dubbed.mp4", probe_media(video).duration_s)
    stages = bench_stages()[:-1]
    return analyse(video, stages, out / "store"), analyse(dubbed, stages, out / "store")


def one_run(analysed: tuple[VideoWork, VideoWork], *states_settings: str) -> tuple[VideoWork, VideoWork]:
    """States with ``states_settings``, then dedup over the two videos, as a run applies it."""
    (states,) = bench_stages(list(states_settings), names=("states",))
    works = [run_stage(states, copy.deepcopy(work)) for work in analysed]
    dedup = DedupStage(clip="off")
    dedup.setup()
    apply_run_stages(works, [dedup])
    return works[0], works[1]


def duplicates(work: VideoWork) -> list[RejectionRow]:
    return [r for r in work.rejections if r.reason == "duplicate"]


def test_original_is_kept_when_its_dubbed_copy_scores_as_well(analysed):
    """Thresholds that call every speaking segment in sync (as when a dubbed copy scores above the
    accept threshold by chance): the pictures match, the audio does not, so nothing is dropped as
    a duplicate, and both copies are flagged as twins of each other."""
    original, dubbed = one_run(analysed, "states.lip_sync_threshold=-100", "states.lip_sync_accept_threshold=-100")
    assert original.state != "rejected" and original.segments
    assert not duplicates(original) and not duplicates(dubbed)
    assert {s.state for s in original.segments} >= {"speaking"}
    twins = {s.segment_id: s.picture_twin_of for s in dubbed.segments if s.picture_twin_of}
    originals = {s.segment_id for s in original.segments}
    assert twins and set(twins.values()) <= originals
    # Each original segment a dubbed one matched is flagged back, and no longer called in_sync.
    flagged = [s for s in original.segments if s.picture_twin_of]
    assert flagged and all(s.sync_verdict != "in_sync" for s in flagged if s.state == "speaking")


def test_with_its_verdict_the_original_keeps_in_sync_and_only_the_copy_is_flagged(analysed):
    """The default thresholds, out_of_sync segments kept with their verdict: the dubbed copy's
    speech is out_of_sync, the original's in_sync; only the copy is flagged."""
    original, dubbed = one_run(analysed, "states.reject_out_of_sync=false")
    speaking = [s for s in original.segments if s.state == "speaking"]
    assert speaking and all(s.sync_verdict == "in_sync" and not s.picture_twin_of for s in speaking)
    assert not duplicates(original)
    dubbed_speech = [s for s in dubbed.segments if s.state == "speaking"]
    assert dubbed_speech and all(s.sync_verdict == "out_of_sync" for s in dubbed_speech)
    assert any(s.picture_twin_of in {o.segment_id for o in speaking} for s in dubbed.segments)
