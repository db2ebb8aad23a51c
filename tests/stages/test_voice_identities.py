"""``voice_identities``: voices matched to faces on the run's evidence, and the videos whose owners
change labelled again the way ``states`` labelled them."""

import copy
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from apps.bench.spliced_conversations import build_spliced_set
from apps.bench.state_scoring import predicted_frame_states
from apps.bench.talking_head_sources import load_talking_heads
from apps.bench.truth_matching import expand_runs
from curation.config.workflow import Workflow, load_workflow
from curation.run.decision_parts import DecisionParts
from curation.run.pipeline import RunRequest, run_pipeline
from curation.run.run_scope_steps import DecideRequest, StoredDecision, decide_and_store, split_blocks
from curation.runtime.stage_runner import run_stage
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from schemas.performer_states import PerformerState
from schemas.voice_span import VoiceSpan
from stages.states import StatesStage
from stages.voice_identities import VoiceIdentitiesStage, VoiceIdentitiesSummary
from stages.workflow_stages import WORKFLOW_STAGES


def summary(spans: list[tuple[str, str, str | None, float]], vectors: dict[str, list[float]]) -> VoiceIdentitiesSummary:
    """A video's summary from (face, voice, identity, sync) per span."""
    return VoiceIdentitiesSummary(
        spans=[
            VoiceSpan(f"{face}{voice}", face, voice, 0, 50, sync)
            for face, voice, _identity, sync in spans
        ],
        identity_of_track={f"{face}{voice}": identity for face, voice, identity, _sync in spans},
        voice_vectors=vectors,
        sync_baseline=-1.0,
    )


def test_decide_pools_spans_by_identity_and_voice_across_videos():
    """Seed 3's conversation #0 of ``bench speaking`` swaps alone (foreign 1.21 + 2.17 against own
    1.26 + 1.50); a second video of the same two people and voices gives the run the answer."""
    p_voice, q_voice = [1.0, 0.0], [0.0, 1.0]
    stage = VoiceIdentitiesStage()
    stage.setup()
    summaries = {
        "c0": summary([("f0", "0", "id-p", 1.26), ("f1", "0", "id-q", 1.21), ("f0", "1", "id-p", 2.17),
                       ("f1", "1", "id-q", 1.50)], {"0": p_voice, "1": q_voice}),
        "c1": summary([("g0", "0", "id-p", 1.42), ("g1", "1", "id-q", 2.25), ("g0", "1", "id-p", 0.60)],
                      {"0": p_voice, "1": q_voice}),
        "solo": None,  # a video with no voice-face association
    }
    decision = stage.decide(summaries)
    assert set(decision) == {"c0", "c1"}
    assert decision["c0"].run_voices == {"0": "voice-0000", "1": "voice-0001"}
    assert decision["c1"].run_voices == decision["c0"].run_voices
    assert decision["c0"].run_owners == {"voice-0000": "id-p", "voice-0001": "id-q"}
    assert decision["c0"].foreign == [["f10", 0, 50], ["f01", 0, 50]]
    # Without identities no face links the videos, and c0 keeps the answer of its own spans.
    for s in summaries.values():
        if s is not None:
            s.identity_of_track = dict.fromkeys(s.identity_of_track)
    alone = stage.decide(summaries)["c0"]
    assert alone.run_owners == {"voice-0000": "c0/f1", "voice-0001": "c0/f0"}
    assert alone.foreign == [["f00", 0, 50], ["f11", 0, 50]]
    assert stage.decide({"solo": None}) == {}


def test_the_decision_survives_the_run_store(tmp_path):
    """Summaries and the decision travel through the ledger's plain-data files (as on a cluster):
    NaN synchrony, vectors and string keys come back as the decide task wrote them."""
    stage = VoiceIdentitiesStage()
    summaries = {
        "v1": summary([("f0", "0", "id-p", 1.9), ("f1", "0", "id-q", float("nan")), ("f1", "1", "id-q", 1.2)],
                      {"0": [1.0, 0.0], "1": [0.0, 1.0]}),
        "v2": None,
    }
    ledger = Ledger(RunStore(str(tmp_path)))
    for video_id, video_summary in summaries.items():
        ledger.save_summary(video_id, 1, video_summary)
    assert decide_and_store(DecideRequest(stage, str(tmp_path), 1, tuple(summaries))) == 2
    stored = StoredDecision(str(tmp_path), stage.name, whole=True, hint=stage.decision_hint())()
    stage.setup()
    assert stored == stage.decide(summaries)
    assert stored["v1"].run_owners == {"voice-0000": "id-p", "voice-0001": "id-q"}
    # an apply actor reads its video's part alone; a video without voices has an empty part
    parts = StoredDecision(str(tmp_path), stage.name, hint=stage.decision_hint())()
    assert isinstance(parts, DecisionParts)
    assert parts.for_video("v1") == {"v1": stored["v1"]} and parts.for_video("v2") == {}


