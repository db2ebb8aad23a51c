"""OpenCLIP image embeddings of key frames, for near-duplicate detection.

The weights come from the models directory (registry name ``openclip``, fetched once with
``lpm-curate models fetch openclip``); nothing is downloaded here. ``open_clip`` and ``torch`` are
imported only when an embedder is set up, so the rest of the toolkit runs without them.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from annotators.models.model_wrapper import ModelWrapper, optional_import
from curation.models.model_store import resolve

OPENCLIP_MODEL_NAME = "openclip"
DEFAULT_ARCHITECTURE = "ViT-B-32"  # the architecture of the catalogue's LAION-2B weights


class ClipImageEmbedder(ModelWrapper):
    """L2-normalised OpenCLIP image embeddings of RGB frames, on the CPU by default."""

    catalog_names = (OPENCLIP_MODEL_NAME,)

    def __init__(
        self,
        weights: Path | None = None,
        architecture: str = DEFAULT_ARCHITECTURE,
        device: str = "cpu",
        batch_size: int = 16,
    ) -> None:
        self.weights = Path(weights) if weights is not None else resolve(OPENCLIP_MODEL_NAME)
        self.architecture = architecture
        self.device = device
        self.batch_size = batch_size
        self._preprocess: Any = None

    def load_model(self) -> Any:
        open_clip = optional_import(
            "open_clip", "OpenCLIP embeddings need open_clip_torch and torch: pip install 'lpm-curation[identity]'"
        )
        model, _, preprocess = open_clip.create_model_and_transforms(
            self.architecture, pretrained=str(self.weights), device=self.device
        )
        self._preprocess = preprocess
        return model.eval()

    def release(self, model: Any) -> None:
        self._preprocess = None

    @property
    def dimension(self) -> int:
        self.setup()
        return int(self._model.visual.output_dim)

    def embed(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dimension) float32 unit vectors for RGB uint8 frames (H, W, 3) of any size."""
        import torch
        from PIL import Image

        if len(frames) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.setup()
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                batch = torch.stack(
                    [
                        self._preprocess(Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8)))
                        for frame in frames[start : start + self.batch_size]
                    ]
                ).to(self.device)
                features = self._model.encode_image(batch).float()
                outputs.append(torch.nn.functional.normalize(features, dim=-1).cpu().numpy())
        return np.concatenate(outputs).astype(np.float32)

    def embed_segment(self, key_frames: Sequence[np.ndarray]) -> np.ndarray | None:
        """One unit vector for a segment: the renormalised mean of its key-frame embeddings."""
        if len(key_frames) == 0:
            return None
        mean = self.embed(key_frames).mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)
