"""whisperx transcription + alignment through the annotator's own loading and inference code,
on tiny random models (real weights are not available offline): the text is noise, the timings,
chunking and data shapes are what is checked."""

from pathlib import Path

import numpy as np
import pytest

from annotators.speech_transcriber import SpeechTranscriber, Transcript, _align_model_args
from annotators.voice_activity import VoiceActivityDetector
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio
from curation.models.registry import ModelMissingError
from tests.annotators.tiny_models import build_tiny_wav2vec2_ctc, build_tiny_whisper_ct2

SR = ANALYSIS_SAMPLE_RATE


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> SpeechTranscriber:
    root = tmp_path_factory.mktemp("tiny_asr")
    asr = SpeechTranscriber(
        model=build_tiny_whisper_ct2(root / "whisper"),
        align_model=build_tiny_wav2vec2_ctc(root / "align"),
        batch_size=4,
    )
    asr.setup()
    return asr


@pytest.fixture(scope="module")
def long_speech(shared_media: Path) -> np.ndarray:
    """35 s of talking with pauses: more than one 30 s Whisper chunk."""
    return np.concatenate(
        [decode_audio(shared_media / "infinitetalk_ref_video.mp4"), decode_audio(shared_media / "latentsync_demo3_video.mp4")]
    )


def check_timings(transcript: Transcript, duration: float) -> None:
    starts = [s.t_start for s in transcript.segments]
    assert starts == sorted(starts)
    for segment in transcript.segments:
        assert 0.0 <= segment.t_start <= segment.t_end <= duration
        for word in segment.words:
            assert word.text.strip()
            assert segment.t_start - 1e-6 <= word.t_start <= word.t_end <= segment.t_end + 1e-6
            assert 0.0 <= word.score <= 1.0
        word_starts = [w.t_start for w in segment.words]
        assert word_starts == sorted(word_starts)


def test_long_audio_is_transcribed_in_chunks_with_timed_words(
    transcriber: SpeechTranscriber, long_speech: np.ndarray
):
    duration = len(long_speech) / SR
    transcript = transcriber.transcribe(long_speech)
    assert transcript.language == "en"
    assert len(transcript.segments) >= 2  # 35 s cannot go through Whisper as one chunk
    assert transcript.segments[-1].t_start > 14.0  # the second clip was transcribed too
    assert len(transcript.words) >= 2
    check_timings(transcript, duration)


def test_chunks_follow_the_voice_activity_it_is_given(transcriber: SpeechTranscriber, shared_media: Path):
    speech = decode_audio(shared_media / "talkvid_tys_gt.mp4")
    audio = np.concatenate([np.zeros(6 * SR, np.float32), speech])
    activity = VoiceActivityDetector().detect(audio)
    (speech_start, _), *_ = activity.speech_intervals()
    transcript = transcriber.transcribe(audio, activity)
    assert transcript.segments and transcript.segments[0].t_start >= speech_start - 0.01 > 5.9
    check_timings(transcript, len(audio) / SR)
    words = transcriber.words(audio, activity)
    assert [w.text for w in words] == [w.text for w in transcript.words]


def test_silence_gives_no_words(transcriber: SpeechTranscriber):
    transcript = transcriber.transcribe(np.zeros(5 * SR, np.float32))
    assert transcript.segments == () and transcript.words == []


def test_a_missing_registry_model_names_its_fetch_command():
    # The shared models folder has no Whisper weights; nothing may be downloaded instead.
    with pytest.raises(ModelMissingError, match="lpm-curate models fetch whisper"):
        SpeechTranscriber().setup()


def test_the_registry_alignment_file_loads_as_its_torchaudio_bundle(tmp_path: Path):
    weights = tmp_path / "wav2vec2_fairseq_base_ls960_asr_ls960.pth"
    weights.touch()
    assert _align_model_args(weights) == {"model_name": "WAV2VEC2_ASR_BASE_960H", "model_dir": str(tmp_path)}
    assert _align_model_args(tmp_path) == {"model_name": str(tmp_path)}
    stranger = tmp_path / "my_weights.pth"
    stranger.touch()
    with pytest.raises(ValueError, match="torchaudio"):
        _align_model_args(stranger)
