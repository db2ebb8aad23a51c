"""A posted verdict's body: read with a bounded size, parsed with a bounded depth, fields checked.

A verdict is a flat JSON object of a few hundred bytes. The body is read from the stream and the
request refused (413) as soon as it passes the limit, or at once when ``Content-Length`` says it
will, so a 500 MB POST costs the server nothing. Nesting is counted before parsing: Python's JSON
parser recurses once per ``[`` and a few thousand of them end in a ``RecursionError``.
"""

import json
from typing import Any

from starlette.requests import Request

MAX_BODY_BYTES = 16_384
MAX_DEPTH = 4  # the verdict object is depth 1; nothing a verdict holds nests
# What a client may post; the server fills in time, item_kind and stratum from the item itself.
POSTED_FIELDS = frozenset({"verdict_id", "reviewer", "item", "verdict", "reason", "note"})


class BodyError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_bounded(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyError(f"verdict too large (over {limit} bytes)", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(f"verdict too large (over {limit} bytes)", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def nesting_depth(body: bytes) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def posted_fields(body: bytes) -> dict[str, Any]:
    """The posted object, refused unless it is one flat object of known fields."""
    if nesting_depth(body) > MAX_DEPTH:
        raise BodyError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        posted = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise BodyError(f"not JSON: {err}") from err
    if not isinstance(posted, dict):
        raise BodyError("a verdict is a JSON object")
    unknown = sorted(set(posted) - POSTED_FIELDS)
    if unknown:
        raise BodyError(f"unknown field(s) {unknown}; a verdict has {sorted(POSTED_FIELDS)}")
    for name in ("reviewer", "item", "verdict"):
        if name not in posted:
            raise BodyError(f"missing field {name!r}")
    return posted
