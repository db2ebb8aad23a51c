"""A conversation filmed by two cameras gives pairs across the two files, at the cameras' offset;
an unrelated conversation that shares a voice with them gives none (``two_camera_runs``)."""

from pathlib import Path

import numpy as np
import pytest
from two_camera_runs import CAMERA_A, CAMERA_B, CAMERA_B_START_S, OTHER

from annotators.speaking.run_voice_association import run_voice_clusters
from curation.config.workflow import load_workflow
from curation.manifests.manifest_writer import read_manifest
from curation.run.run_info import read_run_info
from curation.run.run_scope_steps import split_blocks
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from stages.cross_video_pairs import ConversationSegment, CrossVideoPairsStage, CrossVideoPairsSummary
from stages.workflow_stages import WORKFLOW_STAGES

OFFSET_TOLERANCE_S = 0.04  # one frame at 25 fps


def table(run: Path, name: str) -> list[dict]:
    return read_manifest(RunStore(str(run)), name).to_pylist()


@pytest.mark.slow
def test_two_cameras_of_one_conversation_are_paired_at_their_offset(two_camera_run: Path):
    video_of = {row["uri"].rsplit("/", 1)[-1]: row["video_id"] for row in table(two_camera_run, "videos")}
    segments = {row["segment_id"]: row for row in table(two_camera_run, "segments")}
    pairs = table(two_camera_run, "pairs")
    across = [p for p in pairs if p["listener_video_id"] != p["video_id"]]
    assert across, f"no pair across videos among {len(pairs)} pairs"
    cameras = {video_of[CAMERA_A], video_of[CAMERA_B]}
    print("\npairs across the two cameras:", [(p["relation"], round(p["overlap_s"], 2), p["offset_s"],
                                                round(p["alignment_peak"], 3)) for p in across])
    for pair in across:
        assert {pair["video_id"], pair["listener_video_id"]} == cameras
        speaking, listening = segments[pair["speaking_segment_id"]], segments[pair["listening_segment_id"]]
        assert speaking["video_id"] == pair["video_id"] and speaking["state"] == "speaking"
        assert listening["video_id"] == pair["listener_video_id"] and listening["state"] == "listening"
        assert speaking["identity_id"] != listening["identity_id"]
        # camera B's clock runs CAMERA_B_START_S behind camera A's
        truth = -CAMERA_B_START_S if pair["listener_video_id"] == video_of[CAMERA_B] else CAMERA_B_START_S
        assert abs(pair["offset_s"] - truth) <= OFFSET_TOLERANCE_S
        assert pair["alignment_peak"] >= 0.5
        if pair["relation"] == "same_span":  # the two segments share that much conversation time
            shared = (min(speaking["t_end"], listening["t_end"] - pair["offset_s"])
                      - max(speaking["t_start"], listening["t_start"] - pair["offset_s"]))
            assert shared == pytest.approx(pair["overlap_s"], abs=1e-3)
    # The unrelated conversation hears A's voice too (so it was a candidate), but not the same
    # sound: no pair across to it
    other = video_of[OTHER]
    assert not [p for p in across if other in (p["video_id"], p["listener_video_id"])]
    heard = run_voices_heard(two_camera_run, list(video_of.values()))
    assert heard[other] & heard[video_of[CAMERA_A]], "the unrelated conversation shares a run voice"
    # Pairs within one video say so
    for pair in pairs:
        if pair["listener_video_id"] == pair["video_id"]:
            assert pair["offset_s"] == 0.0 and pair["alignment_peak"] is None


def run_voices_heard(run: Path, video_ids: list[str]) -> dict[str, set[int]]:
    """The run voices each video hears, from the summaries the stage stored in the run (in the
    block that ends with it in the run's workflow)."""
    store = RunStore(str(run))
    workflow = load_workflow(read_run_info(store).workflow_name, WORKFLOW_STAGES)
    block, stage = next((i, ends_with) for i, (_stages, ends_with) in enumerate(split_blocks(workflow.stages))
                        if isinstance(ends_with, CrossVideoPairsStage))
    stored = Ledger(store).summaries(video_ids, block, hint=CrossVideoPairsStage.summary_hint())
    vectors = {(video_id, voice): np.asarray(vector) for video_id, s in stored.items()
               for voice, vector in s.voices.items()}
    clusters = run_voice_clusters(vectors, stage.voice_distance_threshold)
    return {video_id: {n for (v, _), n in clusters.items() if v == video_id} for video_id in video_ids}


def summary(voices: dict[str, list[float]], envelope: np.ndarray,
            segments: list[ConversationSegment]) -> CrossVideoPairsSummary:
    return CrossVideoPairsSummary(voices, segments, envelope.astype(np.float16))


def segment(segment_id: str, state: str, t_start: float, t_end: float, identity: str) -> ConversationSegment:
    return ConversationSegment(segment_id, segment_id.rsplit("-", 1)[0], identity, state, t_start, t_end)


def test_decide_pairs_only_videos_that_share_a_voice_and_a_sound():
    """Three recordings of one sound; the third shares it but hears no voice of the others, and a
    fourth shares a voice but not the sound: only the first two are paired."""
    rng = np.random.default_rng(1)
    sound = 40 + 10 * rng.standard_normal(3000)  # a 30-s loudness envelope, 10 ms hops
    unrelated = 40 + 10 * rng.standard_normal(3000)
    voice_p, voice_q, voice_r = (np.eye(4)[i].tolist() for i in range(3))
    summaries = {
        "v1": summary({"0": voice_p, "1": voice_q}, sound[:2500], [segment("v1-t0-g0", "speaking", 5.0, 9.0, "P")]),
        "v2": summary({"0": voice_q, "1": voice_p}, sound[300:],  # starts 3 s into the conversation
                      [segment("v2-t0-g0", "listening", 2.5, 6.5, "Q"),
                       segment("v2-t1-g0", "listening", 3.0, 6.0, "P")]),
        "v3": summary({"0": voice_r}, sound, [segment("v3-t0-g0", "listening", 5.0, 9.0, "R")]),
        "v4": summary({"0": voice_p}, unrelated, [segment("v4-t0-g0", "listening", 5.0, 9.0, "Q")]),
    }
    decision = CrossVideoPairsStage().decide(summaries)
    assert list(decision) == ["v1"]
    (row,) = decision["v1"]
    assert row.listening_segment_id == "v2-t0-g0"  # never P listening to P
    assert row.listener_video_id == "v2" and row.offset_s == pytest.approx(-3.0, abs=0.01)
    assert row.relation == "same_span" and row.overlap_s == pytest.approx(3.5, abs=0.01)
