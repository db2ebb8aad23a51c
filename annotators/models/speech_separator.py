"""Two voices heard at once, split into two signals: Conv-TasNet, as torchaudio ships it.

Time masks cannot split a listener's "mm-hm" from the speaker's sentence under it; a separation
network can. The model is torchaudio's ``ConvTasNet`` in the configuration of its pretrained
``CONVTASNET_BASE_LIBRI2MIX`` bundle (``conv_tasnet_base``, two sources, trained on Libri2Mix
at 8 kHz; Luo & Mesgarani 2019): the code ships in the torchaudio wheel, the weights are one
``state_dict`` file that ``lpm-curate models fetch speech_separator`` downloads from the URL the
bundle itself uses, loaded here with ``torch.load(weights_only=True)`` as the bundle does. The
16 kHz analysis audio is resampled to the model's 8 kHz and the sources back to 16 kHz: the
separated sources lose the band above 4 kHz, which the voice embedding (40 mel bands up to
8 kHz) tolerates and which only replaces the overlap spans of a channel.
"""

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from annotators.models.model_location import locate_model
from annotators.models.model_wrapper import ModelWrapper, optional_import
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

SPEECH_SEPARATOR_MODEL_NAME = "speech_separator"
MODEL_SAMPLE_RATE = 8000  # CONVTASNET_BASE_LIBRI2MIX's sample rate
N_SOURCES = 2
_TORCHAUDIO_MISSING = "speech separation needs torchaudio: pip install torchaudio"


class SpeechSeparator(ModelWrapper):
    """Two-source Conv-TasNet on 16 kHz mono float32 spans (CPU or GPU)."""

    catalog_names: ClassVar[tuple[str, ...]] = (SPEECH_SEPARATOR_MODEL_NAME,)

    def __init__(self, model: str | Path = SPEECH_SEPARATOR_MODEL_NAME, device: str = "cpu") -> None:
        self.model = model  # registry name, or a local state_dict file
        self.device = device

    def load_model(self) -> Any:
        torch = optional_import("torch", _TORCHAUDIO_MISSING)
        models = optional_import("torchaudio.models", _TORCHAUDIO_MISSING)
        network = models.conv_tasnet_base(num_sources=N_SOURCES)
        state = torch.load(locate_model(self.model), map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        return network.eval().to(self.device)

    def separate(self, audio: np.ndarray) -> np.ndarray:
        """(2, n) float32 sources of the n-sample 16 kHz ``audio``, scaled so that they add up to
        the mix as closely as they can (least squares): the network's output scale is arbitrary,
        its training being scale-invariant (SI-SNR)."""
        import torch
        import torchaudio.functional as audio_functional

        samples = np.ascontiguousarray(audio, dtype=np.float32)
        if samples.size == 0:
            return np.zeros((N_SOURCES, 0), np.float32)
        self.setup()
        with torch.inference_mode():
            mix = torch.from_numpy(samples).to(self.device)
            low = audio_functional.resample(mix, ANALYSIS_SAMPLE_RATE, MODEL_SAMPLE_RATE)
            sources = self._model(low.reshape(1, 1, -1))[0]
            sources = audio_functional.resample(sources, MODEL_SAMPLE_RATE, ANALYSIS_SAMPLE_RATE)
        out = np.zeros((N_SOURCES, samples.size), np.float32)
        n = min(samples.size, sources.shape[-1])
        out[:, :n] = sources[:, :n].float().cpu().numpy()
        gains, *_ = np.linalg.lstsq(out.T.astype(np.float64), samples.astype(np.float64), rcond=None)
        return (out * gains[:, None]).astype(np.float32)
