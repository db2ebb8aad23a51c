"""An annotator's document read into the classes generated from its schema, and back."""

import copy
import json

import pytest

from annotators.captions.annotation_document import read_annotation
from annotators.performance.performance_annotator import annotate_segment
from curation.store import plain_codec
from curation.store.plain_codec import PlainDataError
from schemas.annotation_classes import PerformanceAnnotation, Pose
from schemas.performance_annotation import annotation_document
from tests.annotators.caption_fixtures import synthetic_segment


def _annotated() -> PerformanceAnnotation:
    segment = synthetic_segment(nods=((1.0, 7.0, 0.6),), smiles=((3.0, 4.0, 0.6),), blinks=(0.5, 2.5, 6.5),
                                vocalisations=((6.0, 6.4),))
    return annotate_segment(segment)


@pytest.fixture(scope="module")
def document() -> dict:
    return annotation_document(_annotated())


def test_an_annotators_document_reads_into_the_classes_and_writes_back_the_same(document: dict) -> None:
    annotation = read_annotation(document)
    assert isinstance(annotation, PerformanceAnnotation) and annotation == _annotated()
    assert annotation.head_events[0].type == document["head_events"][0]["type"] == "nod"
    assert annotation.segment.n_frames == document["segment"]["n_frames"]
    assert annotation.head_pose.median_deg is None or isinstance(annotation.head_pose.median_deg, Pose)
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
