"""HTTP range responses for in-memory media, so the browser can seek a clip.

Chromium asks for ``bytes=N-`` when it seeks and treats a server that ignores ranges as a stream
it cannot seek in; clips are small and already in memory, so a range is a slice.
"""

import re

from starlette.requests import Request
from starlette.responses import Response

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def ranged_response(request: Request, data: bytes, media_type: str) -> Response:
    size = len(data)
    match = _RANGE.fullmatch(request.headers.get("range", "").strip())
    if not match or not (match.group(1) or match.group(2)):
        return Response(data, media_type=media_type, headers={"accept-ranges": "bytes"})
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # a suffix range: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start > end or start >= size:
        return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
    return Response(data[start : end + 1], status_code=206, media_type=media_type,
                    headers={"accept-ranges": "bytes", "content-range": f"bytes {start}-{end}/{size}"})
