"""Dataclasses to plain data and back: a JSON document plus the numpy arrays and bytes it names.

The resume ledger and the run-scope summaries are stored this way instead of pickles: a reader
needs no class of ours to open them, and decoding is driven by the declared field types, so a
renamed field or class fails loudly (``PlainDataError``) instead of silently yielding nothing.
Arrays and bytes go to an ``.npz`` beside the JSON, referenced as ``{"$a": name}`` /
``{"$b": name}``.
"""

import dataclasses
import io
import json
import threading
import types
import typing
from typing import Any, Union

import numpy as np

from curation.storage_formats import npz_bytes

_ARRAY = "$a"
_BYTES = "$b"


class PlainDataError(ValueError):
    """A stored document does not match the declared types (a renamed field, an old format)."""


def encode(value: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """(JSON-able document, arrays it references by name)."""
    arrays: dict[str, np.ndarray] = {}
    return _encode(value, arrays), arrays


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        name = f"a{len(arrays):06d}"
        arrays[name] = value
        return {_ARRAY: name}
    if isinstance(value, bytes | bytearray | memoryview):
        name = f"a{len(arrays):06d}"
        arrays[name] = np.frombuffer(bytes(value), dtype=np.uint8)
        return {_BYTES: name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {_key(k): _encode(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v, arrays) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise PlainDataError(f"cannot store a {type(value).__name__} as plain data")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise PlainDataError(f"mapping keys must be strings, got {type(key).__name__} {key!r}")
    return key


def decode(document: Any, arrays: dict[str, np.ndarray], hint: Any) -> Any:
    """The value of type ``hint`` that ``document`` (with its arrays) encodes."""
    return _decode(document, arrays, hint, "$")


def _decode(doc: Any, arrays: dict[str, np.ndarray], hint: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return _decode_any(doc, arrays, path)
    if origin in (Union, types.UnionType):
        optional = type(None) in typing.get_args(hint)
        if doc is None and optional:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if doc == {} and optional and all(map(_has_fields, options)):
            # an optional record an older writer kept as an empty mapping before it was typed
            # (``VideoWork.video``: ``{}`` until the probe); an encoded dataclass is never empty
            return None
        if len(options) == 1:
            return _decode(doc, arrays, options[0], path)
        # several types: the one whose shape the document has (an object or a list), when only one has it
        shaped = [option for option in options if _shape(option) is type(doc)]
        return _decode(doc, arrays, shaped[0], path) if len(shaped) == 1 else _decode_any(doc, arrays, path)
    if origin is typing.Literal:
        return doc
    if dataclasses.is_dataclass(hint):
        if not isinstance(doc, dict):
            raise PlainDataError(f"{path}: expected an object for {hint.__name__}")
        hints = typing.get_type_hints(hint)
        names = {f.name for f in dataclasses.fields(hint) if f.init}
        unknown = set(doc) - names
        if unknown:
            raise PlainDataError(f"{path}: {hint.__name__} has no field(s) {sorted(unknown)}")
        required = {f.name for f in dataclasses.fields(hint)
                    if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        if required - set(doc):
            raise PlainDataError(f"{path}: {hint.__name__} lacks field(s) {sorted(required - set(doc))}")
        return hint(**{k: _decode(v, arrays, hints[k], f"{path}.{k}") for k, v in doc.items()})
    if hint is np.ndarray:
        return _array(doc, arrays, path)
    if hint is bytes:
        return _array(doc, arrays, path).tobytes()
    if origin is dict:
        _, value_hint = typing.get_args(hint) or (str, Any)
        return {k: _decode(v, arrays, value_hint, f"{path}.{k}") for k, v in _mapping(doc, path).items()}
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        return [_decode(v, arrays, item_hint, f"{path}[{i}]") for i, v in enumerate(_sequence(doc, path))]
    if origin is tuple:
        args = typing.get_args(hint)
        items = _sequence(doc, path)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(v, arrays, args[0], f"{path}[{i}]") for i, v in enumerate(items))
        return tuple(_decode(v, arrays, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(items, args, strict=True)))
    if hint is float and isinstance(doc, int):
        return float(doc)
    return doc


def _shape(hint: Any) -> type | None:
    """The JSON shape a value of ``hint`` is stored as, where it is a container (else None)."""
    if dataclasses.is_dataclass(hint) or typing.get_origin(hint) is dict or hint is dict:
        return dict
    if typing.get_origin(hint) in (list, tuple) or hint in (list, tuple):
        return list
    return None


def _has_fields(hint: Any) -> bool:
    return dataclasses.is_dataclass(hint) and bool(dataclasses.fields(hint))


def _decode_any(doc: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    if isinstance(doc, dict):
        if set(doc) == {_ARRAY}:
            return _array(doc, arrays, path)
        if set(doc) == {_BYTES}:
            return _array(doc, arrays, path).tobytes()
        return {k: _decode_any(v, arrays, f"{path}.{k}") for k, v in doc.items()}
    if isinstance(doc, list):
        return [_decode_any(v, arrays, f"{path}[{i}]") for i, v in enumerate(doc)]
    return doc


def _array(doc: Any, arrays: dict[str, np.ndarray], path: str) -> np.ndarray:
    if not isinstance(doc, dict) or not ({_ARRAY, _BYTES} & set(doc)):
        raise PlainDataError(f"{path}: expected an array reference")
    name = doc.get(_ARRAY) or doc.get(_BYTES)
    if name not in arrays:
        raise PlainDataError(f"{path}: array {name!r} is missing from the stored arrays")
    return arrays[name]


def _mapping(doc: Any, path: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise PlainDataError(f"{path}: expected an object")
    return doc


def _sequence(doc: Any, path: str) -> list[Any]:
    if not isinstance(doc, list):
        raise PlainDataError(f"{path}: expected a list")
    return doc


def to_bytes(value: Any, version: int) -> tuple[bytes, bytes | None]:
    """(JSON bytes, npz bytes or None when nothing is an array); ``version`` is stored in the JSON."""
    document, arrays = encode(value)
    text = json.dumps({"format": version, "data": document}, sort_keys=True, allow_nan=True)
    return text.encode("utf-8"), (npz_bytes(arrays) if arrays else None)


def names_arrays(text: bytes) -> bool:
    """Whether a stored JSON references arrays (so an npz was written beside it). A string value
    holding the marker only costs a read that finds nothing; a reference is never missed."""
    return f'"{_ARRAY}"'.encode() in text or f'"{_BYTES}"'.encode() in text


# numpy reads each array's header with ast.literal_eval, and CPython 3.11's parser is not safe
# from several threads at once ("SystemError: AST constructor recursion depth mismatch", seen when
# the concurrent reader decoded S3 summaries in bench scale): one archive decoded at a time. The
# reads themselves, the long part, still overlap.
_NPZ_HEADERS = threading.Lock()


def from_bytes(text: bytes, npz: bytes | None, hint: Any, version: int, what: str) -> Any:
    """Decode what ``to_bytes`` wrote; a document of another format version is refused."""
    envelope = json.loads(text)
    found = envelope.get("format") if isinstance(envelope, dict) else None
    if found != version:
        raise PlainDataError(f"{what} is stored in format {found!r}; this version reads format {version}")
    arrays: dict[str, np.ndarray] = {}
    if npz is not None:
        with _NPZ_HEADERS, np.load(io.BytesIO(npz), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    return decode(envelope["data"], arrays, hint)
