"""Voice activity for every analysis frame, plus words and speakers when their models are there.

Works on the audio decoded once by ``audio_analysis``. Silero VAD always runs (its model ships in
its wheel). ASR (whisperx) and diarization (pyannote) run when enabled: ``auto`` runs them when
their model is in the models directory and skips them otherwise; ``on`` requires the model and
fails the video with the fetch command when it is missing; ``off`` never runs them. Speech turns
come from diarization when it ran, else from voice-activity intervals.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from annotators.models.voice_activity import VoiceActivityDetector
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice, resolve_device, whisper_compute_type
from curation.runtime.products import SpeechResult
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.stored_audio import audio_samples
from curation.runtime.video_work import VideoWork

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
    asr_language: str = "en"
    asr_batch_size: int = field(default=8, metadata={"range": (1, 256)})
    diarization: Toggle = "auto"
    # auto: CUDA where the worker sees a GPU (whisperx in float16, pyannote on CUDA); set gpus > 0
    # for Ray to place the stage on GPU nodes in a pool of its own.
    device: DeviceChoice = "auto"
    gpus: float = field(default=0.0, metadata={"range": (0, 8)})

    def setup(self) -> None:
        self._vad = VoiceActivityDetector(self.vad_threshold, self.min_speech_s, self.min_silence_s)
        self._asr = None
        self._diarizer = None
        if self.asr == "on" or (self.asr == "auto" and is_available("whisper")):
            from annotators.models.speech_transcriber import SpeechTranscriber

            device = resolve_device(self.device)
            self._asr = SpeechTranscriber(
                language=self.asr_language, device=device, compute_type=whisper_compute_type(device),
                batch_size=self.asr_batch_size,
            )
        if self.diarization == "on" or (self.diarization == "auto" and is_available("diarization")):
            from annotators.models.speaker_diarizer import SpeakerDiarizer

            self._diarizer = SpeakerDiarizer(device=resolve_device(self.device))

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
            turns=[{"t_start": a, "t_end": b, "speaker": None} for a, b in intervals],
        )
        if self._asr is not None and audio.size:
            # hand over the voice activity already computed, so it is not run again inside ASR
            words = self._asr.words(audio, self._vad.detect(audio))
            speech.words = [_plain(w) for w in words]
            speech.asr = "whisperx"
        if self._diarizer is not None and audio.size:
            speech.turns = [_plain(t) for t in self._diarizer.turns(audio)]
            speech.diarization = "pyannote"
        work.speech = speech
        return work


def _plain(item: Any) -> dict[str, Any]:
    return dict(item.__dict__) if hasattr(item, "__dict__") else dict(item)
