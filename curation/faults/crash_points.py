"""Named points where a test can make the run die by SIGKILL, to prove resume works there.

``LPM_CRASH_AT=<point>:<n>`` kills this process the n-th time it passes ``point``: ``record``
(a video's record saved, its outcome not yet), ``video`` (after the driver received a video's
outcome), ``sample`` (after a sample is added to an open shard, before
the shard is committed), ``shard`` (after a shard and its index are committed). Unset, it costs
one dictionary lookup. The kill is a real SIGKILL, as the operating system would deliver it.
"""

import os
import signal
from collections import Counter

_passed: Counter[str] = Counter()


def crash_point(point: str) -> None:
    spec = os.environ.get("LPM_CRASH_AT")
    if not spec:
        return
    _passed[point] += 1
    name, _, count = spec.partition(":")
    if name == point and _passed[point] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
