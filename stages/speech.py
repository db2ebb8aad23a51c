"""Voice activity for every analysis frame, plus words and speakers when their models are there.

Works on the audio decoded once by ``audio_analysis``. Silero VAD always runs (its model ships in
its wheel). ASR (whisperx) and diarization (pyannote) run when enabled: ``auto`` runs them when
their model is in the models directory and skips them otherwise; ``on`` requires the model and
fails the video with the fetch command when it is missing; ``off`` never runs them. Without
pyannote's (gated) model, ``auto`` diarizes with Resemblyzer's speaker encoder, which installs with
the package (``annotators.audio.voice_turns``). Speech turns come from diarization when it ran, else from
voice-activity intervals.
"""

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

from annotators.models.speech_transcriber import AUTO_LANGUAGE
from annotators.models.voice_activity import VoiceActivityDetector
from annotators.models.voice_embedder import VOICE_ENCODER_MODEL_NAME
from curation.models.model_catalog import MODEL_CATALOG
from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice, resolve_device, whisper_compute_type
from curation.runtime.products import SpeechResult
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples
from schemas.speech_rows import SpeakerTurn

Toggle = Literal["auto", "on", "off"]


@dataclass
class SpeechStage(Stage):
    name: ClassVar[str] = "speech"
    needs: ClassVar[tuple[str, ...]] = ("audio", "analysis")
    adds: ClassVar[tuple[str, ...]] = ("speech",)
    resources: ClassVar[Resources] = Resources(cpus=1)

    vad_threshold: float = field(default=0.5, metadata={"range": (0, 1)})
    min_speech_s: float = field(default=0.25, metadata={"range": (0, None)})
    min_silence_s: float = field(default=0.15, metadata={"range": (0, None)})
    asr: Toggle = "auto"
    # The Whisper model: a registry name (one entry per size, e.g. ``whisper`` = small) or a local
    # CTranslate2 folder. The language: a Whisper code, or ``auto`` to detect it per video (the
    # English aligner then runs on English speech; other languages keep segment-level timing).
    asr_model: str = "whisper"
    asr_language: str = "en"
    asr_batch_size: int = field(default=8, metadata={"range": (1, 256)})
    diarization: Toggle = "auto"
    # auto: CUDA where the worker sees a GPU (whisperx in float16, pyannote on CUDA); set gpus > 0
    # for Ray to place the stage on GPU nodes in a pool of its own.
    device: DeviceChoice = "auto"
    gpus: float = field(default=0.0, metadata={"range": (0, 8)})

    def _runs_asr(self) -> bool:
        return self.asr == "on" or (self.asr == "auto" and is_available(self.asr_model))

    def _diarizer_model(self) -> str | None:
        """pyannote's pipeline, else (``auto``) Resemblyzer's encoder; None: no diarization."""
        if self.diarization == "on" or (self.diarization == "auto" and is_available("diarization")):
            return "diarization"
        if self.diarization == "auto" and is_available(VOICE_ENCODER_MODEL_NAME):
            return VOICE_ENCODER_MODEL_NAME
        return None

    def model_choices(self) -> list[ModelChoice]:
        choices = [ModelChoice.using("voice activity", self.name, "silero_vad")]
        registered = self.asr_model in MODEL_CATALOG
        if self._runs_asr() and registered:
            choices.append(ModelChoice.using("transcription", self.name, self.asr_model))
            if self.asr_language in ("en", AUTO_LANGUAGE):
                choices.append(ModelChoice.using("word alignment", self.name, "whisper_align_en"))
        elif self.asr == "auto" and registered:
            choices.append(ModelChoice.instead("transcription", self.name, "no transcription", self.asr_model,
                                               "no transcripts or word timings"))
        diarizer = self._diarizer_model()
        if diarizer is not None:
            choices.append(ModelChoice.using("speaker turns", self.name, diarizer))
        elif self.diarization == "auto":
            choices.append(ModelChoice.instead("speaker turns", self.name, "voice-activity intervals", "diarization",
                                               "turns carry no speaker labels"))
        return choices

    def setup(self) -> None:
        self._vad = VoiceActivityDetector(self.vad_threshold, self.min_speech_s, self.min_silence_s)
        self._asr = None
        self._diarizer = None
        self._voice_embedder = None
        if self._runs_asr():
            from annotators.models.speech_transcriber import SpeechTranscriber

            device = resolve_device(self.device)
            self._asr = SpeechTranscriber(
                model=self.asr_model,
                language=self.asr_language, device=device, compute_type=whisper_compute_type(device),
                batch_size=self.asr_batch_size,
            )
        diarizer = self._diarizer_model()
        if diarizer == "diarization":
            from annotators.models.speaker_diarizer import SpeakerDiarizer

            self._diarizer = SpeakerDiarizer(device=resolve_device(self.device))
        elif diarizer == VOICE_ENCODER_MODEL_NAME:
            from annotators.models.voice_embedder import VoiceEmbedder

            self._voice_embedder = VoiceEmbedder()

    def process(self, work: VideoWork) -> VideoWork:
        analysis = work.analysis
        audio = audio_samples(work)
        n_frames = analysis.n_frames
        if audio.size == 0:
            vad = np.zeros(n_frames, dtype=np.float32)
            intervals: list[tuple[float, float]] = []
        else:
            vad = self._vad.frame_probabilities(audio, analysis.fps, n_frames)
            intervals = self._vad.speech_intervals(audio)
        speech = SpeechResult(
            vad_prob=vad.astype(np.float16),
            intervals=[(float(a), float(b)) for a, b in intervals],
            turns=[SpeakerTurn(None, float(a), float(b)) for a, b in intervals],
        )
        if self._asr is not None and audio.size:
            # hand over the voice activity already computed, so it is not run again inside ASR
            words = self._asr.words(audio, self._vad.detect(audio))
            speech.words = list(words)
            speech.asr = "whisperx"
        if self._diarizer is not None and audio.size:
            speech.turns = list(self._diarizer.turns(audio))
            speech.diarization = "pyannote"
        elif self._voice_embedder is not None and intervals:
            from annotators.audio.voice_turns import voice_turns

            speech.turns = list(voice_turns(audio, intervals, self._voice_embedder).turns)
            speech.diarization = "resemblyzer"
        work.speech = speech
        return work

