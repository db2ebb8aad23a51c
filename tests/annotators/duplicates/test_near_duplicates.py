import numpy as np
import pytest
from identity_fixtures import decode_frames, reencode

from annotators.duplicates.near_duplicates import DuplicateCriteria, SegmentFingerprint, find_near_duplicates
from annotators.duplicates.perceptual_hash import phash64

ORIGINALS = (
    "infinitetalk_ref_video", "liveportrait_d0", "liveportrait_d11", "liveportrait_d12",
    "panda_1NMpoAqzJfY.25", "panda_4Q8lLQxWgmU.13", "panda_CpO_paJZ9bI.35", "panda_it8sFJe038g.7",
    "talkvid_tys_gt", "nemo_test_video",
)  # fmt: skip


def _fingerprint(name: str, segment_id: str, video_id: str, start: float = 0.0, seconds: float = 6.0):
    frames = decode_frames(name, 2.0, 256, start + seconds)[int(start * 2) :]
    return SegmentFingerprint(segment_id, video_id, tuple(phash64(f) for f in frames))


def _synthetic(segment_id: str, video_id: str, hashes, embedding=None) -> SegmentFingerprint:
    vector = None if embedding is None else np.asarray(embedding, dtype=np.float64) / np.linalg.norm(embedding)
    return SegmentFingerprint(segment_id, video_id, tuple(hashes), vector)


def test_the_first_of_a_group_is_kept_and_later_ones_point_to_it_without_chains():
    base = [0x0123456789ABCDEF, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF]
    near = [h ^ 0b111 for h in base]  # 3 bits off: a re-encode
    nearest = [h ^ 0b011 for h in base]  # 2 bits from base, 1 from near
    drifted = [h ^ 0b111000000 for h in near]  # 3 bits from near but 6 from base
    other = [0xFFFFFFFF00000000, 0x3333333333333333, 0x5555555555555555]
    fingerprints = [
        _synthetic("s1", "v1", base),
        _synthetic("s2", "v2", other),
        _synthetic("s3", "v3", near),
        _synthetic("s4", "v4", nearest),
        _synthetic("s5", "v5", drifted),
    ]
    duplicates = find_near_duplicates(fingerprints)
    # s4 matches both s1 and the duplicate s3: its twin is the kept s1. s5 only resembles the
    # duplicate s3, not s1 (6 bits > the 4-bit mean): no chaining through duplicates, s5 is kept.
    assert [(d.segment_id, d.kept_segment_id, d.evidence) for d in duplicates] == [
        ("s3", "s1", "phash"),
        ("s4", "s1", "phash"),
    ]
    assert duplicates[0].mean_hash_distance == pytest.approx(3.0)
    assert duplicates[1].mean_hash_distance == pytest.approx(2.0)
    reordered = find_near_duplicates([fingerprints[i] for i in (2, 0, 1, 3, 4)])
    assert [(d.segment_id, d.kept_segment_id) for d in reordered] == [("s1", "s3"), ("s4", "s3"), ("s5", "s3")]


def test_embeddings_alone_can_prove_a_duplicate_and_both_signals_are_reported():
    fingerprints = [
        _synthetic("a", "v1", [1 << 63, None], [1.0, 0.0, 0.0]),
        _synthetic("b", "v2", [], [0.999, 0.03, 0.0]),
        _synthetic("c", "v3", [1 << 63, None], [1.0, 0.01, 0.0]),
        _synthetic("d", "v4", [], [0.0, 1.0, 0.0]),
    ]
    duplicates = {d.segment_id: d for d in find_near_duplicates(fingerprints)}
    assert sorted(duplicates) == ["b", "c"]
    assert duplicates["b"].evidence == "clip" and duplicates["b"].kept_segment_id == "a"
    assert duplicates["c"].evidence == "phash+clip"
    assert duplicates["b"].cosine == pytest.approx(0.999 / np.hypot(0.999, 0.03))


def test_duplicate_segment_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        find_near_duplicates([_synthetic("a", "v1", [1]), _synthetic("a", "v2", [1])])


