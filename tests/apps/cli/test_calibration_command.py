import json
from pathlib import Path

from apps.cli.calibration_command import EXIT_INCOMPLETE
from apps.cli.main import main
from tests.apps.calibration.fake_mirror import FakeMirror, fake_mirror  # noqa: F401 (fixture)


def test_fetch_from_mirror_reports_skipped_clips_by_name(fake_mirror: FakeMirror, tmp_path: Path, capsys):  # noqa: F811
    out = tmp_path / "cache"
    argv = ["calibration", "fetch", "--out", str(out), "--from-mirror", str(fake_mirror.root),
            "--manifest", str(fake_mirror.manifest)]
    assert main(argv) == EXIT_INCOMPLETE
    captured = capsys.readouterr()
    assert "1 of 3 clips" in captured.out
    assert "corrupted, skipped: damaged.mp4" in captured.err and "missing, skipped: absent.mp4" in captured.err
    assert "2 clip(s) skipped (1 corrupted, 1 missing)" in captured.err
    assert (out / "good.mp4").is_file()


def test_fetch_json_and_label_filter(fake_mirror: FakeMirror, tmp_path: Path, capsys):  # noqa: F811
    argv = ["calibration", "fetch", "--out", str(tmp_path / "cache"), "--from-mirror", str(fake_mirror.root),
            "--manifest", str(fake_mirror.manifest), "--label", "talking_head", "--json"]
    assert main(argv) == EXIT_INCOMPLETE
    report = json.loads(capsys.readouterr().out)
    assert (report["listed"], report["fetched"], report["skipped"]) == (2, 1, 1)
    assert list(report["missing"]) == ["absent.mp4"] and report["corrupted"] == {}


def test_fetch_refuses_an_unknown_label(tmp_path: Path, capsys):
    assert main(["calibration", "fetch", "--out", str(tmp_path), "--label", "talking-head"]) == 2
    assert "unknown label" in capsys.readouterr().err
