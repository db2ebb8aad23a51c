"""OpenCLIP image embeddings, on a randomly initialised small model built offline.

The real ViT-B-32 LAION weights are not available offline. The test builds ``ViT-S-32-alt`` with
random weights, saves its state dict with ``torch.save``, and the embedder loads it through
``open_clip.create_model_and_transforms(arch, pretrained=<path>)`` like the real file. Random
weights make no semantic embedding, but a copy of a frame still lands next to the frame.
"""

from pathlib import Path

import numpy as np
import pytest
from identity_fixtures import decode_frames, reencode

from annotators.duplicates.near_duplicates import DuplicateCriteria, SegmentFingerprint, find_near_duplicates
from annotators.duplicates.perceptual_hash import match_hash_sequences, phash64
from annotators.models.clip_embedder import ClipImageEmbedder
from curation.models.model_store import ModelMissingError

ARCHITECTURE = "ViT-S-32-alt"  # 22 M image-tower parameters: quick on a CPU


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> Path:
    import open_clip
    import torch

    torch.manual_seed(0)
    model = open_clip.create_model(ARCHITECTURE, pretrained=None)
    path = tmp_path_factory.mktemp("openclip") / "random_vit_s_32_alt.pt"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def embedder(random_weights) -> ClipImageEmbedder:
    return ClipImageEmbedder(random_weights, architecture=ARCHITECTURE)


def test_saved_weights_are_the_ones_loaded(embedder, random_weights):
    import torch

    saved = torch.load(random_weights, weights_only=True)
    embedder.setup()
    loaded = embedder._model.state_dict()
    name = "visual.conv1.weight"
    assert torch.equal(saved[name], loaded[name])


def test_embeddings_are_unit_vectors_and_match_the_model_called_directly(embedder):
    import torch
    from PIL import Image

    frames = list(decode_frames("liveportrait_d0", 2.0, 256, 3.0)[:3])
    vectors = embedder.embed(frames)
    assert vectors.shape == (3, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    with torch.no_grad():
        batch = torch.stack([embedder._preprocess(Image.fromarray(f)) for f in frames])
        direct = embedder._model.encode_image(batch)
    direct = (direct / direct.norm(dim=-1, keepdim=True)).numpy()
    np.testing.assert_allclose(vectors, direct, atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dimension)
    assert embedder.embed_segment([]) is None


def test_missing_weights_name_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("LPM_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelMissingError, match="lpm-curate models fetch openclip"):
        ClipImageEmbedder()


def test_clip_evidence_finds_a_cropped_copy_that_phash_misses(embedder, tmp_path):
    # A 10 % crop with rescale defeats pHash (about 12 bits per frame on these clips).
    copy = reencode("liveportrait_d12", tmp_path / "crop.mp4", "crop=iw*0.9:ih*0.9,scale=320:-2", ("-t", "4"))
    names = ("liveportrait_d12", "liveportrait_d0", "panda_CpO_paJZ9bI.35", "talkvid_tys_gt")
    segments = {name: decode_frames(name, 2.0, 256, 4.0) for name in names}
    segments["cropped_copy"] = decode_frames(str(copy), 2.0, 256, 4.0)
    by_hash = match_hash_sequences(
        [phash64(f) for f in segments["cropped_copy"]], [phash64(f) for f in segments["liveportrait_d12"]]
    )
    assert by_hash.mean_distance > DuplicateCriteria().max_mean_distance
    embeddings = {name: embedder.embed_segment(list(frames)) for name, frames in segments.items()}
    twin = float(embeddings["cropped_copy"] @ embeddings["liveportrait_d12"])
    others = [
        float(embeddings[a] @ embeddings[b])
        for a in embeddings
        for b in embeddings
        if a < b and {a, b} != {"cropped_copy", "liveportrait_d12"}
    ]
    # Measured with these random weights: twin 0.998, any other pair at most 0.93.
    assert twin > max(others) + 0.03
    eps = 1.0 - (twin + max(others)) / 2  # a cut between the twin pair and every other pair
    fingerprints = [SegmentFingerprint(name, name, (), embeddings[name]) for name in (*names, "cropped_copy")]
    duplicates = find_near_duplicates(fingerprints, DuplicateCriteria(clip_eps=eps))
    assert [(d.segment_id, d.kept_segment_id, d.evidence) for d in duplicates] == [
        ("cropped_copy", "liveportrait_d12", "clip")
    ]
