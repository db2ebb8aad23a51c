"""Who speaks when: pyannote.audio speaker diarization, as turns and as a per-frame matrix.

The pipeline is a local folder laid out like ``pyannote/speaker-diarization-community-1``
(``config.yaml`` plus ``segmentation/``, ``embedding/`` and ``plda/``), from the registry
(``diarization``) or an explicit path, loaded with ``Pipeline.from_pretrained`` so nothing is
fetched. pyannote 4 sends usage telemetry by default; it is switched off before the pipeline
loads. Input is the shared 16 kHz mono float32 audio, passed in memory.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from annotators.models.model_location import locate_model
from annotators.models.model_wrapper import ModelWrapper, optional_import
from annotators.timelines.frame_timeline import interval_coverage
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from schemas.speech_rows import SpeakerTurn


@dataclass(frozen=True)
class Diarization:
    turns: tuple[SpeakerTurn, ...]  # sorted by start; turns of different speakers may overlap
    duration_s: float

    @property
    def speakers(self) -> tuple[str, ...]:
        """Speaker labels in order of first appearance."""
        return tuple(dict.fromkeys(turn.speaker for turn in self.turns if turn.speaker is not None))

    def speaker_activity(self, fps: float, n_frames: int) -> np.ndarray:
        """(n_speakers, n_frames) float32: fraction of each video frame in which each speaker
        (row order of ``speakers``) is talking."""
        activity = np.zeros((len(self.speakers), n_frames), dtype=np.float32)
        for row, speaker in enumerate(self.speakers):
            spans = [(t.t_start, t.t_end) for t in self.turns if t.speaker == speaker]
            activity[row] = interval_coverage(spans, fps, n_frames)
        return activity


_PYANNOTE_MISSING = "pyannote.audio is not installed: pip install 'lpm-curation[asr]'"


@dataclass
class SpeakerDiarizer(ModelWrapper):
    """pyannote diarization; ``setup`` loads the pipeline once per worker."""

    pipeline: str | Path = "diarization"  # registry name or a local pipeline folder
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    device: str = "cpu"
    _model: Any = field(default=None, init=False, repr=False)
    catalog_names: ClassVar[tuple[str, ...]] = ("diarization",)

    def load_model(self) -> Any:
        folder = locate_model(self.pipeline)
        torch, audio, telemetry = (optional_import(name, _PYANNOTE_MISSING)
                                   for name in ("torch", "pyannote.audio", "pyannote.audio.telemetry"))
        telemetry.set_telemetry_metrics(False)
        pipeline = audio.Pipeline.from_pretrained(folder)
        if pipeline is None:
            raise FileNotFoundError(f"no pyannote pipeline (config.yaml) in {folder}")
        return pipeline.to(torch.device(self.device))

    def diarize(self, audio: np.ndarray) -> Diarization:
        """Speaker turns of 16 kHz mono float32 ``audio``, clipped to its duration."""
        import torch

        samples = np.ascontiguousarray(audio, dtype=np.float32)
        duration = samples.size / ANALYSIS_SAMPLE_RATE
        if samples.size == 0:
            return Diarization((), 0.0)
        self.setup()
        output = self._model(
            {"waveform": torch.from_numpy(samples)[None], "sample_rate": ANALYSIS_SAMPLE_RATE},
            num_speakers=self.num_speakers,
            min_speakers=self.min_speakers,
            max_speakers=self.max_speakers,
        )
        # pyannote 4 returns a DiarizeOutput; 3.x (and legacy=True) the Annotation itself.
        annotation = getattr(output, "speaker_diarization", output)
        turns = []
        for segment, _track, speaker in annotation.itertracks(yield_label=True):
            t_start, t_end = max(0.0, float(segment.start)), min(duration, float(segment.end))
            if t_end > t_start:
                turns.append(SpeakerTurn(str(speaker), t_start, t_end))
        turns.sort(key=lambda t: (t.t_start, t.t_end, t.speaker))
        return Diarization(tuple(turns), duration)

    def turns(self, audio: np.ndarray) -> list[SpeakerTurn]:
        return list(self.diarize(audio).turns)
