"""The annotation classes are generated from the JSON Schema, and the annotator's documents read into them."""

import copy
import json
from pathlib import Path

import pytest

from annotators.captions.annotation_document import read_annotation
from annotators.performance.performance_annotator import annotate_segment
from curation.store import plain_codec
from curation.store.plain_codec import PlainDataError
from schemas import annotation_classes
from schemas.annotation_classes import PerformanceAnnotation, Pose
from schemas.annotation_codegen import CodegenError, generate
from schemas.performance_annotation import SCHEMA_PATH, annotation_schema
from tests.annotators.caption_fixtures import synthetic_segment


@pytest.fixture(scope="module")
def document() -> dict:
    segment = synthetic_segment(nods=((1.0, 7.0, 0.6),), smiles=((3.0, 4.0, 0.6),), blinks=(0.5, 2.5, 6.5),
                                vocalisations=((6.0, 6.4),))
    return annotate_segment(segment)


def test_the_committed_classes_are_what_the_schema_generates() -> None:
    # after a schema change: python -m schemas.annotation_codegen > schemas/annotation_classes.py
    assert Path(annotation_classes.__file__).read_text(encoding="utf-8") == generate()


def test_an_annotators_document_reads_into_the_classes_and_writes_back_the_same(document: dict) -> None:
    annotation = read_annotation(document)
    assert isinstance(annotation, PerformanceAnnotation)
    assert annotation.head_events[0].type == document["head_events"][0]["type"] == "nod"
    assert annotation.segment.n_frames == document["segment"]["n_frames"]
    assert annotation.head_pose.median_deg is None or isinstance(annotation.head_pose.median_deg, Pose)
    assert read_annotation(annotation) is annotation
    written, arrays = plain_codec.encode(annotation)
    assert not arrays and json.loads(json.dumps(written)) == json.loads(json.dumps(document))


def test_a_document_with_a_field_the_schema_lacks_or_missing_one_is_refused_by_name(document: dict) -> None:
    extra = copy.deepcopy(document)
    extra["voice"]["pitch_hz"] = 120.0
    with pytest.raises(PlainDataError, match="pitch_hz"):
        read_annotation(extra)
    missing = copy.deepcopy(document)
    del missing["gaze"]["shifts"]
    with pytest.raises(PlainDataError, match="shifts"):
        read_annotation(missing)


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
