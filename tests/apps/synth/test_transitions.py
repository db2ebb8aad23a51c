import json

import numpy as np
import pytest

from apps.synth.transitions import HALF_FRAMES, mix, with_transitions


def flat(level: int, n: int) -> list[np.ndarray]:
    return [np.full((4, 6, 3), level, dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize("kind", ["dissolve", "fade"])
def test_transition_spans_the_cut_and_leaves_other_frames_alone(kind):
    frames = flat(200, 30) + flat(40, 30)
    out = list(with_transitions(iter(frames), {30: kind}))
    levels = np.array([float(f.mean()) for f in out])
    assert len(out) == 60
    assert (levels[: 30 - HALF_FRAMES] == 200).all() and (levels[30 + HALF_FRAMES :] == 40).all()
    inside = levels[30 - HALF_FRAMES : 30 + HALF_FRAMES]
    if kind == "dissolve":
        assert (np.diff(inside) < 0).all()  # steadily from the outgoing level to the incoming one
        assert inside.min() > 40 and inside.max() < 200
    else:
        assert inside.min() < 20  # through black
        assert (np.diff(inside[: HALF_FRAMES]) <= 0).all() and (np.diff(inside[HALF_FRAMES:]) >= 0).all()
    # no step between consecutive frames is as large as the hard cut would have been
    assert np.abs(np.diff(levels)).max() < 160 / 2


def test_mix_weights():
    a, b = flat(100, 1)[0], flat(0, 1)[0]
    assert mix(a, b, 0.25, "dissolve").mean() == 75
    assert mix(a, b, 0.25, "fade").mean() == 50
    assert mix(a, np.full_like(a, 200), 0.75, "fade").mean() == 100


def test_corpus_kinds_carry_their_truth(small_corpus):
    index = json.loads((small_corpus / "corpus.json").read_text())
    by_kind = {v["kind"]: json.loads((small_corpus / v["truth"]).read_text()) for v in index["videos"]}
    subtitled = by_kind["subtitled"]
    flagged = subtitled["expected_rejections"]["subtitled_shots"]
    assert flagged == [s["shot_index"] for s in subtitled["shots"] if s["shot_index"] % 2 == 0]
    dissolves = by_kind["dissolves"]["shots"]
    assert [s["transition_in"] for s in dissolves[:3]] == ["cut", "dissolve", "fade"][: len(dissolves[:3])]
    assert all(s["transition_frames"] == 2 * HALF_FRAMES for s in dissolves[1:])
    assert all(s["transition_in"] == "cut" for s in by_kind["interview"]["shots"])
