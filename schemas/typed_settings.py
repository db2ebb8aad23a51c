"""Typed settings from YAML: one loader for the curation workflows and the trainer's config.

Settings are dataclass fields. A value read from YAML (or a ``--set KEY=VALUE`` override) is checked
against the field's type hint (``bool``, ``int``, ``float``, ``str``, ``Literal`` choices, lists,
tuples, optional values) and its declared range (``field(metadata={"range": (low, high)})``), and
a key the dataclass does not have is an error. Every error names the dotted path of the value
(``stages[2].min_face_px``, ``train.lr``) so a user finds it; callers pass their own error class.

It lives in ``schemas`` because both sides of the project import it: the toolkit's workflows and
``lpm_train``, which may import nothing else of the toolkit.
"""

import dataclasses
import math
import types
import typing
from typing import Any


class SettingsError(ValueError):
    """A setting is invalid; the message names its dotted path."""


def coerce_field(field: dataclasses.Field, hint: Any, value: Any, path: str,
                 error: type[SettingsError] = SettingsError) -> Any:
    """``value`` as the field's type, inside its declared range."""
    coerced = coerce_value(hint, value, path, error)
    bounds = field.metadata.get("range")
    if bounds is not None and coerced is not None:
        low, high = bounds
        if (low is not None and coerced < low) or (high is not None and coerced > high):
            raise error(f"{path}: {coerced!r} is outside the allowed range [{low}, {high}]")
    return coerced


def settings_for(cls: type, values: dict[str, Any], path: str, owner: str,
                 error: type[SettingsError] = SettingsError) -> dict[str, Any]:
    """``values`` checked against the dataclass ``cls``: known keys only, each coerced.

    ``owner`` says what the keys belong to in an error ("stage 'probe'", "section 'train'").
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out = {}
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in fields:
            raise error(f"{where}: {owner} has no setting {key!r}; known: {', '.join(fields) or '(none)'}")
        out[key] = coerce_field(fields[key], hints[key], value, where, error)
    return out


def merge_settings(target: Any, updates: Any, path: str, error: type[SettingsError] = SettingsError) -> None:
    """Overlay a nested mapping onto a dataclass of dataclasses, in place."""
    where_all = path or "the config"
    if not isinstance(updates, dict):
        raise error(f"{where_all}: expected a mapping, got {updates!r}")
    owner = f"section {path!r}" if path else "the config"
    nested = {k: v for k, v in updates.items() if dataclasses.is_dataclass(getattr(target, k, None))}
    plain = settings_for(type(target), {k: v for k, v in updates.items() if k not in nested}, path, owner, error)
    for key, value in plain.items():
        setattr(target, key, value)
    for key, value in nested.items():
        merge_settings(getattr(target, key), value, f"{path}.{key}" if path else key, error)


def coerce_value(hint: Any, value: Any, path: str, error: type[SettingsError] = SettingsError) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return coerce_value(option, value, path, error)
            except SettingsError as err:
                errors.append(str(err))
        raise error(errors[0] if len(errors) == 1 else f"{path}: {value!r} matches none of {hint}")
    if origin is typing.Literal:
        if value not in args:
            raise error(f"{path}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise error(f"{path}: expected a list, got {type(value).__name__} {value!r}")
        inner = args[0] if args else Any
        items = [coerce_value(inner, v, f"{path}[{i}]", error) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise error(f"{path}: expected true or false, got {value!r}")
        return value
    if hint is float:
        return _number(value, path, error)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise error(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is str:
        if value is None:  # `key: null` / `--set key=none` clears a text setting
            return ""
        if not isinstance(value, str):
            raise error(f"{path}: expected text, got {value!r}")
        return value
    raise error(f"{path}: unsupported setting type {hint}")


def _number(value: Any, path: str, error: type[SettingsError]) -> float:
    if isinstance(value, str):
        # YAML 1.1 (PyYAML) reads "3e-4", without a dot, as text: accept it as the number it spells
        try:
            value = float(value)
        except ValueError:
            raise error(f"{path}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{path}: expected a number, got {value!r}")
    if math.isnan(value):
        # NaN passes every range comparison, so it would slip through the range check.
        raise error(f"{path}: expected a number, got NaN")
    return float(value)
