import argparse
import json

from apps.cli.synth_command import add_synth_arguments, run_synth
from apps.synth.truth import load_truth


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lpm-curate synth")
    add_synth_arguments(parser)
    return parser.parse_args(argv)


def test_flags_parse_with_defaults(tmp_path):
    args = _parse(["--out", str(tmp_path)])
    assert (args.out, args.n_videos, args.seed, args.faces, args.duration) == (tmp_path, 10, 0, None, 20.0)
    args = _parse(["--out", str(tmp_path), "--n-videos", "3", "--seed", "7", "--duration", "12",
                   "--faces", str(tmp_path / "a.jpg"), str(tmp_path / "b")])
    assert (args.n_videos, args.seed, args.duration) == (3, 7, 12.0)
    assert args.faces == [tmp_path / "a.jpg", tmp_path / "b"]


def test_run_synth_writes_a_corpus(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert run_synth(_parse(["--out", str(out), "--n-videos", "1", "--duration", "6", "--seed", "11"])) == 0
    index = json.loads((out / "corpus.json").read_text())
    assert index["seed"] == 11 and len(index["videos"]) == 1
    truth = load_truth(out / index["videos"][0]["truth"])
    assert truth.n_frames == 150 and truth.kind == "interview"
    assert (out / truth.video).stat().st_size > 10_000
    assert "1 videos" in capsys.readouterr().out


def test_run_synth_refuses_too_short_videos(tmp_path, capsys):
    assert run_synth(_parse(["--out", str(tmp_path), "--duration", "2"])) == 2
    assert "--duration" in capsys.readouterr().err
