"""The README and the docs say what is true: short enough to hold, links that lead somewhere, and
commands that the command-line parsers accept (the ones that only read a run are run for real).

The commands are parsed by the very parsers the installed ``lpm-curate`` and ``lpm-train`` scripts
build (found through ``[project.scripts]`` in ``pyproject.toml``), so an option renamed in the code
and not in the README fails here.
"""

import argparse
import contextlib
import importlib
import io
import itertools
import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MAX_README_LINES = 300
MARKDOWN_PAGES = sorted([README, REPO / "CONTRIBUTING.md", REPO / "lpm_train" / "README.md", *REPO.glob("docs/*.md")])
COMMANDS = ("lpm-curate", "lpm-train")
# Commands that only read a finished run: cheap, so the README's are run for real on a copy of one.
READS_A_RUN = {"status", "query", "audit", "report"}
README_RUN_DIR = "runs/mine"

_FENCE = re.compile(r"^(```|~~~)")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_INLINE_CODE = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _split_fences(text: str) -> tuple[list[str], list[list[str]]]:
    """The lines outside fenced code blocks, and each block's lines."""
    prose: list[str] = []
    blocks: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            inside = not inside
            if inside:
                blocks.append([])
            continue
        (blocks[-1] if inside else prose).append(line)
    return prose, blocks


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    prose, _ = _split_fences(page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    anchors = set()
    for line in prose:
        match = _HEADING.match(line)
        if match:
            slug = _slug(match.group(2))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(page: Path) -> list[str]:
    prose, _ = _split_fences(page.read_text(encoding="utf-8"))
    text = _INLINE_CODE.sub("", "\n".join(prose))
    return [target for target in _LINK.findall(text) if not re.match(r"^[a-z]+:", target)]


def _joined_lines(block: list[str]) -> list[str]:
    """A code block's logical lines: a line ending in a backslash continues on the next."""
    lines: list[str] = []
    pending = ""
    for line in block:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
        else:
            lines.append(pending + line)
            pending = ""
    return lines


def readme_commands() -> list[str]:
    """Every ``lpm-curate ...``/``lpm-train ...`` command the README shows, in code blocks or inline."""
    prose, blocks = _split_fences(README.read_text(encoding="utf-8"))
    found = [line.strip() for block in blocks for line in _joined_lines(block)]
    found += [code for line in prose for code in _INLINE_CODE.findall(line)]
    return [c for c in found if c.startswith(tuple(f"{name} " for name in COMMANDS))]


def _parser(command: str) -> argparse.ArgumentParser:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, _function = scripts[command].partition(":")
    return importlib.import_module(module).build_parser()


def _is_a_mention(parser: argparse.ArgumentParser, argv: list[str]) -> bool:
    """Whether ``argv`` only names a command (``lpm-curate run`` in a sentence), checking that the
    command exists; a mention is not an invocation, so its required options are not asked for."""
    for word in argv:
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subparsers or word.startswith("-"):
            return False
        assert word in subparsers[0].choices, f"no command {word!r}: {sorted(subparsers[0].choices)}"
        parser = subparsers[0].choices[word]
    return True


def _parse(command_line: str) -> argparse.Namespace | None:
    """The command's arguments as its parser reads them; None for ``--help`` (which exits 0) and
    for a mention of a command by name."""
    name, *argv = shlex.split(command_line, comments=True)
    if _is_a_mention(_parser(name), argv):
        return None
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as errors:
            return _parser(name).parse_args(argv)
    except SystemExit as exited:
        if exited.code == 0:
            return None
        complaint = errors.getvalue().strip().splitlines()[-1]
        raise AssertionError(f"the README's `{command_line}` is refused: {complaint}") from None


def _subcommand_paths(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    """``run``, ``bench analysis``, ...: every leaf command path of a parser."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return {prefix.strip()}
    return {
        path
        for name, child in subparsers[0].choices.items()
        for path in _subcommand_paths(child, f"{prefix} {name}")
    }


def _table_first_cells(header_start: str) -> list[str]:
    """The code in the first cell of each row of the README table whose header starts so."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(_INLINE_CODE.findall(line.split(" | ")[0])[0])
    return rows


def test_readme_is_short_enough_to_hold():
    n_lines = len(README.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_README_LINES, f"README.md has {n_lines} lines; move detail into docs/"


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path):
    broken = []
    for target in _links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target} (no file {destination})")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no heading #{anchor} in {destination.name})")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)


