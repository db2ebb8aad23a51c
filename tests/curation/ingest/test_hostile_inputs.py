"""Bad input gets a clear reason, and the run goes on.

One ingest run over a folder of forged hostile files (plus two files that vanish mid-run) must end
with every input in exactly one state, each with the reason a person would give, without a crash
and within a bounded time. Playlists and concat scripts must never open what they reference.
"""

import os
import shutil
from pathlib import Path
from typing import Any

import hostile_media as hm
import pytest
from hostile_folder import build_hostile_folder
from pipeline_runs import manifest, run_ingest

import curation.run.pipeline as pipeline
from curation.ingest.content_id import InputIdentity

NON_UTF8_NAME = b"bad\xff name.mp4"
UNICODE_NAME = "clip with spaces é 日本.mp4"

# file name -> (state, stage, reason, words the detail must contain)
EXPECTED: dict[str, tuple[str, str | None, str | None, str]] = {
    "empty.mp4": ("rejected", "ingest", "empty_file", "zero bytes"),
    "truncated.mp4": ("rejected", "probe", "unreadable", "damaged"),
    "no_moov.mp4": ("rejected", "probe", "unreadable", "moov atom missing"),
    "random.mp4": ("rejected", "probe", "not_a_video", "no media container"),
    "image.mp4": ("rejected", "probe", "not_a_video", "JPEG image"),
    "notes.mp4": ("rejected", "probe", "not_a_video", "plain text"),
    "audio_only.mp4": ("rejected", "probe", "no_video_stream", "audio only"),
    "no_tracks.mp4": ("rejected", "probe", "no_video_stream", "no audio or video stream"),
    "zero_duration.mp4": ("rejected", "probe", "too_short", "0.000 s below min_duration_s"),
    "one_frame.mp4": ("rejected", "probe", "too_few_frames", "1 frame(s) below min_frames=2"),
    "huge.mp4": ("rejected", "probe", "resolution_too_large", "8192x8192 exceeds max_pixels"),
    "loop.mp4": ("rejected", "ingest", "not_a_file", "symbolic link loop"),
    "loop-partner.mp4": ("rejected", "ingest", "not_a_file", "symbolic link loop"),
    "fifo.mp4": ("rejected", "ingest", "not_a_file", "not a regular file"),
    "concat.mp4": ("rejected", "probe", "unsupported_container", "concat script"),
    "playlist.mp4": ("rejected", "probe", "unsupported_container", "HLS/M3U playlist"),
    # binary junk after #EXTM3U hides it from the sniffer: ffprobe's format whitelist refuses it
    "disguised_playlist.mp4": ("rejected", "probe", "unsupported_container", "hls format is not allowed"),
    "vanishes_before_identify.mp4": ("rejected", "ingest", "missing_file", "not found"),
    "vanishes_before_probe.mp4": ("rejected", "probe", "missing_file", "disappeared"),
    "video_only.mp4": ("kept", None, None, ""),
    "vfr.mp4": ("kept", None, None, ""),
    "rotated.mp4": ("kept", None, None, ""),
    UNICODE_NAME: ("kept", None, None, ""),
    "same content.mp4": ("kept", None, None, ""),
    "bad\\xff name.mp4": ("kept", None, None, ""),
}


def _build(folder: Path, outside: Path, work: Path) -> None:
    base = build_hostile_folder(folder, outside, work)
    os.mkfifo(folder / "fifo.mp4")
    (folder / "folder.mp4").mkdir()  # a directory is walked into, never an input
    shutil.copy(base, folder / UNICODE_NAME)
    shutil.copy(base, folder / "same content.mp4")
    shutil.copy(base, os.path.join(os.fsencode(folder), NON_UTF8_NAME))
    shutil.copy(hm.av_clip(work / "other.mp4", seconds=1.5), folder / "vanishes_before_identify.mp4")
    shutil.copy(hm.av_clip(work / "third.mp4", seconds=1.2), folder / "vanishes_before_probe.mp4")
    # binary junk after #EXTM3U hides this playlist from the sniffer, not from ffprobe's whitelist
    hm.hls_playlist(folder / "disguised_playlist.mp4", outside / "tripwire.mp4", outside / "secret.mp4", disguise=True)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    folder, outside, work = root / "in", root / "outside", root / "work"
    for d in (folder, outside, work):
        d.mkdir()
    _build(folder, outside, work)
    discover, identify = pipeline.discover_inputs, pipeline.identify_input

    def discover_then_delete(spec: str, limit: int | None = None) -> list[str]:
        uris = discover(spec, limit)
        (folder / "vanishes_before_identify.mp4").unlink()
        return uris

    def identify_then_delete(uri: str) -> InputIdentity:
        identity = identify(uri)
        if uri.endswith("vanishes_before_probe.mp4"):
            Path(uri).unlink()
        return identity

    with pytest.MonkeyPatch.context() as patch, hm.Tripwire(outside / "tripwire.mp4") as tripwire:
        patch.setattr(pipeline, "discover_inputs", discover_then_delete)
        patch.setattr(pipeline, "identify_input", identify_then_delete)
        result = run_ingest(folder, root / "out")
    rows = {os.fsdecode(row["uri"]).rsplit("/", 1)[-1]: row for row in manifest(root / "out")}
    return {"folder": folder, "result": result, "rows": rows, "tripwire": tripwire, "out": root / "out"}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_input_ends_in_its_expected_state(hostile_run: dict[str, Any], name: str) -> None:
    state, stage, reason, words = EXPECTED[name]
    row = hostile_run["rows"][name]
    assert (row["state"], row["stage"], row["reason"]) == (state, stage, reason), row
    assert words in (row["detail"] or ""), row["detail"]


