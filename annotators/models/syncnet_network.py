"""SyncNet's two-stream network (Chung & Zisserman, "Out of time", ACCV 2016 workshops), laid out
so that the official ``syncnet_v2.model`` (from ``joonson/syncnet_python``: a PyTorch state dict of
its ``S`` module) loads by name: ``netcnnaud``/``netfcaud`` embed 13 x 20 MFCC patches (0.2 s),
``netcnnlip``/``netfclip`` embed five 224 x 224 colour face crops (0.2 s at 25 fps), both to 1024
numbers. In sync, the two embeddings of the same instant are close.
"""

import torch
from torch import nn

EMBEDDING = 1024


def _conv2d(c_in: int, c_out: int, kernel: tuple[int, int], padding: tuple[int, int] = (1, 1)) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, padding=padding), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def _conv3d(c_in: int, c_out: int, kernel: tuple, stride: tuple = (1, 1, 1), padding: tuple = (0, 1, 1)) -> list:
    conv = nn.Conv3d(c_in, c_out, kernel, stride=stride, padding=padding)
    return [conv, nn.BatchNorm3d(c_out), nn.ReLU(inplace=True)]


def _head() -> nn.Sequential:
    return nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, EMBEDDING))


class SyncNetS(nn.Module):
    """Module and parameter names follow the official ``S`` so its state dict loads unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.netcnnaud = nn.Sequential(
            *_conv2d(1, 64, (3, 3)), nn.MaxPool2d((1, 1), (1, 1)),
            *_conv2d(64, 192, (3, 3)), nn.MaxPool2d((3, 3), (1, 2)),
            *_conv2d(192, 384, (3, 3)),
            *_conv2d(384, 256, (3, 3)),
            *_conv2d(256, 256, (3, 3)), nn.MaxPool2d((3, 3), (2, 2)),
            *_conv2d(256, 512, (5, 4), padding=(0, 0)),
        )  # fmt: skip
        self.netfcaud = _head()
        self.netfclip = _head()
        self.netcnnlip = nn.Sequential(
            *_conv3d(3, 96, (5, 7, 7), (1, 2, 2), 0), nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            *_conv3d(96, 256, (1, 5, 5), (1, 2, 2)), nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            *_conv3d(256, 256, (1, 3, 3)),
            *_conv3d(256, 256, (1, 3, 3)),
            *_conv3d(256, 256, (1, 3, 3)), nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            *_conv3d(256, 512, (1, 6, 6), padding=0),
        )  # fmt: skip

    def forward_aud(self, mfcc: torch.Tensor) -> torch.Tensor:
        """(N, 1, 13, 20) MFCC patches -> (N, 1024)."""
        return self.netfcaud(self.netcnnaud(mfcc).flatten(1))

    def forward_lip(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, 3, 5, 224, 224) BGR face crops, 0..255 -> (N, 1024)."""
        return self.netfclip(self.netcnnlip(frames).flatten(1))


def load_syncnet(path: str) -> SyncNetS:
    """The network with the weights of ``path`` (a state dict, as ``syncnet_v2.model`` is), in eval mode.

    The official file predates BatchNorm's ``num_batches_tracked`` counters (unused in eval), so
    only those may be missing; any other missing or unknown name means a different network.
    """
    network = SyncNetS()
    state = torch.load(path, map_location="cpu", weights_only=True)
    missing, unexpected = network.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path} is not a SyncNet state dict: missing {missing[:3]}, unknown {unexpected[:3]}")
    return network.eval()
