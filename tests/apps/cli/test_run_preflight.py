"""``lpm-curate run`` refuses before it writes anything or starts Ray: an ``--out`` holding a
user's files, an ``--input`` that names no videos, models the workflow needs that are absent.
Each refusal is one line per problem, exit code 2, no traceback, and the folders as they were."""

import os
from collections import Counter
from pathlib import Path

import pytest

from apps.cli.run_preflight import passed_over_warning
from tests.curation.pipeline_runs import cli_env, run_cli
from tests.curation.runtime.s3_endpoint import s3_endpoint, s3_filesystem


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def error_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("error: ")]


@pytest.fixture
def one_clip(shared_media: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "fantasy_end0.1.mp4").symlink_to(shared_media / "fantasy_end0.1.mp4")
    return folder


def test_an_out_folder_holding_a_users_files_is_left_as_it_was(one_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    (out / "shards").mkdir(parents=True)
    (out / "shards" / "mine.tar").write_bytes(b"a user's archive")
    (out / "notes.txt").write_text("keep me")
    before = tree(out)
    ran = run_cli("run", "--input", str(one_clip), "--out", str(out), "--workflow", "ingest", "--executor", "local")
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert error_lines(ran.stdout) == [f"error: --out {out} holds files that are not a run of lpm-curate "
                                       "(notes.txt, shards); choose an absent or empty folder, or an earlier run "
                                       "to resume"]
    assert "Traceback" not in ran.stdout + ran.stderr
    assert tree(out) == before and sorted(p.name for p in out.iterdir()) == ["notes.txt", "shards"]


@pytest.mark.slow
@pytest.mark.ci_core
def test_an_object_store_prefix_holding_a_users_files_is_left_as_it_was(one_clip: Path) -> None:
    with s3_endpoint() as s3:
        fs = s3_filesystem(s3)
        fs.mkdir("user-bucket")
        fs.pipe_file("user-bucket/data/shards/mine.tar", b"a user's archive")
        ran = run_cli("run", "--input", str(one_clip), "--out", "s3://user-bucket/data", "--workflow", "ingest",
                      "--executor", "local", env=cli_env(**s3))
        assert ran.returncode == 2, ran.stdout + ran.stderr
        assert error_lines(ran.stdout) == ["error: --out s3://user-bucket/data holds files that are not a run of "
                                           "lpm-curate (shards); choose an absent or empty folder, or an earlier "
                                           "run to resume"]
        assert fs.find("user-bucket") == ["user-bucket/data/shards/mine.tar"]
        assert fs.cat_file("user-bucket/data/shards/mine.tar") == b"a user's archive"


def test_a_run_of_this_toolkit_is_resumed(one_clip: Path, tmp_path: Path) -> None:
    (one_clip / "face.png").write_bytes(b"an image beside the video")
    (one_clip / "voice.wav").write_bytes(b"audio beside the video")
    out = tmp_path / "run"
    args = ("run", "--input", str(one_clip), "--out", str(out), "--workflow", "ingest", "--executor", "local")
    first = run_cli(*args)
    assert first.returncode == 0
    # The folder's files that are not videos are said, not silently left (the run reads the one video).
    assert (f"warning: 2 file(s) in {one_clip} are not read: their extensions are not a video's (.png 1, .wav 1)"
            in " ".join(first.stdout.split()))
    again = run_cli(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "accounting: inputs 1 = kept 1" in " ".join(again.stdout.split())


def _list_file(tmp_path: Path) -> str:
    listing = tmp_path / "list.txt"
    listing.write_text("# nothing listed\n\n")
    return str(listing)


def _empty_folder(tmp_path: Path) -> str:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no videos here")
    return str(tmp_path / "empty")


def _parquet_without_uri(tmp_path: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"path": ["a.mp4"]}), tmp_path / "list.parquet")
    return str(tmp_path / "list.parquet")


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda tmp: str(tmp / "nonexistent"), "no such file, directory or matching glob"),
        (_empty_folder, "no video files found (it holds .txt 1)"),
        (_list_file, "no video files found"),
        (_parquet_without_uri, "a Parquet input list needs a 'uri' column"),
    ],
)
def test_an_input_error_leaves_nothing_behind(tmp_path: Path, make_input, message: str) -> None:
    out = tmp_path / "run"
    ran = run_cli("run", "--input", make_input(tmp_path), "--out", str(out), "--workflow", "ingest",
                  "--executor", "local")
    assert ran.returncode == 2, ran.stdout + ran.stderr
    lines = error_lines(ran.stdout)
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in ran.stdout + ran.stderr
    assert not out.exists(), "no run.json, no logs/"


def test_missing_models_are_named_before_ray_starts(one_clip: Path, tmp_path: Path) -> None:
    empty_models = tmp_path / "models"
    empty_models.mkdir()
    out = tmp_path / "run"
    # the default executor: Ray would start, and every actor die in setup, without the check
    ran = run_cli("run", "--input", str(one_clip), "--out", str(out), "--workflow", "smoke",
                  "--set", 'dedup.clip="on"', env=cli_env(LPM_MODELS_DIR=str(empty_models)), timeout=600)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    where = f"(models directory: {empty_models}, set by LPM_MODELS_DIR)"
    assert error_lines(ran.stdout) == [
        "error: model face_landmarker (visual_analysis face landmarks) is missing: "
        f"lpm-curate models fetch face_landmarker {where}",
        f"error: model openclip (dedup near-duplicate image embedding) is missing: lpm-curate models fetch openclip "
        f"{where}",
    ]
    said = ran.stdout + ran.stderr
    assert "Traceback" not in said and "Ray" not in said and "keep dying" not in said
    assert not out.exists() and os.listdir(empty_models) == []


def test_the_warning_names_the_commonest_kinds_of_file_passed_over() -> None:
    assert passed_over_warning("in/", Counter()) is None
    message = passed_over_warning("in/", Counter({".jpg": 5, ".wav": 3, ".txt": 1}), shown=2)
    assert message == ("9 file(s) in in/ are not read: their extensions are not a video's (.jpg 5, .wav 3, 1 more"
                       " kind); name them in a list file (--input LIST.txt) to read them anyway")
