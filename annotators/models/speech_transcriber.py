"""Speech recognition with word timings: whisperx (faster-whisper transcription, wav2vec2 alignment).

Whisper transcribes the speech intervals that voice activity found (our Silero pass, handed to
whisperx as its VAD so the audio is searched for speech once), in chunks of at most 30 s; a
wav2vec2 CTC model then aligns every word to the audio. Models come from the registry
(``whisper``: a CTranslate2 Whisper folder; ``whisper_align_en``: torchaudio's
WAV2VEC2_ASR_BASE_960H weights) or from explicit local paths (a CTranslate2 folder; a
HuggingFace ``Wav2Vec2ForCTC`` folder or a torchaudio ``.pth`` file). Nothing is downloaded.

``language="auto"`` lets Whisper detect the language of each call; the aligner runs when the
detected language is the one it reads (``align_language``), and words of other languages keep
Whisper's segment timing shared out by word length (score 0), with a warning, because their
aligners are not in the registry.
"""

import atexit
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from annotators.models.model_location import locate_model
from annotators.models.model_wrapper import ModelWrapper, optional_import
from annotators.models.voice_activity import VoiceActivity, VoiceActivityDetector
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from curation.models.model_store import models_dir
from schemas.speech_rows import TranscribedWord

log = logging.getLogger(__name__)

AUTO_LANGUAGE = "auto"
WHISPER_CHUNK_S = 30.0  # Whisper's input window: longer speech is split at pauses
TORCHAUDIO_ALIGN_BUNDLE = "WAV2VEC2_ASR_BASE_960H"  # what ``whisper_align_en`` holds
PUNKT_FILES = ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab")


@dataclass(frozen=True)
class TranscriptSegment:
    text: str
    t_start: float
    t_end: float
    words: tuple[TranscribedWord, ...]


@dataclass(frozen=True)
class Transcript:
    language: str
    segments: tuple[TranscriptSegment, ...]

    @property
    def words(self) -> list[TranscribedWord]:
        return [word for segment in self.segments for word in segment.words]


@dataclass
class SpeechTranscriber(ModelWrapper):
    """whisperx transcription and alignment; ``setup`` loads both models once per worker."""

    model: str | Path = "whisper"  # registry name or a CTranslate2 Whisper folder
    align_model: str | Path = "whisper_align_en"  # registry name, HF wav2vec2 folder or torchaudio .pth
    language: str = "en"  # a Whisper language code, or "auto" to detect it
    align_language: str = "en"  # the language ``align_model`` reads (used with language="auto")
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 8
    cpu_threads: int = 2
    vad: VoiceActivityDetector = field(default_factory=VoiceActivityDetector)
    _model: Any = field(default=None, init=False, repr=False)  # the whisperx ASR pipeline
    _aligners: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _chunker: Any = field(default=None, init=False, repr=False)
    catalog_names: ClassVar[tuple[str, ...]] = ("whisper", "whisper_align_en", "silero_vad")

    def close(self) -> None:
        super().close()
        self.vad.close()

    def release(self, model: Any) -> None:
        self._aligners = {}
        self._chunker = None

    def load_model(self) -> Any:
        whisper_dir = locate_model(self.model)  # a missing model fails before the slow imports
        align_args = _align_model_args(self.align_model)
        whisperx = optional_import("whisperx", "whisperx is not installed: pip install 'lpm-curation[asr]'")
        self._chunker = _speech_intervals_vad()
        self._align_args = align_args
        asr = whisperx.load_model(
            str(whisper_dir),
            self.device,
            compute_type=self.compute_type,
            language=self._fixed_language(),
            vad_model=self._chunker,
            threads=self.cpu_threads,
            local_files_only=True,
        )
        if self.language != AUTO_LANGUAGE:
            self._aligner_for(self.language)
        return asr

    def _fixed_language(self) -> str | None:
        return None if self.language == AUTO_LANGUAGE else self.language

    def _language_to_ask(self) -> str | None:
        """None lets Whisper detect the language; an English-only model (``*.en``) cannot, and
        has only one language to give."""
        if self.language == AUTO_LANGUAGE and not self._model.model.model.is_multilingual:
            return "en"
        return self._fixed_language()

    def _aligner_for(self, language: str) -> Any:
        """The alignment model for ``language`` (loaded once), or None when none is configured."""
        if language not in self._aligners:
            if self.language == AUTO_LANGUAGE and language != self.align_language:
                log.warning("no word aligner for detected language %r: word times shared out by length", language)
                self._aligners[language] = None
            else:
                import whisperx

                aligner = whisperx.load_align_model(language, self.device, model_cache_only=True, **self._align_args)
                _ensure_sentence_splitter(aligner[1]["language"])
                self._aligners[language] = aligner
        return self._aligners[language]

    def transcribe(self, audio: np.ndarray, voice_activity: VoiceActivity | None = None) -> Transcript:
        """Words and segments of 16 kHz mono float32 ``audio``.

        ``voice_activity`` is the track's Silero result when the caller already has it; otherwise
        it is computed here.
        """
        import whisperx

        self.setup()
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        activity = voice_activity or self.vad.detect(samples)
        self._chunker.intervals = activity.speech_intervals(max_speech_s=WHISPER_CHUNK_S)
        result = self._model.transcribe(samples, batch_size=self.batch_size, language=self._language_to_ask())
        language = result.get("language") or self.language
        aligner = self._aligner_for(language)
        if aligner is not None:
            model, metadata = aligner
            result = whisperx.align(result["segments"], model, metadata, samples, self.device)
        duration = samples.size / ANALYSIS_SAMPLE_RATE
        segments = tuple(_segment(s, duration) for s in result["segments"])
        return Transcript(language, segments)

    def words(self, audio: np.ndarray, voice_activity: VoiceActivity | None = None) -> list[TranscribedWord]:
        return self.transcribe(audio, voice_activity).words


