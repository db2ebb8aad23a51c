"""``--input`` as a folder, a glob or a list file, local or through fsspec, sorted and deduplicated."""

import os
from collections import Counter
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.ingest.discovery import InputError, discover_inputs


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    for rel in ("b.mp4", "A.MOV", "notes.txt", "deep/er/c.mkv", "deep/d.webm", "deep/skip.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


def test_folder_is_walked_recursively_for_video_extensions(tree: Path) -> None:
    found = discover_inputs(str(tree))
    assert found == sorted(str(tree / rel) for rel in ("A.MOV", "b.mp4", "deep/d.webm", "deep/er/c.mkv"))


def test_a_folders_files_that_are_not_videos_are_counted_by_extension(tree: Path) -> None:
    (tree / "deep" / "voice.WAV").write_bytes(b"x")
    (tree / "README").write_bytes(b"x")
    (tree / ".DS_Store").write_bytes(b"x")  # hidden: no one's input, not counted
    passed_over: Counter[str] = Counter()
    assert len(discover_inputs(str(tree), passed_over=passed_over)) == 4
    assert passed_over == Counter({".txt": 1, ".jpg": 1, ".wav": 1, "(no extension)": 1})
    # What a glob or a list names is read whatever its extension: nothing is passed over.
    listing = tree / "inputs.txt"
    listing.write_text("deep/voice.WAV\nb.mp4\n")
    named: Counter[str] = Counter()
    assert discover_inputs(str(listing), passed_over=named) == sorted([str(tree / "deep/voice.WAV"),
                                                                       str(tree / "b.mp4")])
    assert discover_inputs(str(tree / "deep" / "*"), passed_over=named)
    assert not named


def test_symlinked_folders_are_followed_once_and_loops_end(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "disk2"
    elsewhere.mkdir()
    (elsewhere / "e.mp4").write_bytes(b"x")
    (tree / "more").symlink_to(elsewhere)
    (tree / "deep" / "up").symlink_to(tree)  # a loop back to the root
    found = discover_inputs(str(tree))
    assert str(tree / "more" / "e.mp4") in found
    assert len(found) == 5 and not any("/up/" in f for f in found)


def test_glob_lists_what_it_matches_and_no_folders(tree: Path) -> None:
    (tree / "folder.mp4").mkdir()
    assert discover_inputs(str(tree / "**" / "*.mkv")) == [str(tree / "deep/er/c.mkv")]
    assert discover_inputs(str(tree / "*.mp4")) == [str(tree / "b.mp4")]


def test_text_list_skips_comments_and_resolves_relative_entries(tmp_path: Path) -> None:
    listing = tmp_path / "lists" / "inputs.txt"
    listing.parent.mkdir()
    listing.write_text("# my batch\n\nclip one.mp4\n  ../abs/x.mp4  \ns3://bucket/y.mp4\n/data/z.mp4\n")
    assert discover_inputs(str(listing)) == sorted(
        [str(tmp_path / "lists" / "clip one.mp4"), str(tmp_path / "abs" / "x.mp4"), "s3://bucket/y.mp4", "/data/z.mp4"]
    )


def test_text_list_keeps_names_that_are_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "inputs.txt").write_bytes(b"caf\xe9.mp4\n")  # Latin-1, as an old tool wrote it
    (found,) = discover_inputs(str(tmp_path / "inputs.txt"))
    assert os.fsencode(found) == os.fsencode(tmp_path) + b"/caf\xe9.mp4"


def test_csv_list_uses_the_uri_column_or_the_first(tmp_path: Path) -> None:
    (tmp_path / "with_header.csv").write_text("label,URI\ntalk,/v/a.mp4\nidle,/v/b.mp4\nnone,\n")
    assert discover_inputs(str(tmp_path / "with_header.csv")) == ["/v/a.mp4", "/v/b.mp4"]
    (tmp_path / "plain.csv").write_text("/v/c.mp4,extra\n/v/a.mp4\n")
    assert discover_inputs(str(tmp_path / "plain.csv")) == ["/v/a.mp4", "/v/c.mp4"]


def test_parquet_list_needs_a_uri_column(tmp_path: Path) -> None:
    pq.write_table(pa.table({"uri": ["/v/b.mp4", None, "/v/a.mp4", "/v/b.mp4"]}), tmp_path / "in.parquet")
    assert discover_inputs(str(tmp_path / "in.parquet")) == ["/v/a.mp4", "/v/b.mp4"]
    pq.write_table(pa.table({"path": ["/v/a.mp4"]}), tmp_path / "bad.parquet")
    with pytest.raises(InputError, match="'uri' column"):
        discover_inputs(str(tmp_path / "bad.parquet"))


def test_file_uri_single_file_and_limit(tree: Path) -> None:
    assert discover_inputs(f"file://{tree}", limit=2) == [str(tree / "A.MOV"), str(tree / "b.mp4")]
    # A file named explicitly is taken whatever its extension; the probe judges its bytes.
    assert discover_inputs(str(tree / "deep" / "skip.jpg")) == [str(tree / "deep" / "skip.jpg")]


def test_fsspec_folder_and_list(tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe({"/disc/batch/a.mp4": b"1", "/disc/batch/sub/b.mkv": b"2", "/disc/batch/readme.md": b"3"})
    fs.pipe("/disc/list.txt", b"memory://disc/batch/a.mp4\nmemory://disc/batch/sub/b.mkv\n")
    try:
        # the memory filesystem keeps a leading "/" in its paths, hence the third slash
        walked = discover_inputs("memory://disc/batch")
        assert walked == ["memory:///disc/batch/a.mp4", "memory:///disc/batch/sub/b.mkv"]
        assert [fsspec.open(u, "rb").open().read() for u in walked] == [b"1", b"2"]
        assert discover_inputs("memory://disc/batch/**/*.mkv") == ["memory:///disc/batch/sub/b.mkv"]
        listed = discover_inputs("memory://disc/list.txt")
        assert listed == ["memory://disc/batch/a.mp4", "memory://disc/batch/sub/b.mkv"]
    finally:
        fs.rm("/disc", recursive=True)


@pytest.mark.parametrize("spec", ["{missing}", "{empty}", "{empty}/*.mp4"])
def test_nothing_to_read_is_an_input_error(tmp_path: Path, spec: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="--input"):
        discover_inputs(spec.format(missing=tmp_path / "nope", empty=tmp_path / "empty"))


def test_long_lists_are_read_in_pieces_and_whole(tmp_path: Path) -> None:
    """A Parquet list longer than one read batch (65,536 rows), in several row groups, and a text
    list with Windows line ends both give every URI once."""
    uris = [f"s3://bucket/v/{i:06d}.mp4" for i in range(150_000)]
    pq.write_table(pa.table({"other": list(range(len(uris))), "uri": uris[::-1]}), tmp_path / "long.parquet",
                   row_group_size=40_000)
    assert discover_inputs(str(tmp_path / "long.parquet")) == uris
    (tmp_path / "long.txt").write_bytes(("# a comment\r\n" + "\r\n".join(uris[:1000]) + "\r\n").encode())
    assert discover_inputs(str(tmp_path / "long.txt")) == uris[:1000]
