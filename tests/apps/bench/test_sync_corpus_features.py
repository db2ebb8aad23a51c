"""``apps.bench.sync_corpus_features`` on a real shared talking head: what the lip-sync and face/voice benches read."""

from pathlib import Path

import numpy as np
import pytest

from apps.bench.sync_corpus_features import FeatureClip, extract
from apps.bench.talking_head_sources import talking_head_names


@pytest.mark.slow
def test_each_segment_carries_its_signals_and_its_face(shared_media: Path, tmp_path: Path) -> None:
    name = "fantasy_end1.0.mp4"
    assert name in talking_head_names(shared_media)
    clip = FeatureClip(shared_media / name, "fantasy", "fantasy_woman")
    rows = extract([clip], tmp_path / "cache", tmp_path / "work")
    assert rows == [{"clip": "fantasy_end1.0.npz", "source": "fantasy", "person": "fantasy_woman",
                     "segments": rows[0]["segments"]}]
    assert rows[0]["segments"] >= 1  # she speaks throughout
    with np.load(tmp_path / "cache" / "fantasy_end1.0.npz") as data:
        n = rows[0]["segments"]
        assert data["signals"].shape == (int(data["ctx_len"].sum()), 3)
        assert len(data["seg_first"]) == len(data["av_sync"]) == len(data["weight"]) == n
        # one dlib vector per segment, of the track the segment's mouth signals were read from
        faces = data["face"]
        assert faces.shape == (n, 128)
        np.testing.assert_allclose(np.linalg.norm(faces, axis=1), 1.0, atol=1e-4)
        assert data["audio"].size > 3 * 16000
    # cached: a second call analyses nothing and lists the same rows
    assert extract([clip], tmp_path / "cache", tmp_path / "work") == rows
