"""Voices matched to faces on a whole run's pooled evidence (``run_voice_association``)."""

import numpy as np

from annotators.speaking.run_voice_association import pooled_owners, run_faces, run_voice_clusters
from annotators.speaking.voice_face_association import VoicedSpan, foreign_spans, voice_owners

BASELINE = -1.0


def span(face: str, voice: str, sync: float) -> VoicedSpan:
    return VoicedSpan(f"{face}-{voice}", face, voice, 0, 50, sync)


# Synchrony of spans of three spliced conversations of `bench speaking` (seed 3), in run terms:
# voices P, Q, R, S and faces p, q, r, s. In c0 alone the two foreign spans (1.21 + 2.17)
# outweigh the two own ones (1.26 + 1.50).
RUN = {
    "c0": [span("p", "P", 1.26), span("q", "P", 1.21), span("p", "Q", 2.17), span("q", "Q", 1.50)],
    "c1": [span("p", "P", 1.42), span("r", "P", 1.05), span("p", "R", 1.03), span("r", "R", 1.90)],
    "c2": [span("s", "S", 2.38), span("q", "Q", 2.25), span("s", "Q", 0.60)],
}


def test_the_runs_evidence_corrects_a_conversation_its_own_spans_swap():
    assert voice_owners(RUN["c0"], BASELINE) == {"P": "q", "Q": "p"}  # swapped, alone
    owners = pooled_owners(RUN, BASELINE)
    assert owners == {"c0": {"P": "p", "Q": "q"}, "c1": {"P": "p", "R": "r"}, "c2": {"S": "s", "Q": "q"}}
    assert [s.track_id for s in foreign_spans(RUN["c0"], owners["c0"])] == ["q-P", "p-Q"]


def test_labels_linked_to_no_other_video_decide_as_the_video_alone():
    alone = {video: [VoicedSpan(s.track_id, f"{video}/{s.face}", f"{video}/{s.voice}", s.first, s.end, s.sync)
                     for s in spans] for video, spans in RUN.items()}
    assert pooled_owners(alone, BASELINE) == {video: voice_owners(spans, BASELINE) for video, spans in alone.items()}


def test_a_video_showing_one_face_gets_no_owners():
    assert pooled_owners({"solo": [span("p", "P", 2.0)], **RUN}, BASELINE)["solo"] == {}


def test_voices_join_across_videos_and_within_one_only_when_allowed():
    rng = np.random.default_rng(0)
    p, q = (v / np.linalg.norm(v) for v in rng.normal(size=(2, 256)))
    near_p = p + 0.05 * rng.normal(size=256)
    near_p /= np.linalg.norm(near_p)
    vectors = {("v1", "a"): p, ("v2", "x"): near_p, ("v1", "b"): q, ("v2", "y"): q}
    clusters = run_voice_clusters(vectors, threshold=0.3)
    assert clusters[("v1", "a")] == clusters[("v2", "x")]
    assert clusters[("v1", "b")] == clusters[("v2", "y")] != clusters[("v1", "a")]
    # One person's voice a video split in two: kept apart by default, joined when allowed.
    split = {("v1", "a"): p, ("v1", "b"): near_p, ("v2", "x"): p}
    apart = run_voice_clusters(split, threshold=0.3)
    assert apart[("v1", "a")] != apart[("v1", "b")]
    joined = run_voice_clusters(split, threshold=0.3, apart_within_video=False)
    assert joined[("v1", "a")] == joined[("v1", "b")] == joined[("v2", "x")]
    assert run_voice_clusters({}, threshold=0.3) == {}


def test_a_face_stands_for_an_identity_only_where_video_and_run_agree_one_to_one():
    spans = [span("f0", "a", 1.0), span("f1", "a", 1.0), span("f2", "b", 1.0), span("f2", "c", 1.0)]
    # f0 and f1 one identity (the run merged two of the video's faces), f2's two tracks two (split).
    identity_of_track = {"f0-a": "id-p", "f1-a": "id-p", "f2-b": "id-q", "f2-c": "id-r"}
    assert run_faces(spans, identity_of_track) == {}
    assert run_faces(spans[:1] + spans[2:3], identity_of_track) == {"f0": "id-p", "f2": "id-q"}
    assert run_faces(spans[:1], {"f0-a": None}) == {}