def test_reuploads_of_real_clips_are_found_and_different_clips_kept(tmp_path):
    copies = {
        "reupload_half_size": reencode(
            "liveportrait_d12", tmp_path / "half.mp4", "scale=iw/2:-2,eq=brightness=0.05:saturation=1.25", ("-t", "6")
        ),
        "reupload_letterboxed": reencode(
            "panda_CpO_paJZ9bI.35", tmp_path / "bars.mp4", "scale=480:-2,pad=480:360:0:(oh-ih)/2", ("-t", "6")
        ),
    }
    fingerprints = [_fingerprint(name, name, name) for name in ORIGINALS]
    fingerprints += [_fingerprint(str(path), segment, segment) for segment, path in copies.items()]
    duplicates = find_near_duplicates(fingerprints)
    assert [(d.segment_id, d.kept_segment_id, d.evidence) for d in duplicates] == [
        ("reupload_half_size", "liveportrait_d12", "phash"),
        ("reupload_letterboxed", "panda_CpO_paJZ9bI.35", "phash"),
    ]
    for duplicate in duplicates:
        assert duplicate.matched_fraction == 1.0
        assert duplicate.mean_hash_distance < 2.0


def test_other_moments_of_one_static_shot_are_only_compared_when_asked():
    # Two 3 s segments of one talking-head video: a fixed camera, the same man, different speech.
    first = _fingerprint("infinitetalk_ref_video", "first", "infinitetalk", start=0.0, seconds=3.0)
    second = _fingerprint("infinitetalk_ref_video", "second", "infinitetalk", start=3.0, seconds=3.0)
    assert find_near_duplicates([first, second]) == []
    # Compared anyway, the two moments of the static shot look like one footage to pHash: the
    # reason why same-video pairs are skipped by default.
    within = find_near_duplicates([first, second], DuplicateCriteria(compare_within_video=True))
    assert [(d.segment_id, d.kept_segment_id) for d in within] == [("second", "first")]


def test_renders_of_one_photo_are_visual_near_duplicates():
    # The four fantasy clips animate one photo with the same framing; only the lips differ.
    # Visually they are one footage (mean pHash distance 0.5-3 bits), and dedup says so.
    names = ("fantasy_end0.1", "fantasy_end0.4", "fantasy_end0.7", "fantasy_end1.0")
    duplicates = find_near_duplicates([_fingerprint(n, n, n) for n in names])
    assert [(d.segment_id, d.kept_segment_id) for d in duplicates] == [
        (n, "fantasy_end0.1") for n in names[1:]
    ]


def test_blocked_all_pairs_search_finds_the_same_duplicates_as_one_block(monkeypatch):
    from annotators.duplicates import near_duplicates

    rng = np.random.default_rng(4)
    originals = [[int(h) for h in rng.integers(0, 2**63, 8)] for _ in range(60)]
    embeddings = rng.normal(size=(60, 16))
    fingerprints = [_synthetic(f"o{i}", f"v{i}", originals[i], embeddings[i]) for i in range(60)]
    # Planted: hash copies (2 bits flipped) and embedding-only copies of a few originals.
    for i in (3, 17, 41):
        fingerprints.append(_synthetic(f"h{i}", f"w{i}", [h ^ 0b101 for h in originals[i]]))
    for i in (5, 29):
        fingerprints.append(_synthetic(f"e{i}", f"x{i}", [], embeddings[i] + 0.001))
    expected = [("h3", "o3"), ("h17", "o17"), ("h41", "o41"), ("e5", "o5"), ("e29", "o29")]
    assert [(d.segment_id, d.kept_segment_id) for d in find_near_duplicates(fingerprints)] == expected
    monkeypatch.setattr(near_duplicates, "_BLOCK_ELEMENTS", 37)  # many tiny blocks
    assert [(d.segment_id, d.kept_segment_id) for d in find_near_duplicates(fingerprints)] == expected


def _brute_force_duplicates(fingerprints, criteria, earlier=()):
    """The former way: every pair of key frames and of embeddings compared, then the walk over
    every kept earlier segment that shares a key frame within ``max_frame_distance`` bits or
    passes the CLIP cut."""
    from annotators.duplicates.near_duplicates import _compare
    from annotators.duplicates.perceptual_hash import hash_array

    walk = [*earlier, *fingerprints]
    frames = [hash_array(f.key_frame_hashes) for f in walk]
    values = np.concatenate([h[v] for h, v in frames])
    owner = np.concatenate([np.full(int(v.sum()), i) for i, (_, v) in enumerate(frames)])
    close_frames = np.bitwise_count(values[:, None] ^ values[None, :]) <= criteria.max_frame_distance
    shares_frame = np.zeros((len(walk), len(walk)), dtype=bool)
    rows, cols = np.nonzero(close_frames)
    shares_frame[owner[rows], owner[cols]] = True
    kept, found = list(range(len(earlier))), []
    for index in range(len(earlier), len(walk)):
        fingerprint, duplicate = walk[index], None
        for twin in kept:
            other = walk[twin]
            clip = (
                fingerprint.embedding is not None
                and other.embedding is not None
                and float(np.float32(fingerprint.embedding) @ np.float32(other.embedding)) >= 1.0 - criteria.clip_eps
            )
            if shares_frame[index, twin] or clip:
                duplicate = _compare(fingerprint, other, bool(shares_frame[index, twin]), clip, criteria)
                if duplicate is not None:
                    break
        if duplicate is None:
            kept.append(index)
        else:
            found.append(duplicate)
    return found


