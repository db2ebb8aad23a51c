"""The annotation classes are generated from the JSON Schema (the committed file is the generator's output)."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas import annotation_classes
from schemas.annotation_codegen import CodegenError, generate
from schemas.performance_annotation import SCHEMA_PATH, _document, annotation_schema


def test_the_committed_classes_are_what_the_schema_generates() -> None:
    # after a schema change: python -m schemas.annotation_codegen > schemas/annotation_classes.py
    assert Path(annotation_classes.__file__).read_text(encoding="utf-8") == generate()


def test_a_field_added_to_the_schema_reaches_the_classes_and_an_unnamed_object_stops_the_generator() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema == annotation_schema()
    schema["properties"]["voice"]["properties"]["pitch_hz"] = {"type": ["number", "null"]}
    schema["properties"]["blinks"]["properties"]["longest_s"] = {"$ref": "#/$defs/seconds"}
    schema["properties"]["blinks"]["required"].append("longest_s")
    source = generate(schema)
    assert "    pitch_hz: float | None = None\n" in source  # not required: left out of a document
    assert "    longest_s: float\n" in source
    prosody = {"type": "object", "properties": {"f0": {"type": "number"}}}
    schema["properties"]["voice"]["properties"]["prosody"] = prosody
    with pytest.raises(CodegenError, match=r"voice\.prosody: an object without a class name"):
        generate(schema)


def test_a_value_of_a_set_gets_its_named_literal_and_a_name_for_anything_else_stops_the_generator() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    schema["properties"]["shot"]["properties"]["framing"]["enum"].append("extreme_close_up")
    source = generate(schema)
    assert 'Framing = Literal["close_up", "medium", "wide", "unknown", "extreme_close_up"]\n' in source
    assert "    framing: Framing\n" in source and "    direction: TurnDirection | None\n" in source
    schema["properties"]["shot"]["properties"]["framing"] = {"type": "string"}
    with pytest.raises(CodegenError, match=r"shot\.framing: ENUM_NAMES names a value that is not one of a set"):
        generate(schema)


def test_a_document_leaves_out_an_unset_property_the_schema_does_not_require_and_keeps_a_null_it_requires() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Section:
        required_or_null: float | None
        optional: float | None = None

    assert _document(Section(required_or_null=None)) == {"required_or_null": None}
    assert _document([Section(required_or_null=1.0, optional=2.0)]) == [{"required_or_null": 1.0, "optional": 2.0}]
