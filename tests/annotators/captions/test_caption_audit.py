"""The caption audit follows a claim's evidence path on the annotation's classes: the same item the
path names in the annotation's JSON document, and a claim is judged by the class of what it points at."""

import copy
import dataclasses

import pytest

from annotators.captions import caption_audit
from annotators.captions.caption_audit import claim_problems
from annotators.captions.caption_writer import write_captions
from annotators.performance.performance_annotator import annotate_segment
from schemas import annotation_classes
from schemas.performance_annotation import (
    AnnotationSchemaError,
    annotation_document,
    evidence_item,
    resolve_evidence,
)
from tests.annotators.caption_fixtures import synthetic_segment

PATHS = ["segment", "state", "state_timeline[0]", "expressions", "expressions.timeline[0]", "expressions.summary[0]",
         "head_pose", "head_pose.level", "head_events[0]", "gaze", "gaze.fractions", "blinks", "mouth", "voice",
         "voice.pauses", "voice.transcript", "shot", "shot.framing", "listener_reactions", "thresholds",
         "thresholds.head_nod_min_deg"]


@pytest.fixture(scope="module")
def annotation() -> annotation_classes.PerformanceAnnotation:
    return annotate_segment(synthetic_segment(nods=((1.0, 7.0, 0.6),), smiles=((3.0, 4.0, 0.6),)))


def test_evidence_is_the_item_the_path_names_in_the_document(annotation):
    document = annotation_document(annotation)
    for path in PATHS:
        item = evidence_item(annotation, path)
        documented = annotation_document(item) if dataclasses.is_dataclass(item) else item
        if isinstance(item, list):
            documented = [annotation_document(i) if dataclasses.is_dataclass(i) else i for i in item]
        assert documented == resolve_evidence(document, path), path
    for path in ("head_events[9]", "nosuch", "head_pose.level.x", "voice.pauses[0].x"):
        with pytest.raises(AnnotationSchemaError):
            resolve_evidence(document, path)
        with pytest.raises(AnnotationSchemaError):
            evidence_item(annotation, path)


def test_the_classes_the_audit_reads_a_confidence_or_a_span_of_are_every_class_that_has_one():
    classes = [c for c in vars(annotation_classes).values() if dataclasses.is_dataclass(c)]
    fields = {c: {f.name for f in dataclasses.fields(c)} for c in classes}
    assert set(caption_audit._CONFIDENT) == {c for c in classes if "confidence" in fields[c]}
    assert set(caption_audit._TIMED) == {c for c in classes if {"t_start", "t_end"} <= fields[c]}


def test_a_qualifier_on_evidence_without_a_span_is_a_problem_not_a_crash(annotation):
    caption = write_captions(annotation, "seed")
    assert claim_problems(annotation, caption) == []
    brief_gaze = copy.deepcopy(caption)
    gaze = f"gaze_{annotation.gaze.behaviour}"
    brief_gaze["claims"].append({"claim": gaze, "evidence": "gaze", "qualifier": "brief"})
    problems = claim_problems(annotation, brief_gaze)
    assert problems and all("is not brief" in p or "confidence" in p for p in problems)
    neutral_elsewhere = copy.deepcopy(caption)
    neutral_elsewhere["claims"].append({"claim": "neutral_expression", "evidence": "segment"})
    problems = claim_problems(annotation, neutral_elsewhere)
    assert any("neutral_expression: segment does not say so" in p for p in problems)
