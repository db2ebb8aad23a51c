"""What a stage's ``needs`` and ``adds`` name: a product of the video record (a field of
``VideoWork``), or one part of it after a dot: a field of a typed product (``voice_faces.scope``),
a column of a row product (``segments.caption``: the row classes of ``schemas.tables``), or a
per-track feature (``track_features.state``). A misspelt part is refused before any video, as a
misspelt product is: ``track_features.stat`` once passed because the check read only up to the dot."""

import dataclasses
import types
import typing

from curation.runtime.video_work import VideoWork
from schemas.tables import ROW_TYPES

# products holding rows of a manifest table (as dicts or as its row class): their parts are its columns
_ROW_TABLES = {"shots": "shots", "tracks": "tracks", "segments": "segments", "pairs": "pairs",
               "rejections": "rejections"}


def product_parts(product: str) -> frozenset[str] | None:
    """The names a dot may follow ``product`` with (none for a plain value); None: no such product."""
    hints = typing.get_type_hints(VideoWork)
    if product not in hints:
        return None
    if product in _ROW_TABLES:
        return frozenset(f.name for f in dataclasses.fields(ROW_TYPES[_ROW_TABLES[product]]))
    inner = _element(hints[product])
    if dataclasses.is_dataclass(inner):
        return frozenset(f.name for f in dataclasses.fields(inner))
    return frozenset()


def unknown_part(declared: str) -> str | None:
    """Why ``declared`` names nothing of a video record, or None when it names a product or a part of one."""
    product, dot, part = declared.partition(".")
    parts = product_parts(product)
    if parts is None:
        known = ", ".join(sorted(typing.get_type_hints(VideoWork)))
        return f"{declared!r} names no product of a video record; products: {known}"
    if dot and part not in parts:
        listed = ", ".join(sorted(parts)) if parts else "none: it is a plain value"
        return f"{declared!r} names no part of {product!r}; its parts: {listed}"
    return None


def _element(hint: typing.Any) -> typing.Any:
    """The type a product's parts belong to: Optional, list and dict values unwrapped."""
    while True:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            hint = next(a for a in args if a is not type(None))
        elif origin is list and args:
            hint = args[0]
        elif origin is dict and len(args) == 2:
            hint = args[1]
        else:
            return hint