def _speech_intervals_vad() -> Any:
    """A whisperx VAD that hands back the intervals set on it, so whisperx chunks the audio on
    our Silero result instead of running its own VAD (whisperx merges them into <= 30 s chunks)."""
    from whisperx.diarize import Segment
    from whisperx.vads import Vad

    class SpeechIntervalsVad(Vad):
        def __init__(self) -> None:
            super().__init__(vad_onset=0.5)
            self.intervals: list[tuple[float, float]] = []

        def __call__(self, audio: object, **kwargs: object) -> list[Any]:
            return [Segment(t_start, t_end, "UNKNOWN") for t_start, t_end in self.intervals]

        @staticmethod
        def preprocess_audio(audio: np.ndarray) -> np.ndarray:
            return audio

        @staticmethod
        def merge_chunks(
            segments: list[Any], chunk_size: float, onset: float = 0.5, offset: float | None = None
        ) -> list[dict[str, Any]]:
            return Vad.merge_chunks(segments, chunk_size, onset, offset) if segments else []

    return SpeechIntervalsVad()


def _align_model_args(align_model: str | Path) -> dict[str, str]:
    """``load_align_model`` arguments that load from disk: a torchaudio bundle reads its weights
    file from ``model_dir`` (the file keeps its download name), a HF model from its folder."""
    path = locate_model(align_model)
    if path.is_dir():
        return {"model_name": str(path)}
    import torchaudio

    bundles = [
        name
        for name in torchaudio.pipelines.__all__
        if getattr(getattr(torchaudio.pipelines, name), "_path", None) == path.name
    ]
    if not bundles:
        raise ValueError(f"{path.name} is not the weights file of a torchaudio pipeline")
    return {"model_name": bundles[0], "model_dir": str(path.parent)}


def _ensure_sentence_splitter(language_code: str) -> None:
    """Make whisperx's sentence splitter (NLTK punkt_tab) loadable without its run-time download.

    A ``nltk_data`` folder in the models directory is used when present; otherwise an untrained
    Punkt (no abbreviation list) stands in. Sentence splits only group aligned words into
    segments; word timings do not depend on them.
    """
    import nltk
    from whisperx.utils import PUNKT_LANGUAGES

    language = PUNKT_LANGUAGES.get(language_code, "english")
    fetched = models_dir() / "nltk_data"
    if fetched.is_dir() and str(fetched) not in nltk.data.path:
        nltk.data.path.insert(0, str(fetched))
    try:
        nltk.data.find(f"tokenizers/punkt_tab/{language}/")
        return
    except LookupError:
        pass
    log.warning("NLTK punkt_tab/%s not found: whisperx sentence splits use an untrained Punkt", language)
    root = Path(tempfile.mkdtemp(prefix="lpm-punkt-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    folder = root / "tokenizers" / "punkt_tab" / language
    folder.mkdir(parents=True)
    for name in PUNKT_FILES:
        (folder / name).touch()
    nltk.data.path.append(str(root))


def _segment(segment: dict[str, Any], duration: float) -> TranscriptSegment:
    t_start = _clamp(segment["start"], duration)
    t_end = max(t_start, _clamp(segment["end"], duration))
    words = tuple(_words(segment, t_start, t_end, duration))
    return TranscriptSegment(segment["text"].strip(), t_start, t_end, words)


def _words(segment: dict[str, Any], t_start: float, t_end: float, duration: float) -> list[TranscribedWord]:
    """Aligned words; a word alignment could not time gets a share of its segment by its length."""
    aligned = segment.get("words") or [{"word": w} for w in segment["text"].split()]
    lengths = np.array([len(w["word"]) + 1 for w in aligned], dtype=np.float64)
    edges = t_start + (t_end - t_start) * np.concatenate([[0.0], np.cumsum(lengths)]) / max(lengths.sum(), 1)
    words = []
    for i, word in enumerate(aligned):
        timed = "start" in word and "end" in word
        start = _clamp(word["start"], duration) if timed else float(edges[i])
        end = max(start, _clamp(word["end"], duration)) if timed else float(edges[i + 1])
        score = float(word.get("score", 0.0)) if timed else 0.0
        words.append(TranscribedWord(word["word"], start, end, score if np.isfinite(score) else 0.0))
    return words


def _clamp(t: float, duration: float) -> float:
    return float(min(max(float(t), 0.0), duration))
