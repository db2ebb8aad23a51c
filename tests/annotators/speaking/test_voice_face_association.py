"""Voices matched to faces across a video, and the spans whose voice belongs to another face."""

import math

from annotators.speaking.voice_face_association import VoicedSpan, foreign_spans, voice_owners


def span(track: str, face: str, voice: str | None, sync: float, n: int = 50) -> VoicedSpan:
    return VoicedSpan(track, face, voice, 0, n, sync)


def test_shot_reverse_shot_conversation():
    """A speaks in sync, A's voice goes on over B's moving lips, then the reverse."""
    spans = [
        span("s0", "A", "a", 0.40),
        span("s1", "B", "a", 0.15),
        span("s2", "A", "b", 0.05),
        span("s3", "B", "b", 0.30),
    ]
    owners = voice_owners(spans, baseline=0.1)
    assert owners == {"a": "A", "b": "B"}
    assert [s.track_id for s in foreign_spans(spans, owners)] == ["s1", "s2"]


def test_matching_is_one_to_one_and_weighs_the_whole_video():
    """Voice a alone would pick B (0.5 > 0.3), but giving B to b gains more overall."""
    spans = [span("s0", "A", "a", 0.30), span("s1", "B", "a", 0.50), span("s2", "B", "b", 0.45, n=100)]
    assert voice_owners(spans, baseline=0.1) == {"a": "A", "b": "B"}
    # Without b in the picture a goes to B, and its span over A becomes foreign.
    alone = spans[:2]
    assert voice_owners(alone, baseline=0.1) == {"a": "B"}
    assert [s.track_id for s in foreign_spans(alone, voice_owners(alone, baseline=0.1))] == ["s0"]


def test_each_span_counts_once_so_one_long_coincidence_cannot_outvote_two_shots_in_sync():
    """Each voice is in sync over its owner in two short shots and reads a chance high over the
    other face in one long shot; weighted by duration the long shots would swap the voices."""
    spans = [
        span("s0", "A", "a", 1.6),
        span("s1", "A", "a", 1.5),
        span("s2", "B", "a", 2.0, n=120),
        span("s3", "B", "b", 1.7),
        span("s4", "A", "b", 1.9, n=120),
    ]
    owners = voice_owners(spans, baseline=-1.0)
    assert owners == {"a": "A", "b": "B"}
    assert [s.track_id for s in foreign_spans(spans, owners)] == ["s2", "s4"]


def test_voices_without_positive_evidence_stay_unowned_and_change_nothing():
    spans = [span("s0", "A", "a", 0.05), span("s1", "B", "a", 0.02), span("s2", "B", "b", 0.4)]
    owners = voice_owners(spans, baseline=0.1)
    assert owners == {"b": "B"}
    assert foreign_spans(spans, owners) == []


def test_monologue_and_unknowns_never_change():
    one_face = [span("s0", "A", "a", 0.4), span("s1", "A", "b", 0.0)]
    assert foreign_spans(one_face, voice_owners(one_face)) == []
    unknown = [span("s0", "A", None, 0.4), span("s1", "B", "a", math.nan), span("s2", "B", None, 0.3)]
    assert voice_owners(unknown) == {}
    assert foreign_spans(unknown, {}) == []


def test_lips_following_a_voice_unmistakably_are_never_foreign():
    """Two similar voices grouped as one (small_face of the synthetic corpus: B's turn scored 4.68
    under the voice owned by A): B's span stays B's own speech; a weaker one would not."""
    spans = [span("s0", "A", "a", 3.23), span("s1", "B", "a", 4.68), span("s2", "A", "a", 2.64),
             span("s3", "B", "b", 2.97)]
    owners = voice_owners(spans, baseline=-1.0)
    assert owners == {"a": "A", "b": "B"}
    assert foreign_spans(spans, owners) == []
    weaker = [*spans[:1], span("s1", "B", "a", 3.5), *spans[2:]]
    assert [s.track_id for s in foreign_spans(weaker, owners)] == ["s1"]
