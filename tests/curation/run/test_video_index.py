"""The driver's on-disk index gives back what the driver used to hold in dicts, in the same order,
and a page at a time."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.ingest.content_id import InputIdentity
from curation.run import video_index
from curation.run.accounting import check_accounting
from curation.run.video_index import VideoIndex
from curation.run.video_rows import input_rows
from curation.runtime.video_outcome import VideoOutcome
from schemas.reasons import Reason

NOT_UTF8 = os.fsdecode(b"/in/caf\xe9.mp4")  # a file name in Latin-1: a lone surrogate in Python


def _outcome(video_id: str, state: str = "kept", n_samples: int = 0, duration: float = 1.0) -> VideoOutcome:
    return VideoOutcome(video_id, state, n_samples=n_samples, probe={"duration_s": duration},
                        stage=None if state == "kept" else "probe", reason=None if state == "kept" else "too_short")


@pytest.fixture
def index(tmp_path: Path) -> Iterator[VideoIndex]:
    with VideoIndex(str(tmp_path)) as opened:
        yield opened


def test_primary_is_the_first_name_in_sorted_order_whatever_the_input_order(index: VideoIndex) -> None:
    uris = ["/in/z.mp4", NOT_UTF8, "/in/a.mp4", "/in/gone.mp4", "/in/m.mp4"]
    index.add_inputs(uris)
    index.set_identities([
        InputIdentity("/in/z.mp4", "v1", 300, None),
        InputIdentity(NOT_UTF8, "v2", 100, None),
        InputIdentity("/in/a.mp4", "v1", 300, None),  # the same content as z under another name
        InputIdentity("/in/gone.mp4", None, None, None, Reason.MISSING_FILE, "file not found"),
        InputIdentity("/in/m.mp4", "v3", None, None),
    ])
    assert index.choose_primaries() == 3
    assert [index.primary_uri(v) for v in index.video_ids()] == ["/in/a.mp4", NOT_UTF8, "/in/m.mp4"]
    rows = list(index.input_rows())
    assert [uri for uri, *_ in rows] == uris, "the inputs' order, odd bytes kept"
    assert rows[3][1].reason == Reason.MISSING_FILE and rows[3][2] is None
    # biggest file first (an unknown size counts as none), ties by id
    assert [v for v, *_ in index.largest_first()] == ["v1", "v2", "v3"]


def test_outcomes_of_a_block_leave_their_durations_to_the_next(index: VideoIndex) -> None:
    index.add_inputs(["/in/a.mp4", "/in/b.mp4", "/in/c.mp4"])
    index.set_identities(InputIdentity(f"/in/{n}.mp4", f"v{n}", 10, None) for n in "abc")
    index.choose_primaries()
    index.start_block()
    assert index.put_outcome(_outcome("va", duration=4.0)) == 1
    assert index.put_outcome(_outcome("va", duration=4.0)) == 0, "a video counted once"
    index.put_outcomes([_outcome("vb", "failed", duration=2.5), _outcome("vc", n_samples=3, duration=0.0)])
    assert index.n_outcomes == 3
    assert list(index.with_outcome("failed")) == ["vb"]
    assert list(index.with_outcome("kept", with_samples=True)) == ["vc"]
    assert list(index.with_outcome()) == ["va", "vb", "vc"]
    assert [o.video_id for o in index.outcomes()] == ["va", "vb", "vc"]
    index.start_block()
    assert index.n_outcomes == 0
    index.put_outcome(_outcome("vb"))
    assert {v: d for v, _uri, _size, d in index.largest_first()} == {"va": 4.0, "vc": 0.0}
    assert index.videos_among(["vc", "nope", "va"]) == ["va", "vc"]


def test_pages_see_identities_set_between_them(index: VideoIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """What identify does: inputs are taken a page at a time while results are stored."""
    monkeypatch.setattr(video_index, "PAGE", 3)
    uris = [f"/in/{i:02d}.mp4" for i in range(10)]
    index.add_inputs(uris)
    index.set_identities([InputIdentity(uris[4], "v4", 1, None)])  # identified by an earlier attempt
    taken = []
    for uri in index.unidentified():
        taken.append(uri)
        index.set_identities([InputIdentity(uri, f"v{uri[4:6]}", 1, None)])
    assert taken == uris[:4] + uris[5:]
    assert list(index.unidentified()) == []
    index.choose_primaries()
    index.start_block()
    index.put_outcomes(_outcome(f"v{i:02d}") for i in range(10) if i != 4)
    index.put_outcome(_outcome("v4"))
    assert len(list(index.input_rows())) == 10 and len(list(index.outcomes())) == 10


def test_videos_rows_stream_into_the_accounting(index: VideoIndex) -> None:
    uris = ["/in/a.mp4", "/in/b.mp4", "/in/copy-of-a.mp4", "/in/gone.mp4"]
    index.add_inputs(uris)
    index.set_identities([
        InputIdentity("/in/a.mp4", "va", 5, None), InputIdentity("/in/b.mp4", "vb", 5, None),
        InputIdentity("/in/copy-of-a.mp4", "va", 5, None),
        InputIdentity("/in/gone.mp4", None, None, None, Reason.MISSING_FILE, "file not found"),
    ])
    index.choose_primaries()
    index.start_block()
    index.put_outcomes([_outcome("va"), _outcome("vb", "rejected")])
    rows = list(input_rows(index))
    assert [row.state for row, _ in rows] == ["kept", "rejected", "kept", "rejected"]
    assert rows[2][0].duplicate_of == "/in/a.mp4"
    # rejected once, under its primary name; the unreadable input under its own
    assert [r.uri for _, r in rows if r is not None] == ["/in/b.mp4", "/in/gone.mp4"]
    accounting = check_accounting(uris, (row for row, _ in input_rows(index)))
    assert (accounting.inputs, accounting.kept, accounting.rejected) == (4, 2, 2)


def test_the_file_is_gone_once_closed(tmp_path: Path) -> None:
    with VideoIndex(str(tmp_path)) as index:
        index.add_inputs(["/in/a.mp4"])
        assert os.listdir(index.folder) == ["index.sqlite"]
    assert os.listdir(tmp_path) == []


def test_a_killed_drivers_index_is_removed_by_the_next_one_a_live_ones_is_kept(tmp_path: Path) -> None:
    """A driver killed outright (preempted, out of memory) cannot delete its index; the next index made
    in the same folder does, and leaves a running driver's alone."""
    killed = subprocess.run(
        [sys.executable, "-c", "import os, sys\nfrom curation.run.video_index import VideoIndex\n"
         "index = VideoIndex(sys.argv[1]); index.add_inputs(['/in/a.mp4'])\n"
         "print(os.path.basename(index.folder), flush=True); os.kill(os.getpid(), 9)", str(tmp_path)],
        capture_output=True, text=True, cwd=Path(__file__).parents[3], env={**os.environ, "PYTHONPATH": "."},
    )
    assert killed.returncode == -signal.SIGKILL
    orphan = killed.stdout.strip()
    assert os.listdir(tmp_path) == [orphan] and os.listdir(tmp_path / orphan) == ["index.sqlite"]
    others = ["lpm-driver-notes", f"lpm-driver-another_machine-{killed_pid(orphan)}-abc123"]
    for name in others:  # no process id in the name; the same process id on another machine (or container)
        (tmp_path / name).mkdir()
    with VideoIndex(str(tmp_path)) as running, VideoIndex(str(tmp_path)) as second:
        assert sorted(os.listdir(tmp_path)) == sorted(
            [*others, os.path.basename(running.folder), os.path.basename(second.folder)])
    assert sorted(os.listdir(tmp_path)) == sorted(others)


def killed_pid(folder_name: str) -> str:
    return folder_name.rsplit("-", 2)[1]


def test_largest_first_pages_while_outcomes_arrive(index: VideoIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(video_index, "PAGE", 2)
    sizes = {"va": 5, "vb": None, "vc": 9, "vd": 5, "ve": 0, "vf": 7, "vg": 5}
    index.add_inputs([f"/in/{v}.mp4" for v in sizes])
    index.set_identities(InputIdentity(f"/in/{v}.mp4", v, size, None) for v, size in sizes.items())
    index.choose_primaries()
    index.start_block()
    index.put_outcome(_outcome("vf"))  # resumed: not given again
    assert index.n_without_outcome == 6
    given = []
    for video_id, *_ in index.largest_first():
        given.append(video_id)
        index.put_outcome(_outcome(video_id))  # the executor's results come in between pages
    assert given == ["vc", "va", "vd", "vg", "vb", "ve"]
    assert index.n_without_outcome == 0
