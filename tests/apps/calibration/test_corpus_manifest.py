import csv
import hashlib
from collections import Counter
from pathlib import Path

import pytest

from apps.calibration.corpus_manifest import (
    EVALUATION_REPOSITORIES,
    LABELS,
    ManifestError,
    default_manifest_path,
    load_corpus_manifest,
)


@pytest.fixture(scope="module")
def shipped():
    return load_corpus_manifest()


def test_shipped_manifest_is_in_the_package_and_parses(shipped):
    assert default_manifest_path().is_file()
    assert {c.label for c in shipped} <= set(LABELS)
    assert not {c.source_repo for c in shipped} & EVALUATION_REPOSITORIES


def test_shipped_corpus_counts_match_the_documented_ones(shipped):
    # docs/calibration_corpus.md states these; a row added or dropped without the doc fails here.
    talking = [c for c in shipped if c.label == "talking_head"]
    assert Counter(c.label for c in shipped) == {"talking_head": 97, "face_other": 14, "multi_person": 4,
                                                 "no_face": 1, "conversation": 2, "listening": 2}
    assert len({c.source_id for c in talking}) == 28 and len({c.person_id for c in talking}) == 89
    assert len({c.source_id for c in shipped}) == 39
    # A listener is another person than the speaker of the same recording.
    listeners = {c.person_id for c in shipped if c.label == "listening"}
    assert listeners and not listeners & {c.person_id for c in talking}
    # Speech for a good part of the clip: a GRID sentence is about 1.2 s of speech in its 3 s.
    assert all(c.has_audio and c.voiced_fraction is not None and c.voiced_fraction > 0.35 for c in talking)


def test_no_shipped_clip_is_a_copy_of_a_shared_clip(shipped, shared_media: Path):
    # The shared clips tuned the current rules; a byte-identical copy would not be new footage.
    shared = {hashlib.sha256(p.read_bytes()).hexdigest() for p in shared_media.iterdir() if p.suffix == ".mp4"}
    assert len(shared) > 50
    assert [c.name for c in shipped if c.sha256 in shared] == []


def _rewrite(tmp_path: Path, **changes: str) -> Path:
    with open(default_manifest_path(), newline="") as fh:
        rows = list(csv.DictReader(fh))[:2]
    rows[0].update(changes)
    out = tmp_path / "manifest.csv"
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"label": "talking-head"}, "label"),
        ({"sha256": "abc"}, "sha256"),
        ({"commit": "HEAD"}, "commit"),
        ({"source_repo": "OpenTalker/SadTalker"}, "source_repo"),
        ({"name": "../escape.mp4"}, "name"),
        ({"has_audio": "yes"}, "has_audio"),
    ],
)
def test_a_bad_row_is_refused_naming_the_field(tmp_path: Path, changes: dict[str, str], field: str):
    with pytest.raises(ManifestError, match=f"line 2 .*bad {field}"):
        load_corpus_manifest(_rewrite(tmp_path, **changes))


def test_a_clip_listed_twice_is_refused(tmp_path: Path):
    with open(default_manifest_path(), newline="") as fh:
        second = list(csv.DictReader(fh))[1]
    with pytest.raises(ManifestError, match="twice"):
        load_corpus_manifest(_rewrite(tmp_path, name=second["name"]))


@pytest.mark.parametrize("excerpt", ["4.6..7.9", "t=7.9..4.6", "t=1..2;crop=0x10+0+0", "t=1..2;crop=10x10"])
def test_a_bad_excerpt_is_refused_naming_it(tmp_path: Path, excerpt: str):
    with pytest.raises(ManifestError, match=r"line 2 .*bad excerpt"):
        load_corpus_manifest(_rewrite(tmp_path, excerpt=excerpt))


def test_two_excerpts_of_one_file_are_two_clips_but_one_excerpt_twice_is_refused(tmp_path: Path):
    with open(default_manifest_path(), newline="") as fh:
        first = next(iter(csv.DictReader(fh)))
    cut = {**first, "name": "first_cut.mp4", "excerpt": "t=0..2"}
    other_cut = {**first, "name": "second_cut.mp4", "excerpt": "t=2..4;crop=100x100+0+0"}
    path = tmp_path / "manifest.csv"
    for rows, refused in (([first, cut, other_cut], False), ([first, cut, {**cut, "name": "again.mp4"}], True)):
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(first))
            writer.writeheader()
            writer.writerows(rows)
        if refused:
            with pytest.raises(ManifestError, match="twice"):
                load_corpus_manifest(path)
        else:
            clips = load_corpus_manifest(path)
            assert [str(c.excerpt) if c.excerpt else None for c in clips] == [None, "t=0..2", "t=2..4;crop=100x100+0+0"]
