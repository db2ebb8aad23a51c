"""Retry a run-store request that failed for a passing reason, at the call site, with backoff.

An object store at scale answers some requests with 5xx, throttling (``SlowDown``), a reset
connection or a timeout; each is worth sending again after a pause, and none is the input's
fault. A missing object (``FileNotFoundError``), a refused one (``PermissionError``), a full
local disk (``ENOSPC``) or a bad argument is answered the same way every time: those are raised
at once. The pause grows exponentially with full jitter (AWS's "exponential backoff and jitter")
so hundreds of workers that failed together do not retry together. After ``ATTEMPTS`` the error
is raised as ``StoreUnavailableError``, which a stage records as an infrastructure failure
(retried on resume), never as the video's own fault.

boto's and s3fs's own retry loops are turned off for the run store (``RunStore``): the retries
happen here, where they are counted (``fault_counts.STORE_RETRIES``).
"""

import errno
import random
import time
from collections.abc import Callable
from typing import TypeVar

from curation.faults import fault_counts

T = TypeVar("T")

ATTEMPTS = 8
BASE_DELAY_S = 0.05
MAX_DELAY_S = 5.0  # seven pauses of at most 0.1, 0.2, ... 3.2, 5 s: 11.3 s at most, about 6 s expected

# errno values of a request that may succeed when sent again (s3fs maps 503/SlowDown to EBUSY,
# 500/InternalError to EREMOTEIO and codes it does not know to EIO)
_TRANSIENT_ERRNOS = {
    errno.EBUSY, errno.EAGAIN, errno.EIO, errno.EREMOTEIO, errno.ETIMEDOUT, errno.ECONNRESET,
    errno.ECONNABORTED, errno.ECONNREFUSED, errno.EPIPE, errno.ENETDOWN, errno.ENETUNREACH,
    errno.EHOSTUNREACH,
}  # fmt: skip
# exception classes of botocore, aiobotocore, aiohttp and fsspec that mean the request did not get
# a usable answer (named, not imported: the run store must not import boto to work on local disk)
_TRANSIENT_CLASSES = {
    "HTTPClientError", "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError",
    "ConnectTimeoutError", "ResponseStreamingError", "IncompleteReadError", "ResponseParserError",
    "ClientPayloadError", "ServerDisconnectedError", "ClientConnectionError", "ServerTimeoutError",
    "FSTimeoutError", "IncompleteRead", "TimeoutError",
}  # fmt: skip
_TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
                    "InternalError", "ServiceUnavailable", "RequestLimitExceeded", "TooManyRequestsException"}


class StoreUnavailableError(OSError):
    """The run store kept failing a request after every attempt: an infrastructure fault."""


def is_transient(error: BaseException) -> bool:
    """Whether the same request, sent again later, may succeed."""
    if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError,
                          FileExistsError, StoreUnavailableError)):
        return False
    if isinstance(error, (TimeoutError, ConnectionError)):
        return True
    if isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS:
        return True
    if any(cls.__name__ in _TRANSIENT_CLASSES for cls in type(error).__mro__):
        return True
    response = getattr(error, "response", None)  # botocore's ClientError, untranslated
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code in _TRANSIENT_CODES or status >= 500 or status == 429
    return False


def with_retries(request: Callable[[], T], what: str) -> T:
    """``request()``, sent again after a jittered pause while it fails transiently."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return request()
        except Exception as err:
            if not is_transient(err):
                raise
            if attempt == ATTEMPTS:
                raise StoreUnavailableError(
                    errno.EIO, f"the store failed {what} {ATTEMPTS} times; last: {type(err).__name__}: {err}"
                ) from err
            fault_counts.count(fault_counts.STORE_RETRIES)
            time.sleep(random.uniform(0, min(MAX_DELAY_S, BASE_DELAY_S * 2**attempt)))
    raise AssertionError("unreachable")
