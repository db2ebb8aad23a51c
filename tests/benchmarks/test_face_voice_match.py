"""``benchmarks.face_voice_match``: a face/voice map learned from people, scored on people it never saw."""

import numpy as np

from benchmarks.face_voice_match import MatchMap, MatchSettings, train_canonical, train_match


def people(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` people whose face and voice vectors share one hidden trait (as sex shows in both), each
    otherwise their own noise; unit vectors of 128 and 256 dimensions."""
    rng = np.random.default_rng(seed)
    trait = rng.choice([-1.0, 1.0], n)[:, None]
    face_axis, voice_axis = np.random.default_rng(0).standard_normal((2, 256))
    faces = trait * face_axis[:128] + rng.standard_normal((n, 128)) * 0.8
    voices = trait * voice_axis + rng.standard_normal((n, 256)) * 0.8
    return (faces / np.linalg.norm(faces, axis=1, keepdims=True),
            voices / np.linalg.norm(voices, axis=1, keepdims=True))


def own_above_foreign(score, faces: np.ndarray, voices: np.ndarray) -> float:
    """The share of (own, foreign) pairs in which a face's own voice scores higher."""
    wins, total = 0, 0
    for i in range(len(faces)):
        own = score(faces[i], voices[i])
        for j in range(len(faces)):
            if j != i:
                wins += own > score(faces[i], voices[j])
                total += 1
    return wins / total


def test_the_canonical_map_finds_the_shared_trait_in_new_people() -> None:
    faces, voices = people(80, seed=1)
    new_faces, new_voices = people(30, seed=2)
    matched = train_canonical(faces, voices, dims=20, components=1)
    # half the foreign voices share the trait (a tie at best), the other half are told apart
    assert own_above_foreign(matched.score, new_faces, new_voices) > 0.7
    # a map from shuffled pairs has nothing to find
    shuffled = train_canonical(faces, voices[np.random.default_rng(3).permutation(80)], dims=20, components=1)
    assert own_above_foreign(shuffled.score, new_faces, new_voices) < 0.65


def test_the_contrastive_map_is_seeded_and_scores_missing_vectors_as_unknown() -> None:
    faces, voices = people(40, seed=1)
    settings = MatchSettings(rank=2, steps=50)
    a1, b1 = train_match(faces, voices, settings)
    a2, b2 = train_match(faces, voices, settings)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    matched = MatchMap(faces.mean(0), voices.mean(0), a1, b1)
    assert np.isnan(matched.score(np.full(128, np.nan), voices[0]))
    assert -1.0 <= matched.score(faces[0], voices[0]) <= 1.0