def test_every_input_is_accounted_for_once(hostile_run: dict[str, Any]) -> None:
    accounting = hostile_run["result"].accounting
    assert sorted(hostile_run["rows"]) == sorted(EXPECTED)  # the directory "folder.mp4" is no input
    assert accounting.inputs == len(EXPECTED)
    assert accounting.kept == sum(1 for s, *_ in EXPECTED.values() if s == "kept")
    assert accounting.rejected == sum(1 for s, *_ in EXPECTED.values() if s == "rejected")
    assert accounting.failed == 0
    # Nothing hung: every tool call has its timeout, and the whole run ends well inside one.
    assert hostile_run["result"].wall_s < 180


def test_rejections_table_has_one_video_row_per_rejected_input(hostile_run: dict[str, Any]) -> None:
    rejected = {name for name, (state, *_) in EXPECTED.items() if state != "kept"}
    rows = manifest(hostile_run["out"], "rejections")
    names = [os.fsdecode(r["uri"]).rsplit("/", 1)[-1] for r in rows]
    assert sorted(names) == sorted(rejected)
    by_name = dict(zip(names, rows, strict=True))
    for name in rejected:
        assert by_name[name]["entity"] == "video"
        assert by_name[name]["reason"] == EXPECTED[name][2]


def test_playlists_never_open_the_files_they_reference(hostile_run: dict[str, Any]) -> None:
    assert not hostile_run["tripwire"].opened, "a playlist reference was opened"
    for name in ("concat.mp4", "playlist.mp4", "disguised_playlist.mp4"):
        # Followed, it would have probed as the 3 s secret clip; refused, it has no media facts.
        assert hostile_run["rows"][name]["duration_s"] is None


def test_video_only_is_kept_without_audio(hostile_run: dict[str, Any]) -> None:
    row = hostile_run["rows"]["video_only.mp4"]
    assert (row["has_audio"], row["audio_codec"], row["width"], row["height"]) == (False, None, 160, 120)
    assert row["n_frames"] == 50 and row["duration_s"] == pytest.approx(2.0, abs=0.05)


def test_rotated_video_is_kept_with_display_size_and_rotation(hostile_run: dict[str, Any]) -> None:
    row = hostile_run["rows"]["rotated.mp4"]
    # Coded 160x120; a quarter turn shows it 120 wide and 160 high.
    assert (row["width"], row["height"], row["rotation"]) == (120, 160, 90)


def test_variable_frame_rate_is_kept_and_flagged(hostile_run: dict[str, Any]) -> None:
    row = hostile_run["rows"]["vfr.mp4"]
    assert row["variable_fps"] is True
    # 25 frames in the first second, then 10 frames a second: the mean lies between.
    assert 15 < row["fps"] < 25
    assert row["n_frames"] == 35


def test_same_content_under_two_names_is_one_video_recorded_twice(hostile_run: dict[str, Any]) -> None:
    rows = hostile_run["rows"]
    names = ("bad\\xff name.mp4", UNICODE_NAME, "same content.mp4")
    ids = {rows[n]["video_id"] for n in names}
    assert len(ids) == 1 and None not in ids
    primaries = [n for n in names if rows[n]["duplicate_of"] is None]
    assert len(primaries) == 1
    for name in set(names) - set(primaries):
        assert rows[name]["duplicate_of"] == rows[primaries[0]]["uri"]


def test_odd_file_names_keep_their_exact_path(hostile_run: dict[str, Any]) -> None:
    folder = hostile_run["folder"]
    assert hostile_run["rows"][UNICODE_NAME]["uri"] == str(folder / UNICODE_NAME)
    # A name that is not UTF-8 cannot go into Parquet as is: its odd byte is spelled out.
    assert hostile_run["rows"]["bad\\xff name.mp4"]["uri"] == f"{folder}/bad\\xff name.mp4"
