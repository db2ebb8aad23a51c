"""Check one workflow value against a stage parameter's type hint and declared range.

Errors name the YAML path of the value (``stages[2].min_face_px``) so a user can find it.
"""

import math
import types
import typing
from dataclasses import Field
from typing import Any


class WorkflowError(ValueError):
    """A workflow file or override is invalid; the message names the YAML path."""


def coerce_param(field: Field, hint: Any, value: Any, path: str) -> Any:
    coerced = _coerce(hint, value, path)
    bounds = field.metadata.get("range")
    if bounds is not None and coerced is not None:
        low, high = bounds
        if (low is not None and coerced < low) or (high is not None and coerced > high):
            raise WorkflowError(f"{path}: {coerced!r} is outside the allowed range [{low}, {high}]")
    return coerced


def _coerce(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, path)
            except WorkflowError as err:
                errors.append(str(err))
        raise WorkflowError(errors[0] if len(errors) == 1 else f"{path}: {value!r} matches none of {hint}")
    if origin is typing.Literal:
        if value not in args:
            raise WorkflowError(f"{path}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise WorkflowError(f"{path}: expected a list, got {type(value).__name__} {value!r}")
        inner = args[0] if args else Any
        items = [_coerce(inner, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise WorkflowError(f"{path}: expected true or false, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WorkflowError(f"{path}: expected a number, got {value!r}")
        if math.isnan(value):
            # NaN passes every range comparison, so it would slip through the range check.
            raise WorkflowError(f"{path}: expected a number, got NaN")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise WorkflowError(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise WorkflowError(f"{path}: expected text, got {value!r}")
        return value
    raise WorkflowError(f"{path}: unsupported parameter type {hint}")
