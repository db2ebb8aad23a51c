"""Whether an error is the machinery's fault (store, disk, network) rather than the video's.

A stage that raises on a video records the video as failed; the kind of failure decides what a
resumed run does with it (``VideoWork.failure_kind``). An infrastructure fault says nothing about
the video: the same video on a healthy node, a reachable store or a disk with room succeeds, so a
resumed run tries it again. A content failure (a decoder that chokes on the file, a stage that
raises on its data) would fail the same way, so only ``--retry-failed`` runs it again.
"""

import errno

from curation.faults.store_retry import StoreUnavailableError, is_transient

# a disk that is full, over quota, read-only or failing: the node's state, not the video's
_MACHINE_ERRNOS = {errno.EIO, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EREMOTEIO}


class InfrastructureFaultError(Exception):
    """Raised (or subclassed) by code that knows a fault is the machine's, whatever its type."""


def is_infrastructure_fault(error: BaseException) -> bool:
    # Ray re-raises a worker's exception as a RayTaskError whose ``cause`` is the original.
    error = getattr(error, "cause", None) or error
    if isinstance(error, (InfrastructureFaultError, StoreUnavailableError)):
        return True
    if isinstance(error, OSError) and error.errno in _MACHINE_ERRNOS:
        return True
    return is_transient(error)  # a network or store error that outlived its own retries
