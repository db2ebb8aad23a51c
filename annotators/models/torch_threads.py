"""Torch on one thread for small models called many times: its thread pool costs more than it saves.

Measured on this 2-core machine: ``learned_sync``'s members on a 10-s context, 19 ms of CPU on one
thread against 90 ms on two (the same score); Resemblyzer's voice vector of 10 s of audio, 0.112
CPU-s on one thread against 0.217 on two, and 0.056 s of wall time against 0.111 (the same vector,
bit for bit). The process's own setting is restored after.
"""

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_torch_thread() -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    if previous != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if previous != 1:
            torch.set_num_threads(previous)