def test_the_readme_shows_commands_of_both_tools():
    names = {c.split(" ", 1)[0] for c in readme_commands()}
    assert names == set(COMMANDS)


@pytest.mark.parametrize("command_line", readme_commands())
def test_every_readme_command_is_accepted_by_its_parser(command_line: str):
    _parse(command_line)


def test_the_commands_bootstrap_runs_are_accepted_too():
    script = (REPO / "bootstrap.sh").read_text(encoding="utf-8")
    lines = [re.split(r"[|;&]", re.sub(r"^.*?\b(?=lpm-curate )", "", line))[0].replace('"$@"', "") for line in
             script.splitlines() if "lpm-curate " in line and not line.lstrip().startswith(("#", "echo"))]
    assert any(line.startswith("lpm-curate demo") for line in lines), lines
    for line in lines:
        _parse(line)


def test_the_two_commands_are_what_bootstrap_and_ci_run():
    readme = README.read_text(encoding="utf-8")
    modes = set(re.findall(r"`bash bootstrap\.sh (\w+)`", readme))
    assert {"demo", "test"} <= modes
    cases = set(re.findall(r"^\s+(\w+)\)", (REPO / "bootstrap.sh").read_text(encoding="utf-8"), re.MULTILINE))
    assert modes <= cases, f"README shows bootstrap modes {modes - cases} that bootstrap.sh lacks"
    assert "exec bash bootstrap.sh test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_test_files_the_readme_names_exist():
    named = re.findall(r"\btests/[\w/]+\.py\b", README.read_text(encoding="utf-8"))
    assert named
    assert [n for n in named if not (REPO / n).is_file()] == []


@pytest.mark.parametrize(("header", "command"), [("| `lpm-curate` command", "lpm-curate"),
                                                 ("| `lpm-train` command", "lpm-train")])
def test_the_cli_tables_list_every_command_and_no_other(header: str, command: str):
    listed = set()
    for cell in _table_first_cells(header):
        # `models list\|fetch\|verify` stands for three command paths
        words = cell.replace("\\|", "|").split(" ")
        listed |= {" ".join([*words[:-1], last]) for last in words[-1].split("|")}
    assert listed == _subcommand_paths(_parser(command))


def test_the_headline_figures_fit_in_twelve_rows_each_with_its_command():
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| figure | value | command |")
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start + 2 :]))
    assert 0 < len(rows) <= 12
    for row in rows:
        command_cell = row.rstrip(" |").rsplit(" | ", 1)[1]
        assert command_cell.startswith(("`", "same")), row


@pytest.mark.slow
def test_the_readme_commands_that_read_a_run_succeed_on_a_real_one(smoke_run, tmp_path, monkeypatch):
    from apps.cli.main import main

    shutil.copytree(smoke_run.out, tmp_path / README_RUN_DIR)
    monkeypatch.chdir(tmp_path)
    readers = [c for c in readme_commands() if c.startswith("lpm-curate ") and c.split()[1] in READS_A_RUN]
    assert {c.split()[1] for c in readers} == READS_A_RUN
    for command_line in readers:
        argv = shlex.split(command_line, comments=True)[1:]
        assert README_RUN_DIR in argv, command_line
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 0, command_line
    assert (tmp_path / README_RUN_DIR / "report.html").is_file()
    assert (tmp_path / README_RUN_DIR / "audit" / "index.html").is_file()
