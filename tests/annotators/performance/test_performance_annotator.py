"""The performance annotation: schema validity, every section on known synthetic input, real clips."""

import json

import numpy as np
import pytest

from annotators.face.face_signals import BLENDSHAPE_NAMES
from annotators.performance.performance_annotator import SegmentSignals, annotate_segment
from schemas.annotation_classes import AnnotatedSegment, PerformanceAnnotation
from schemas.performance_annotation import (
    ANNOTATION_SCHEMA_VERSION,
    SCHEMA_PATH,
    AnnotationSchemaError,
    annotation_document,
    validate_annotation,
)
from schemas.speech_rows import TranscribedWord
from tests.annotators.caption_fixtures import FPS, real_segment, synthetic_segment

_B = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}


@pytest.fixture(scope="module")
def listening() -> tuple[SegmentSignals, PerformanceAnnotation]:
    segment = synthetic_segment(nods=((1.0, 7.0, 0.6), (5.0, 6.0, 0.5)), smiles=((3.0, 4.0, 0.6),),
                                blinks=(0.5, 2.5, 6.5), vocalisations=((6.0, 6.4),))
    return segment, annotate_segment(segment)


def test_version_comes_from_the_schema_file():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["properties"]["schema_version"]["const"] == ANNOTATION_SCHEMA_VERSION
    assert ANNOTATION_SCHEMA_VERSION == "1.0.0"


def test_listening_segment_sections(listening):
    _segment, a = listening
    assert a.schema_version == ANNOTATION_SCHEMA_VERSION
    assert a.segment == AnnotatedSegment(t_start=100.0, t_end=108.0, fps=FPS, n_frames=200, present_frac=1.0,
                                         confidence=1.0)
    assert a.state.dominant == "listening" and a.state.fractions.listening == 1.0
    assert a.state.confidence > 0.7  # vad 0.95 and speaking 0.1: both clear-cut
    nods = [e for e in a.head_events if e.type == "nod"]
    assert [e.t_start for e in nods] == pytest.approx([101.0, 105.0], abs=0.1)
    assert [e.amplitude_deg for e in nods] == pytest.approx([7.0, 6.0], abs=0.8)
    assert len(a.head_events) == 2
    smiles = [e for e in a.expressions.timeline if e.expression == "smile"]
    assert len(smiles) == 1
    assert smiles[0].t_start == pytest.approx(103.0, abs=0.1) and smiles[0].t_end == pytest.approx(104.0, abs=0.1)
    assert smiles[0].mean_intensity == pytest.approx(0.6, abs=0.05)
    assert a.blinks.count == 3 and a.blinks.times == pytest.approx([100.5, 102.5, 106.5], abs=0.05)
    assert a.blinks.rate_per_min == pytest.approx(22.5)
    reactions = [(r.type, r.evidence) for r in a.listener_reactions]
    assert reactions == [("back_channel_nod", "head_events[0]"), ("smile", "expressions.timeline[0]"),
                         ("back_channel_nod", "head_events[1]"), ("vocalisation", None)]
    vocal = a.listener_reactions[-1]
    assert vocal.t_start == pytest.approx(106.0, abs=0.05) and vocal.t_end == pytest.approx(106.4, abs=0.05)
    assert a.voice.owner == "partner" and a.voice.speech_rate == "unknown"
    assert a.voice.speech_rate_wps is None and a.voice.transcript is None
    assert a.shot.framing == "close_up" and a.shot.camera_motion == "static"
    assert a.mouth.activity == "still" and a.head_pose.level == "moderate"
    assert a.thresholds["head_nod_min_deg"] == 4.0 and a.thresholds["smile_enter"] == 0.35


def test_speech_rate_and_transcript_come_from_asr_words():
    words = [TranscribedWord(w, 100.0 + 0.19 * i, 100.15 + 0.19 * i, 1.0) for i, w in enumerate("ab" * 10)]
    words.append(TranscribedWord("outside", 109.0, 109.3, 1.0))  # after the segment
    a = annotate_segment(synthetic_segment(seconds=4.0, state=1, words=words))
    voice = a.voice
    assert voice.asr and voice.n_words == 20 and voice.owner == "performer"
    assert voice.speech_rate_wps == pytest.approx(5.0) and voice.speech_rate == "fast"
    assert voice.transcript.split() == list("ab" * 10)
    silent = annotate_segment(synthetic_segment(seconds=4.0, state=0, words=[])).voice
    assert silent.owner == "none" and silent.transcript == "" and silent.speech_rate == "unknown"


