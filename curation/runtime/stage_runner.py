"""Run one stage on one video, turning surprises into a ``failed`` record instead of a crash.

A failure is an infrastructure one (``infra``: the store after its retries, a failing disk, the
network) or the video's own (``content``); a resumed run tries the first kind again.

Shared by the local and the Ray executors so that both give identical results.
"""

import errno
import time
import traceback

from curation.faults.infra_fault import is_infrastructure_fault
from curation.media.ffmpeg_runner import MediaTimeoutError
from curation.runtime.stage import Stage
from curation.runtime.thread_limits import threads_for
from curation.runtime.video_work import VideoWork
from schemas.reasons import Reason


def run_stage(stage: Stage, work: VideoWork) -> VideoWork:
    if work.finished:
        return work
    started = time.perf_counter()
    try:
        if work.state == "pending":
            stage.check_needs(work)
        with threads_for(stage.resources.cpus):
            work = stage.process(work)
    except MediaTimeoutError as err:
        work.fail(stage.name, Reason.TIMEOUT, str(err))
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise  # a full disk is the machine's problem, not this video's: stop the run
        kind = "infra" if is_infrastructure_fault(err) else "content"
        work.fail(stage.name, Reason.ERROR, f"{type(err).__name__}: {err}", kind)
    except Exception as err:
        where = traceback.extract_tb(err.__traceback__)[-1]
        work.fail(
            stage.name,
            Reason.ERROR,
            f"{type(err).__name__}: {err} (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})",
            "infra" if is_infrastructure_fault(err) else "content",
        )
    work.timings[stage.name] = work.timings.get(stage.name, 0.0) + time.perf_counter() - started
    return work
