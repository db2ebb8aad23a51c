"""A posted verdict's body: nesting counted outside strings, only flat objects of known fields."""

import re

import pytest

from apps.review.verdict_body import BodyError, nesting_depth, posted_fields


@pytest.mark.parametrize(("body", "depth"), [
    (b'{"note": "x"}', 1),
    (b'{"note": "[[[[[[{{{{"}', 1),  # brackets inside a string are text
    (b'{"note": "a \\" [[[[ \\\\"}', 1),  # escaped quotes do not end the string early
    (b"[" * 15_000 + b"]" * 15_000, 15_000),
    (b'{"a": [{"b": [1]}]}', 4),
])
def test_nesting_depth(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


def test_posted_fields_refuses_deep_unknown_and_missing() -> None:
    good = b'{"reviewer": "a", "item": "x", "verdict": "accept", "note": "[[[[[[[["}'
    assert posted_fields(good)["note"] == "[[[[[[[["
    for body, message in ((b"[" * 15_000 + b"]" * 15_000, "nested deeper than 4"),
                          (b'{"reviewer": "a", "item": "x", "verdict": "accept", "x": 1}', "unknown field(s) ['x']"),
                          (b'{"reviewer": "a", "item": "x"}', "missing field 'verdict'"),
                          (b'"accept"', "a verdict is a JSON object"),
                          (b'{"reviewer": ', "not JSON")):
        with pytest.raises(BodyError, match=re.escape(message)) as err:
            posted_fields(body)
        assert err.value.status == 400
