"""The performance annotation schema (``performance_annotation.json``) and its validation.

The JSON file is the one definition: the version constant is read out of it, and both the
annotator and the captioners validate against it. JSON Schema cannot say "t_end >= t_start" or
"this evidence path exists", and jsonschema accepts NaN as a number although JSON cannot carry
it, so ``validate_annotation`` adds those checks after the schema. The annotator builds an
annotation as the classes generated from the schema (``schemas/annotation_classes.py``); what is
stored and validated is its document (``annotation_document``).
"""

import dataclasses
import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsonschema

from schemas.annotation_classes import PerformanceAnnotation, SchemaVersion

SCHEMA_PATH = Path(__file__).with_name("performance_annotation.json")
_PATH_PART = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?$")
_TIME_TOLERANCE_S = 1e-3  # annotation times are rounded to milliseconds


class AnnotationSchemaError(ValueError):
    """An annotation or caption does not follow ``performance_annotation.json``."""


@cache
def annotation_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# the file's const, which the generated ``SchemaVersion`` Literal is written from
ANNOTATION_SCHEMA_VERSION = cast(SchemaVersion, annotation_schema()["properties"]["schema_version"]["const"])


@cache
def _validator(definition: str | None) -> jsonschema.Draft202012Validator:
    schema = annotation_schema()
    if definition is not None:
        # validate against one $defs entry, keeping the $defs it refers to
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _schema_errors(obj: object, definition: str | None) -> list[str]:
    errors = sorted(_validator(definition).iter_errors(obj), key=lambda e: list(e.absolute_path))
    return [f"{_dotted(e.absolute_path) or '<root>'}: {e.message}" for e in errors]


def _dotted(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _non_finite(obj: object, path: str = "") -> list[str]:
    if isinstance(obj, float) and not math.isfinite(obj):
        return [f"{path or '<root>'}: {obj} is not a finite number (JSON cannot carry it)"]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _non_finite(v, f"{path}.{k}" if path else str(k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _non_finite(v, f"{path}[{i}]")]
    return []


def resolve_evidence(annotation: dict[str, Any], path: str) -> Any:
    """The annotation value at an evidence path such as ``head_events[2]`` or ``voice.pauses[0]``."""
    return _follow(annotation, path)


def evidence_item(annotation: PerformanceAnnotation, path: str) -> object:
    """What ``resolve_evidence`` finds at ``path`` in the annotation's document, as the generated
    class (``HeadEvent``, ``Voice``, ``Interval``...) or value it is: a property the document
    leaves out (unset and not required) is no field here either."""
    return _follow(annotation, path)


def _follow(node: object, path: str) -> object:
    """One evidence path through a document (mappings) or through the generated classes."""
    for part in path.split("."):
        match = _PATH_PART.match(part)
        name = match.group(1) if match is not None else ""
        if match is None or not _has_part(node, name):
            raise AnnotationSchemaError(f"evidence {path!r}: no field {part!r}")
        node = node[name] if isinstance(node, dict) else getattr(node, name)
        if match.group(2) is not None:
            index = int(match.group(2))
            if not isinstance(node, list) or index >= len(node):
                raise AnnotationSchemaError(f"evidence {path!r}: no item {index} in {name!r}")
            node = node[index]
    return node


def _has_part(node: object, name: str) -> bool:
    if isinstance(node, dict):
        return name in node
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return False
    field = next((f for f in dataclasses.fields(node) if f.name == name), None)
    # as ``_document`` writes it: an unset property the schema does not require is left out
    return field is not None and not (getattr(node, name) is None and field.default is None)


def _semantic_errors(annotation: dict[str, Any]) -> list[str]:
    errors = []
    t0, t1 = annotation["segment"]["t_start"], annotation["segment"]["t_end"]
    if t1 < t0:
        errors.append("segment: t_end is before t_start")

    def check_interval(where: str, item: dict[str, Any]) -> None:
        if item["t_end"] < item["t_start"]:
            errors.append(f"{where}: t_end {item['t_end']} is before t_start {item['t_start']}")
        if item["t_start"] < t0 - _TIME_TOLERANCE_S or item["t_end"] > t1 + _TIME_TOLERANCE_S:
            errors.append(f"{where}: [{item['t_start']}, {item['t_end']}] is outside the segment [{t0}, {t1}]")

    for field in ("state_timeline", "head_events", "listener_reactions"):
        for i, item in enumerate(annotation[field]):
            check_interval(f"{field}[{i}]", item)
    for i, item in enumerate(annotation["expressions"]["timeline"]):
        check_interval(f"expressions.timeline[{i}]", item)
    for i, item in enumerate(annotation["voice"]["pauses"]):
        check_interval(f"voice.pauses[{i}]", item)
    for i, t in enumerate(annotation["blinks"]["times"]):
        if not t0 - _TIME_TOLERANCE_S <= t <= t1 + _TIME_TOLERANCE_S:
            errors.append(f"blinks.times[{i}]: {t} is outside the segment [{t0}, {t1}]")
    for i, reaction in enumerate(annotation["listener_reactions"]):
        if reaction["evidence"] is not None:
            try:
                resolve_evidence(annotation, reaction["evidence"])
            except AnnotationSchemaError as err:
                errors.append(f"listener_reactions[{i}]: {err}")
    return errors


def annotation_document(annotation: PerformanceAnnotation) -> dict[str, Any]:
    """The annotation as the JSON document the schema defines (what samples and captioners carry):
    its fields in the schema's order, a property the schema does not require left out when unset."""
    return _document(annotation)


def _document(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _document(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (getattr(value, f.name) is None and f.default is None)}  # unset and not required
    if isinstance(value, list):
        return [_document(item) for item in value]
    if isinstance(value, dict):
        return {key: _document(item) for key, item in value.items()}
    return value


def validate_annotation(obj: object) -> None:
    """Raise ``AnnotationSchemaError`` listing every problem when ``obj`` is not a valid annotation."""
    errors = _non_finite(obj) or _schema_errors(obj, None)
    if not errors:
        errors = _semantic_errors(obj)  # type: ignore[arg-type]
    if errors:
        shown = "; ".join(errors[:10]) + (f"; ... {len(errors) - 10} more" if len(errors) > 10 else "")
        raise AnnotationSchemaError(f"invalid performance annotation ({len(errors)} problem(s)): {shown}")


def validate_caption(obj: object, definition: str = "caption") -> None:
    """Raise ``AnnotationSchemaError`` when ``obj`` is not a ``caption`` (or ``caption_answer``)."""
    errors = _non_finite(obj) or _schema_errors(obj, definition)
    if errors:
        raise AnnotationSchemaError(f"invalid {definition} ({len(errors)} problem(s)): " + "; ".join(errors[:10]))
