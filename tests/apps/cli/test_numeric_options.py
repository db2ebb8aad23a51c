"""Numbers outside their range are refused while the command line is parsed: exit 2 and a
message naming the option, before anything runs (``--limit -1`` used to drop the last input)."""

import argparse

import pytest

from apps.cli.main import build_parser
from apps.cli.numeric_options import non_negative_int, port_number, positive_float, positive_int

RUN = ["run", "--input", "in", "--out", "out"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*RUN, "--limit", "-1"], "argument --limit: expected a whole number of at least 0, got -1"),
        ([*RUN, "--workers", "0"], "argument --workers: expected a whole number of at least 1, got 0"),
        ([*RUN, "--max-workers", "0"], "argument --max-workers: expected a whole number of at least 1, got 0"),
        ([*RUN, "--workers", "two"], "argument --workers: expected a whole number of at least 1, got 'two'"),
        (["export", "r", "--where", "TRUE", "--to", "d", "--shard-bytes", "0"], "argument --shard-bytes"),
        (["audit", "r", "--per-reason", "0"], "argument --per-reason"),
        (["review", "r", "--per-stratum", "-3"], "argument --per-stratum"),
        (["review", "r", "--port", "70000"], "argument --port: expected a port number from 0 to 65535, got 70000"),
        (["synth", "--out", "s", "--seed", "-1"], "argument --seed: expected a whole number of at least 0, got -1"),
        (["synth", "--out", "s", "--duration", "nan"], "argument --duration: expected a positive number, got nan"),
        (["synth", "--out", "s", "--width", "0"], "argument --width"),
        (["demo", "--n-videos", "0"], "argument --n-videos"),
        (["bench", "pipeline", "--input", "x", "--workers", "0"], "argument --workers"),
        (["bench", "analysis", "--input", "x", "--repeat", "0"], "argument --repeat"),
    ],
)
def test_out_of_range_numbers_exit_2_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_numbers_in_range_are_parsed() -> None:
    args = build_parser().parse_args([*RUN, "--limit", "0", "--workers", "3", "--max-workers", "8"])
    assert (args.limit, args.workers, args.max_workers) == (0, 3, 8)  # --limit 0: run.json only
    assert (non_negative_int("0"), port_number("0"), positive_float("0.5"), positive_int("12")) == (0, 0, 0.5, 12)
    for parse, text in ((positive_float, "inf"), (positive_float, "0"), (port_number, "-1"), (positive_int, "1.5")):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
