"""argparse types for numbers that only make sense in a range: refused with a clear message while
the command line is parsed (exit 2), before anything runs or is written.

Without them ``--limit -1`` sliced the last input away, ``--workers 0`` reached Ray, and a
negative seed failed deep inside numpy.
"""

import argparse
import math
from collections.abc import Callable


def _bounded(kind: type, low: float, high: float | None, wanted: str) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
        return value

    parse.__name__ = wanted  # argparse names the type in its own messages
    return parse


positive_int = _bounded(int, 1, None, "a whole number of at least 1")
non_negative_int = _bounded(int, 0, None, "a whole number of at least 0")
positive_float = _bounded(float, 1e-9, None, "a positive number")
port_number = _bounded(int, 0, 65535, "a port number from 0 to 65535")