@pytest.mark.slow
def test_moving_a_voice_to_the_other_face_labels_the_video_again(conversation, tmp_path):
    truth, analysed = conversation
    states = StatesStage()
    states.setup()
    labelled = run_stage(states, copy.deepcopy(analysed))
    association = labelled.voice_faces
    assert association.voice_vectors and all(s.voice is not None for s in association.spans), (
        "this test needs the voice encoder (resemblyzer) to describe every span's voice"
    )
    # The identity stage's answer on its own: one identity per face group of the association.
    face_of = {s.track_id: s.face for s in association.spans}
    for track in labelled.tracks:
        track.identity_id = f"person-{face_of.get(track.track_id, track.track_id)}"
    stage = VoiceIdentitiesStage()
    stage.setup()
    n = truth["n_frames"]
    expected = np.asarray(expand_runs(truth["state"], n), dtype=np.int8)
    assert np.mean(predicted_frame_states(labelled, n) == expected) > 0.95

    # Its own evidence alone, through the run store: the run agrees and nothing is labelled again.
    ledger = Ledger(RunStore(str(tmp_path)))
    ledger.save_summary(labelled.video_id, 1, stage.summarize(labelled))
    decide_and_store(DecideRequest(stage, str(tmp_path), 1, (labelled.video_id,)))
    own = StoredDecision(str(tmp_path), stage.name, hint=stage.decision_hint())().for_video(labelled.video_id)
    same = stage.apply(copy.deepcopy(labelled), own)
    assert same.segments == labelled.segments and not same.voice_faces.relabelled
    assert same.voice_faces.scope == "run" and len(same.voice_faces.run_voices) == 2
    assert same.voice_faces.owners == association.owners  # the video's own answer stays

    # Each voice given to the other face: speakers become listeners and moving listeners speakers.
    decided = own[labelled.video_id]
    faces = sorted(set(decided.run_owners.values()))
    swapped_owners = {voice: faces[1 - faces.index(face)] for voice, face in decided.run_owners.items()}
    foreign = [[s.track_id, s.first, s.end] for s in association.spans
               if swapped_owners[decided.run_voices[s.voice]] != f"person-{s.face}"]
    swapped = {labelled.video_id: replace(decided, run_owners=swapped_owners, foreign=foreign)}
    moved = stage.apply(copy.deepcopy(labelled), swapped)
    assert moved.voice_faces.relabelled and moved.voice_faces.foreign == foreign
    predicted = predicted_frame_states(moved, n)
    for part in truth["parts"]:
        frames = predicted[part["first_frame"] : part["first_frame"] + part["n_frames"]]
        if part["kind"] == "speaking":
            assert np.mean(frames == PerformerState.LISTENING) > 0.8, part
        if part["kind"] == "listening":
            assert np.mean(frames == PerformerState.SPEAKING) > 0.8, part
    assert all(s.identity_id == f"person-{face_of.get(s.track_id, s.track_id)}" for s in moved.segments)

    # Moved back, the video is labelled exactly as states labelled it, and says so.
    back = stage.apply(moved, own)
    assert back.segments == [
        replace(s, identity_id=f"person-{face_of.get(s.track_id, s.track_id)}") for s in labelled.segments
    ]
    assert back.rejections == labelled.rejections  # replaced, not added to
    assert not back.voice_faces.relabelled


@pytest.mark.slow
def test_a_ray_run_gives_voices_to_faces_on_the_evidence_of_all_its_videos(
    ray_session: str, shared_media: Path, tmp_path: Path
):
    """Spliced conversations #0 and #4 of ``bench speaking`` seed 3 (``infinitetalk`` is in both)
    ingested by a Ray run that stops after ``voice_identities``. Alone, each gives each voice to
    the other face (0.375 and 0.342 of their frames right); pooled, the two conversations' spans
    put both right (own against swapped pairings: 7.06 against 5.38 and 4.91 against 4.31),
    through the workers' summaries, the stored decision and the workers' relabelling."""
    spliced = build_spliced_set(load_talking_heads(shared_media), tmp_path / "in", n_videos=5, seed=3, only={0, 4})
    truths = {}
    for path in spliced:
        truth = json.loads(path.read_text())
        path.unlink()  # only the videos are inputs
        truths[truth["video"]] = truth
    default = load_workflow("default", WORKFLOW_STAGES)
    until = [s.name for s in default.stages].index("voice_identities") + 1
    workflow = Workflow("voices", "default until voice_identities", default.stages[:until], "test")
    out = tmp_path / "run"
    result = run_pipeline(RunRequest(str(tmp_path / "in"), str(out), workflow, executor="ray"))
    assert (result.accounting.inputs, result.accounting.kept) == (2, 2)

    ledger = Ledger(RunStore(str(out)))
    final = len(split_blocks(workflow.stages)) - 1
    relabelled = {}
    for video_id in ledger.finished_video_ids(final):
        work = ledger.record(video_id, final)
        truth = truths[Path(work.uri).name]
        n = truth["n_frames"]
        expected = np.asarray(expand_runs(truth["state"], n), dtype=np.int8)
        assert np.mean(predicted_frame_states(work, n) == expected) > 0.95, truth["name"]
        assert work.voice_faces.scope == "run"
        relabelled[truth["name"]] = work.voice_faces.relabelled
    assert relabelled == {"conversation_000": True, "conversation_004": True}
