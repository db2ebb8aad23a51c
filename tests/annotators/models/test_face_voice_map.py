"""``annotators.models.face_voice_map``: the first canonical pair of faces and voices, shipped as two axes."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from annotators.models.face_voice_map import MODEL, FaceVoiceMapError, fit_map, load_map, save_map
from curation.models.model_catalog import MODEL_CATALOG
from curation.models.model_store import resolve


def people(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` people whose face and voice vectors share one hidden two-valued trait (as sex shows in
    both), each otherwise their own noise."""
    rng = np.random.default_rng(seed)
    trait = rng.choice([-1.0, 1.0], n)[:, None]
    face_axis, voice_axis = np.random.default_rng(0).standard_normal(128), np.random.default_rng(1).standard_normal(256)
    faces = trait * face_axis / 12 + rng.standard_normal((n, 128)) * 0.08
    voices = trait * voice_axis / 16 + rng.standard_normal((n, 256)) * 0.06
    return faces, voices


def test_the_map_finds_the_shared_trait_in_people_it_never_saw():
    faces, voices = people(80, seed=1)
    mapping = fit_map(faces, voices)
    new_faces, new_voices = people(40, seed=2)
    own = np.array([mapping.match(f, v) for f, v in zip(new_faces, new_voices, strict=True)])
    assert (own > 0).mean() >= 0.95
    # the trait's sign: a face of one kind under a voice of the other matches below 0
    mixed = [mapping.match(new_faces[i], new_voices[j]) for i in range(40) for j in range(40)
             if np.sign(mapping.face_variate(new_faces[i])) != np.sign(mapping.face_variate(new_faces[j]))]
    assert np.mean(np.array(mixed) < 0) >= 0.95
    # shuffled people share nothing: the map fitted on them tells own from foreign no better than chance
    shuffled = fit_map(faces, voices[np.random.default_rng(3).permutation(80)])
    assert 0.3 <= np.mean([shuffled.match(f, v) > 0 for f, v in zip(new_faces, new_voices, strict=True)]) <= 0.75


def test_fitting_is_deterministic_and_the_file_is_its_bytes(tmp_path: Path):
    faces, voices = people(30, seed=4)
    save_map(fit_map(faces, voices), tmp_path / "a.npz")
    save_map(fit_map(faces.copy(), voices.copy()), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = load_map(tmp_path / "a.npz")
    assert loaded.match(faces[0], voices[0]) == pytest.approx(fit_map(faces, voices).match(faces[0], voices[0]))
    assert np.isnan(loaded.match(None, voices[0])) and np.isnan(loaded.match(faces[0], np.full(256, np.nan)))


def test_too_few_people_and_a_file_that_is_not_a_map_are_named(tmp_path: Path):
    with pytest.raises(ValueError, match="at least 3 people"):
        fit_map(np.zeros((2, 128)), np.zeros((2, 256)))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(FaceVoiceMapError, match=r"bad\.npz: not a face/voice map"):
        load_map(tmp_path / "bad.npz")
    np.savez(tmp_path / "small.npz", face_axis=np.zeros(3), face_offset=0.0, voice_axis=np.zeros(256), voice_offset=0.0)
    with pytest.raises(FaceVoiceMapError, match=r"small\.npz: not a face/voice map \(axes"):
        load_map(tmp_path / "small.npz")


def test_the_shipped_map_is_the_catalogued_one():
    path = resolve(MODEL)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MODEL_CATALOG[MODEL].sha256
    mapping = load_map(path)
    assert mapping.face_axis.shape == (128,) and mapping.voice_axis.shape == (256,)
