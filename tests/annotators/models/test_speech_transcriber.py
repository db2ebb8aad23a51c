"""whisperx transcription + alignment through the annotator's own loading and inference code,
on tiny random models (real weights are not available offline): the text is noise, the timings,
chunking and data shapes are what is checked."""

from pathlib import Path

import numpy as np
import pytest

from annotators.models.speech_transcriber import SpeechTranscriber, Transcript, _align_model_args
from annotators.models.voice_activity import VoiceActivityDetector
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio
from curation.models.model_store import ModelMissingError, model_spec
from tests.annotators.tiny_models import (
    build_random_torchaudio_aligner,
    build_tiny_wav2vec2_ctc,
    build_tiny_whisper_ct2,
)

SR = ANALYSIS_SAMPLE_RATE


@pytest.fixture(scope="module")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models directory whose ``whisper`` entry is a tiny random CTranslate2 Whisper."""
    root = tmp_path_factory.mktemp("models")
    build_tiny_whisper_ct2(tmp_path_factory.mktemp("whisper_src"), output=root / model_spec("whisper").path)
    return root


@pytest.fixture(scope="module")
def tiny_aligner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_wav2vec2_ctc(tmp_path_factory.mktemp("tiny_align"))


@pytest.fixture(scope="module")
def transcriber(models_root: Path, tiny_aligner: Path) -> SpeechTranscriber:
    asr = SpeechTranscriber(model="whisper", align_model=tiny_aligner, batch_size=4)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LPM_MODELS_DIR", str(models_root))
        asr.setup()  # the registry name resolves in the models directory
    return asr


@pytest.fixture(scope="module")
def long_speech(shared_media: Path) -> np.ndarray:
    """35 s of talking with pauses: more than one 30 s Whisper chunk."""
    clips = ("infinitetalk_ref_video.mp4", "latentsync_demo3_video.mp4")
    return np.concatenate([decode_audio(shared_media / name) for name in clips])


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


@pytest.mark.slow  # builds and loads the models (about 25 s)
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


@pytest.mark.slow
def test_default_models_load_from_the_registry(models_root: Path, shared_media: Path):
    """``whisper`` and ``whisper_align_en`` by name: the alignment file is torchaudio's
    WAV2VEC2_ASR_BASE_960H format (random weights, full size), read from the models directory."""
    build_random_torchaudio_aligner(models_root / model_spec("whisper_align_en").path)
    asr = SpeechTranscriber()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LPM_MODELS_DIR", str(models_root))
        asr.setup()
    speech = decode_audio(shared_media / "talkvid_tys_gt.mp4")
    transcript = asr.transcribe(speech)
    assert transcript.words
    check_timings(transcript, len(speech) / SR)


@pytest.mark.slow  # loads the tiny models again, with language detection
def test_auto_language_detects_and_aligns_only_the_aligners_language(
    models_root: Path, tiny_aligner: Path, shared_media: Path
):
    """``auto``: Whisper detects the language (the tiny test model is English-only, as ``*.en``
    models are, so it answers "en" without detection: a multilingual model's detection is not
    exercised here); the aligner runs only when it is the aligner's own language, otherwise words
    share their segment's time by length with score 0. Both ways the timings stay inside the audio."""
    speech = decode_audio(shared_media / "talkvid_tys_gt.mp4")
    for align_language in ("en", "xx"):
        asr = SpeechTranscriber(model="whisper", align_model=tiny_aligner, language="auto",
                                align_language=align_language, batch_size=4)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("LPM_MODELS_DIR", str(models_root))
            transcript = asr.transcribe(speech)
        assert transcript.language == "en"
        check_timings(transcript, len(speech) / SR)
        if transcript.language != align_language:
            assert all(word.score == 0.0 for word in transcript.words)
            assert asr._aligners == {transcript.language: None}
        else:
            assert list(asr._aligners) == [align_language]