def _random_corpus(seed, segments=400, frames=8, with_embeddings=False):
    """Random key-frame hashes with planted copies: exact, a few bits off per frame, shifted in
    time, near the mean-distance cut (3-5 bits) or only frame-level close (6-10 bits), in other
    videos and in the same video."""
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(segments, 24))
    fingerprints = []
    for i in range(segments):
        hashes = [int(h) for h in rng.integers(0, 2**64, frames, dtype=np.uint64)]
        if i % 17 == 3:
            hashes[i % frames] = None  # a flat frame
        vector = embeddings[i] if with_embeddings and i % 5 else None
        fingerprints.append(_synthetic(f"s{i:04d}", f"v{i // 3:04d}", hashes, vector))
    for n, source in enumerate(rng.choice(segments, 150)):
        original = fingerprints[source]
        bits = int(rng.integers(0, 11))
        shift = int(rng.integers(0, 3))
        hashes = [
            None if h is None else h ^ sum(1 << int(b) for b in rng.choice(64, bits, replace=False))
            for h in original.key_frame_hashes[shift:]
        ]
        vector = None
        if with_embeddings and n % 3 == 0:
            vector = embeddings[source] + rng.normal(0, 0.15 if n % 2 else 0.03, 24)
        video = original.video_id if n % 10 == 0 else f"c{n:04d}"
        fingerprints.append(_synthetic(f"c{n:04d}", video, hashes, vector))
    order = rng.permutation(len(fingerprints))
    return [fingerprints[i] for i in order]


def _outcome(duplicates):
    return [
        (d.segment_id, d.kept_segment_id, d.evidence, d.matched_fraction, d.mean_hash_distance, d.cosine)
        for d in duplicates
    ]


@pytest.mark.parametrize(
    "criteria",
    [
        DuplicateCriteria(),
        DuplicateCriteria(compare_within_video=True),
        DuplicateCriteria(max_frame_distance=6, max_mean_distance=8.0, min_matched_fraction=0.5),
        DuplicateCriteria(max_frame_distance=12, max_mean_distance=2.5),
    ],
)
def test_hashing_finds_exactly_the_duplicates_all_pairs_comparison_finds(criteria):
    fingerprints = _random_corpus(0)
    expected = _brute_force_duplicates(fingerprints, criteria)
    assert len(expected) >= 30  # planted copies found ...
    assert len(expected) <= 130  # ... and copies beyond the cut kept
    assert _outcome(find_near_duplicates(fingerprints, criteria)) == _outcome(expected)


@pytest.mark.parametrize("exact_up_to", [20_000, 0])
def test_clip_search_finds_exactly_the_duplicates_all_pairs_comparison_finds(exact_up_to):
    from annotators.clustering.vector_neighbours import NeighbourSearch

    fingerprints = _random_corpus(1, with_embeddings=True)
    criteria = DuplicateCriteria(clip_eps=0.02)
    expected = _brute_force_duplicates(fingerprints, criteria)
    assert sum(d.evidence == "clip" for d in expected) >= 5
    found = find_near_duplicates(fingerprints, criteria, search=NeighbourSearch(exact_up_to=exact_up_to, probes=4))
    assert _outcome(found) == _outcome(expected)


def test_segments_kept_by_earlier_runs_are_twins_and_never_reported():
    fingerprints = _random_corpus(2)
    criteria = DuplicateCriteria()
    before = fingerprints[:300]
    duplicates_before = {d.segment_id for d in find_near_duplicates(before, criteria)}
    earlier = [f for f in before if f.segment_id not in duplicates_before]
    new = fingerprints[300:]
    found = find_near_duplicates(new, criteria, earlier=earlier)
    assert _outcome(found) == _outcome(_brute_force_duplicates(new, criteria, earlier=earlier))
    assert {d.segment_id for d in found} <= {f.segment_id for f in new}
    assert sum(d.kept_segment_id in {f.segment_id for f in earlier} for d in found) >= 10
    with pytest.raises(ValueError, match="earlier runs"):
        find_near_duplicates(new, criteria, earlier=new[:1])
