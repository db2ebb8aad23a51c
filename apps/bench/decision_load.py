"""What an actor's memory grows by when it loads a run-wide decision for one video.

``python -m apps.bench.decision_load RUN_STORE STAGE VIDEO_ID`` loads the stage's stored decision as
an apply step does (``StoredDecision``: the parts of the video's bucket when the decision is
stored cut by video, else the whole decision), takes the video's part, and prints one JSON object:
the process's peak RSS growth over the load, in MB. A process of its own, so the peak is the load's.
"""

import json
import resource
import sys
from typing import Any

import psutil

from curation.run.run_scope_steps import StoredDecision
from curation.store.run_store import RunStore
from stages.workflow_stages import WORKFLOW_STAGES


def measure(run_uri: str, stage: str, video_id: str) -> dict[str, float | bool]:
    # An actor has its store client before it loads a decision: an object store's client library
    # (s3fs, aiobotocore and botocore's service models) is imported and used once first, so the
    # growth is the decision's, not the client's.
    RunStore(run_uri).exists("run.json")
    before = psutil.Process().memory_info().rss
    # decoded into the stage's types, as an apply step decodes it (stages import before the baseline)
    decision = StoredDecision(run_uri, stage, hint=_decision_hint(stage))()
    sliced = hasattr(decision, "for_video")
    if sliced:
        decision.for_video(video_id)
    peak = _high_water_mark()
    return {"load_peak_rss_growth_mb": round(max(peak - before, 0) / 2**20, 1), "sliced": sliced}


def _decision_hint(stage: str) -> Any:
    found = WORKFLOW_STAGES.get(stage)
    return found.decision_hint() if found is not None and hasattr(found, "decision_hint") else Any


def _high_water_mark() -> int:
    """The process's peak resident bytes (Linux's VmHWM). Not getrusage's ru_maxrss: a child
    started by fork and exec keeps its parent's peak there (the driver's 230 MB read as this
    process's growth)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: the best there is


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2], sys.argv[3])))
