"""Where a model runs: ``device: auto|cpu|cuda`` resolved on the worker that loads it.

``auto`` is CUDA when a GPU is visible to the worker (Ray sets ``CUDA_VISIBLE_DEVICES`` for an
actor that asked for ``num_gpus``), else the CPU; ``cuda`` on a worker without one is an error
that says so, never a silent fall back. Each model library names its settings differently: the
helpers here translate one choice into whisperx's compute type, ONNX Runtime's providers and
torch's device.
"""

from typing import Literal

DeviceChoice = Literal["auto", "cpu", "cuda"]


class DeviceError(RuntimeError):
    """``device: cuda`` was asked for on a worker that sees no GPU."""


def cuda_visible() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(choice: DeviceChoice, cuda_available: bool | None = None) -> str:
    available = cuda_visible() if cuda_available is None else cuda_available
    if choice == "cpu":
        return "cpu"
    if choice == "cuda" and not available:
        raise DeviceError(
            "device: cuda was set but this worker sees no CUDA GPU; give the stage gpus > 0 "
            "(so Ray places it on a GPU node) or use device: auto"
        )
    return "cuda" if available else "cpu"


def whisper_compute_type(device: str) -> str:
    """float16 on a GPU (CTranslate2's fast path), int8 on the CPU."""
    return "float16" if device == "cuda" else "int8"


def onnx_providers(device: str, available: list[str] | None = None) -> tuple[str, ...]:
    """ONNX Runtime providers: CUDA first when on a GPU and the GPU build (``onnxruntime-gpu``,
    the ``[gpu]`` extra) is installed; the CPU provider always, as ONNX Runtime's own fallback
    for operators the GPU provider lacks."""
    if available is None:
        import onnxruntime

        available = onnxruntime.get_available_providers()
    if device == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise DeviceError("device is cuda but onnxruntime has no CUDA provider: pip install 'lpm-curation[gpu]'")
        return ("CUDAExecutionProvider", "CPUExecutionProvider")
    return ("CPUExecutionProvider",)
