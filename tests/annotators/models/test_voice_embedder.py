"""Resemblyzer's speaker embedding and the speaker turns built on it, on the real talking heads'
voices (five people: the fantasy renders share one woman's voice)."""

import functools
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from annotators.audio.voice_turns import label_gaps, merge_turns, speech_windows, voice_turns
from annotators.models.voice_embedder import VOICE_EMBEDDING_DISTANCE_THRESHOLD, VoiceEmbedder
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio

# clip -> speaker, by listening: the four fantasy renders animate one recording
VOICES = {
    "fantasy_end0.1.mp4": "fantasy_woman",
    "fantasy_end1.0.mp4": "fantasy_woman",
    "infinitetalk_ref_video.mp4": "older_man",
    "latentsync_demo3_video.mp4": "young_man",
    "talkvid_talk_emotion_gt.mp4": "short_haired_woman",
}


@functools.lru_cache(maxsize=16)
def _audio(folder: str, clip: str, start: float, seconds: float) -> np.ndarray:
    return decode_audio(Path(folder) / clip, t_start=start, duration=seconds)


@pytest.fixture(scope="module")
def embedder() -> VoiceEmbedder:
    return VoiceEmbedder()


def test_one_voice_across_clips_groups_and_other_voices_do_not(embedder, shared_media):
    """2.5-s spans, as the voice-face association sees them: each clip twice (two different
    stretches), five people. Grouped exactly by speaker at the default cut."""
    spans, truth = [], []
    for clip, speaker in VOICES.items():
        for start in (0.3, 1.0 if clip.startswith("fantasy") else 1.5):
            spans.append(_audio(str(shared_media), clip, start, 2.5))
            truth.append(speaker)
    labels = embedder.cluster(spans)
    assert None not in labels
    for i in range(len(spans)):
        for j in range(i + 1, len(spans)):
            assert (labels[i] == labels[j]) == (truth[i] == truth[j]), (truth[i], truth[j], labels)


def test_too_short_or_silent_spans_are_not_described(embedder):
    assert embedder.embed(np.zeros(ANALYSIS_SAMPLE_RATE * 2, dtype=np.float32)) is None
    assert embedder.embed(np.full(ANALYSIS_SAMPLE_RATE // 4, 0.1, dtype=np.float32)) is None
    assert embedder.cluster([np.zeros(100, dtype=np.float32)]) == [None]


def test_the_vector_does_not_depend_on_the_callers_thread_pools(embedder, shared_media):
    """A stage limits BLAS to the CPUs it declares (``curation.runtime.thread_limits``); the mel
    spectrogram's product rounds differently on one OpenBLAS thread and on two, so a voice seen by
    ``states`` and again by ``voice_identities`` would get two vectors unless the embedder fixes its own."""
    span = _audio(str(shared_media), "latentsync_demo3_video.mp4", 0.3, 2.2)
    vectors = []
    for threads in (1, 2, 1):
        with threadpool_limits(limits=threads, user_api="blas"):
            vectors.append(embedder.embed(span))
    assert all(np.array_equal(vectors[0], v) for v in vectors[1:])


def test_windows_split_intervals_evenly_and_turns_merge_one_voice():
    assert speech_windows([(0.0, 3.5), (4.0, 4.4)]) == [(0.0, 1.75), (1.75, 3.5), (4.0, 4.4)]
    windows = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (5.0, 6.0)]
    assert label_gaps([0, None, 1, 1], windows) == [0, 0, 1, 1]  # a tie in time goes to the earlier
    turns = merge_turns(windows, [0, 0, 1, 1])
    assert [(t.speaker, t.t_start, t.t_end) for t in turns] == [
        ("SPEAKER_00", 0.0, 2.0), ("SPEAKER_01", 2.0, 3.0), ("SPEAKER_01", 5.0, 6.0)
    ]


def test_turns_of_two_people_talking_in_turn(embedder, shared_media):
    """Old man 3 s, young man 3 s, old man 3 s, back to back: two speakers, changes within a
    window of the true 3 s and 6 s."""
    folder = str(shared_media)
    parts = [
        _audio(folder, "infinitetalk_ref_video.mp4", 1.0, 3.0),
        _audio(folder, "latentsync_demo3_video.mp4", 2.0, 3.0),
        _audio(folder, "infinitetalk_ref_video.mp4", 6.0, 3.0),
    ]
    audio = np.concatenate(parts)
    edges = np.cumsum([0] + [len(p) for p in parts]) / ANALYSIS_SAMPLE_RATE
    diarization = voice_turns(audio, [(edges[0], edges[3])], embedder, VOICE_EMBEDDING_DISTANCE_THRESHOLD)
    assert len(diarization.speakers) == 2
    assert diarization.turns[0].speaker == diarization.turns[-1].speaker != diarization.turns[1].speaker
    changes = [t.t_start for t in diarization.turns[1:]]
    assert len(changes) == 2
    for change, truth in zip(changes, edges[1:3], strict=True):
        assert abs(change - truth) <= 1.5, changes