def test_pauses_are_gaps_between_voice():
    segment = synthetic_segment(seconds=6.0, state=1)
    segment.vad_prob[50:70] = 0.02  # 0.8 s of silence inside speech
    segment.vad_prob[:5] = 0.02  # leading silence is not a pause
    pauses = annotate_segment(segment).voice.pauses
    assert [(p.t_start, p.t_end) for p in pauses] == [(102.0, 102.8)]


@pytest.mark.parametrize("height,framing", [(0.5, "close_up"), (0.15, "medium"), (0.05, "wide")])
def test_framing_from_face_height(height, framing):
    assert annotate_segment(synthetic_segment(seconds=3.0, face_height=height)).shot.framing == framing


@pytest.mark.parametrize("motion,camera", [(1.0, "static"), (4.0, "moving"), (9.0, "moving")])
def test_camera_motion_from_frame_difference(motion, camera):
    # the synthetic face box never moves, so mid-range frame differences are not the person's
    assert annotate_segment(synthetic_segment(seconds=3.0, frame_motion=motion)).shot.camera_motion == camera


def test_a_segment_without_a_face_is_unknown_but_valid():
    segment = synthetic_segment(seconds=3.0, nods=((1.0, 8.0, 0.6),))
    np.asarray(segment.present)[:] = False
    a = annotate_segment(segment)
    assert a.segment.present_frac == 0.0 and a.head_events == []
    assert a.expressions.dominant == "unknown" and a.gaze.behaviour == "unknown"
    assert a.shot.framing == "unknown" and a.blinks.rate_per_min is None
    assert a.head_pose.level == "unknown" and a.mouth.activity == "unknown"


def test_bad_shapes_are_refused():
    segment = synthetic_segment(seconds=2.0)
    broken = SegmentSignals(**{**segment.__dict__, "blendshapes": segment.blendshapes[:, :40]})
    with pytest.raises(ValueError, match="blendshapes"):
        annotate_segment(broken)


@pytest.mark.parametrize("damage,message", [
    (lambda a: a.pop("gaze"), "'gaze' is a required property"),
    (lambda a: a["blinks"].__setitem__("rate_per_min", float("nan")), "blinks.rate_per_min"),
    (lambda a: a["head_events"][0].__setitem__("t_end", 100.5), "head_events[0]: t_end"),
    (lambda a: a["head_events"][0].__setitem__("type", "wink"), "head_events[0].type"),
    (lambda a: a["listener_reactions"][0].__setitem__("evidence", "head_events[9]"), "no item 9"),
    (lambda a: a["expressions"]["timeline"][0].__setitem__("t_end", 120.0), "outside the segment"),
])
def test_validation_names_the_problem(listening, damage, message):
    _segment, a = listening
    broken = annotation_document(a)  # a fresh document: damaging it leaves the fixture's annotation as it was
    damage(broken)
    with pytest.raises(AnnotationSchemaError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_annotation(broken)


def test_real_speaking_clip():
    segment, _m = real_segment("talkvid_talk_emotion_gt.mp4", 6.0)
    a = annotate_segment(segment)
    assert a.state.dominant == "speaking" and a.voice.owner == "performer"
    assert a.mouth.activity == "active" and a.mouth.confidence >= 0.5
    assert a.shot.framing == "close_up" and a.shot.camera_motion == "static"
    assert a.gaze.behaviour == "at_camera"  # head turned -13 deg, eyes back on the lens
    assert abs(a.head_pose.median_deg.yaw) > 8
    assert not [e for e in a.expressions.timeline if e.expression == "smile"]


def test_real_listening_clip_smiles_are_in_the_blendshapes():
    segment, _m = real_segment("liveportrait_d19.mp4", 6.0, partner_audio="infinitetalk_ref_video.mp4")
    a = annotate_segment(segment)
    assert a.state.dominant == "listening" and a.voice.owner == "partner"
    smiles = [e for e in a.expressions.timeline if e.expression == "smile"]
    assert len(smiles) >= 2
    raw = segment.blendshapes[:, [_B["mouthSmileLeft"], _B["mouthSmileRight"]]].mean(axis=1)
    for smile in smiles:
        first, end = (round((t - segment.t_start) * FPS) for t in (smile.t_start, smile.t_end))
        window = raw[first:end]
        assert window.max() >= 0.35 and window.mean() >= 0.3
    outside = np.ones(len(raw), dtype=bool)
    for smile in smiles:
        outside[round(smile.t_start * FPS) : round(smile.t_end * FPS)] = False
    assert np.percentile(raw[outside], 90) < 0.35  # nothing left out that looks like a smile
    assert {r.type for r in a.listener_reactions} == {"smile"}
