"""The states stage ties voices to faces across a video: lips that move under another face's voice
are listening. Checked on a spliced conversation of real talking heads (``bench speaking``), where
every frame's truth is known."""

import copy

import numpy as np
import pytest

from annotators.audio.span_voices import merged_intervals
from apps.bench.state_scoring import predicted_frame_states
from apps.bench.truth_matching import expand_runs
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState
from schemas.speech_rows import SpeakerTurn
from stages.states import StatesStage


def states_of(conversation: tuple[dict, VideoWork], **settings) -> tuple[VideoWork, np.ndarray, np.ndarray]:
    truth, work = conversation
    stage = StatesStage(**settings)
    stage.setup()
    done = run_stage(stage, copy.deepcopy(work))
    n = truth["n_frames"]
    return done, np.asarray(expand_runs(truth["state"], n), dtype=np.int8), predicted_frame_states(done, n)


def moving_listener_frames(truth: dict) -> np.ndarray:
    frames = np.zeros(truth["n_frames"], dtype=bool)
    for part in truth["parts"]:
        if part["kind"] == "listening":
            frames[part["first_frame"] : part["first_frame"] + part["n_frames"]] = True
    return frames


@pytest.mark.slow
def test_moving_lips_under_the_other_persons_voice_are_listening(conversation):
    truth = conversation[0]
    moving = moving_listener_frames(truth)
    assert moving.sum() >= 100
    without, expected, before = states_of(conversation, voice_faces=False)
    assert without.voice_faces is None
    assert np.mean(before[moving] == PerformerState.SPEAKING) > 0.8  # the mouth-motion rule alone
    work, expected, after = states_of(conversation)
    assert np.mean(after[moving] == PerformerState.LISTENING) > 0.8
    assert np.mean(after == expected) > np.mean(before == expected) + 0.2
    assert np.mean(after[~moving] == expected[~moving]) >= np.mean(before[~moving] == expected[~moving]) - 0.02
    association = work.voice_faces
    assert association.voices == "voice_embedding"  # Resemblyzer's, installed with the package
    assert len(set(association.owners.values())) == 2  # two voices, two different faces
    # The segments carry it: no segment over a moving listener is dominated by "speaking".
    for segment in work.segments:
        first = segment.first_frame
        if moving[first : first + segment.n_frames].mean() > 0.8:
            assert segment.state == "listening", segment.segment_id


def test_the_mfcc_voice_profile_still_serves_when_asked_for(conversation):
    """The no-weights voice grouping (``voice_embedder: fallback``) ties the same voices to the
    same faces on this conversation, and says which grouping it used."""
    _learned, expected, by_embedding = states_of(conversation)
    profile, _expected, by_profile = states_of(conversation, voice_embedder="fallback")
    assert profile.voice_faces.voices == "voice_profile"
    assert np.mean(by_profile == expected) == np.mean(by_embedding == expected) > 0.95
    assert StatesStage(voice_embedder="fallback").model_choices()[1].fallback == "the mean-MFCC voice profile"


@pytest.mark.slow
def test_diarized_turns_decide_the_voices_when_present(conversation):
    """With speaker turns from diarization (here the splice's own truth, as a perfect diarizer
    would give them), spans take their voice from the turns instead of the voice profile."""
    truth, work = conversation
    diarized = copy.deepcopy(work)
    fps = truth["fps"]
    diarized.speech.turns = [
        SpeakerTurn(
            speaker=part["voice_person"],
            t_start=part["first_frame"] / fps,
            t_end=(part["first_frame"] + part["n_frames"]) / fps,
        )
        for part in truth["parts"]
        if part["voice_person"]
    ]
    diarized.speech.diarization = "pyannote"
    done, expected, predicted = states_of((truth, diarized))
    association = done.voice_faces
    assert association.voices == "diarization"
    assert {span.voice for span in association.spans} == {
        p["voice_person"] for p in truth["parts"] if p["voice_person"]
    }
    assert np.mean(predicted[moving_listener_frames(truth)] == PerformerState.LISTENING) > 0.8
    assert np.mean(predicted == expected) > 0.9


def test_overlapping_spans_share_a_stretch_and_spans_across_a_cut_do_not():
    # Two faces of one shot overlap in time and hear one sound; a cut only touches.
    assert merged_intervals([(4.0, 6.0), (0.0, 2.0), (1.5, 3.0), (3.0, 4.0)]) == [(0.0, 3.0), (3.0, 4.0), (4.0, 6.0)]
