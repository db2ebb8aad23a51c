"""The one typed-settings loader of the workflows and the trainer: types, choices, ranges, unknown
keys and nested sections, each error naming the dotted path and raised as the caller's class."""

from dataclasses import dataclass, field
from typing import Literal

import pytest

from schemas.typed_settings import SettingsError, merge_settings, settings_for


class ToolError(SettingsError):
    pass


@dataclass
class Inner:
    rate: float = field(default=0.5, metadata={"range": (0, 1)})
    mode: Literal["fast", "exact"] = "fast"
    sizes: list[int] = field(default_factory=lambda: [1])
    name: str = "x"
    limit: int | None = None


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    steps: int = field(default=3, metadata={"range": (1, None)})
    enabled: bool = True


def test_a_nested_mapping_is_coerced_onto_the_sections():
    config = Outer()
    merge_settings(config, {"steps": 7, "inner": {"rate": "3e-1", "mode": "exact", "sizes": [2, 3], "name": None}},
                   "", ToolError)
    assert config == Outer(Inner(rate=0.3, mode="exact", sizes=[2, 3], name=""), steps=7)


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ({"inner": {"rate": 2}}, r"inner.rate: 2.0 is outside the allowed range \[0, 1\]"),
        ({"inner": {"mode": "slow"}}, r"inner.mode: 'slow' is not one of 'fast', 'exact'"),
        ({"inner": {"sizes": [1, "a"]}}, r"inner.sizes\[1\]: expected an integer"),
        ({"inner": {"rtae": 1}}, r"inner.rtae: section 'inner' has no setting 'rtae'; known: rate, mode"),
        ({"inner": 3}, r"inner: expected a mapping"),
        ({"steps": 0}, r"steps: 0 is outside the allowed range \[1, None\]"),
        ({"steps": True}, r"steps: expected an integer"),
        ({"enabled": "yes"}, r"enabled: expected true or false"),
        ({"inner": {"rate": float("nan")}}, r"inner.rate: expected a number, got NaN"),
        ({"inner": {"limit": "many"}}, r"inner.limit: expected an integer"),
        ({"other": 1}, r"other: the config has no setting 'other'"),
    ],
)
def test_a_bad_setting_names_its_path_in_the_callers_error(updates, message):
    with pytest.raises(ToolError, match=message):
        merge_settings(Outer(), updates, "", ToolError)


def test_settings_for_checks_one_dataclass_under_a_given_path():
    assert settings_for(Inner, {"limit": None, "rate": 1}, "stages[2]", "stage 'toy'") == {"limit": None, "rate": 1.0}
    with pytest.raises(SettingsError, match=r"stages\[2\].colour: stage 'toy' has no setting 'colour'"):
        settings_for(Inner, {"colour": "red"}, "stages[2]", "stage 'toy'")
