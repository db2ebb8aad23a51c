"""CONTRIBUTING's lists of files are true: a throwaway per-video stage that fills a throwaway
segments column, added in a copy of the repository by touching exactly the files CONTRIBUTING
names for "Add a per-video stage" and "Add a table column", runs, and its column comes out in the
manifests.

The lists are read from CONTRIBUTING.md itself, so a change to the guide changes what this test
holds the code to. The copy is a fresh git repository of the tracked files; the files touched are
what ``git status`` reports after the change, so a file the guide forgot (a registry, a second
workflow, a schema file) shows up as an extra one, and a file it names in vain as a missing one.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
STAGE = "throwaway_echo"
COLUMN = "throwaway_note"

STAGE_SOURCE = f'''"""A throwaway stage (tests/test_contributing_files.py): writes its name on every segment."""

from dataclasses import dataclass
from typing import ClassVar

from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork


@dataclass
class ThrowawayEchoStage(Stage):
    name: ClassVar[str] = "{STAGE}"
    needs: ClassVar[tuple[str, ...]] = ("segments",)
    adds: ClassVar[tuple[str, ...]] = ("segments.{COLUMN}",)
    resources: ClassVar[Resources] = Resources(cpus=0.25)

    note: str = "echo"

    def process(self, work: VideoWork) -> VideoWork:
        for segment in work.segments:
            segment.{COLUMN} = f"{{self.note}}:{{segment.state}}"
        return work
'''

STAGE_TEST = f'''from stages.{STAGE} import ThrowawayEchoStage


def test_it_is_found():
    assert ThrowawayEchoStage.name == "{STAGE}"
'''


def _named_files(section: str, text: str) -> set[str]:
    """The backquoted paths in the bold list after ``Files:`` in one CONTRIBUTING section, ``<name>``
    filled in."""
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    bold = re.search(r"Files: \*\*(.+?)\*\*", body, re.S)
    assert bold, f"CONTRIBUTING's '{section}' has no bold list of files"
    paths = re.findall(r"`([^`\s]+)`", bold.group(1))
    return {p.replace("<name>", STAGE) for p in paths}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _copy_of_the_repository(dest: Path) -> None:
    for relative in _git(REPO_ROOT, "ls-files").splitlines():
        source = REPO_ROOT / relative
        if source.is_file():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / relative)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy")


def _run(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**__import__("os").environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_new_stage_and_column_touch_only_the_files_contributing_names(tmp_path: Path, shared_media: Path):
    guide = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    named = _named_files("Add a per-video stage", guide) | _named_files("Add a table column", guide)
    # the column's stage is the new stage: "the stage that fills it and its test" are the stage's own files
    assert {f"stages/{STAGE}.py", f"tests/stages/test_{STAGE}.py", "workflows/default.yaml",
            "schemas/tables.py", "schemas/version.py", "docs/schema.md"} == named, named
    repo = tmp_path / "repo"
    _copy_of_the_repository(repo)

    (repo / "stages" / f"{STAGE}.py").write_text(STAGE_SOURCE)
    (repo / "tests" / "stages" / f"test_{STAGE}.py").write_text(STAGE_TEST)
    workflow = repo / "workflows" / "default.yaml"
    workflow.write_text(workflow.read_text().replace("  - stage: pairs\n", f"  - stage: pairs\n  - stage: {STAGE}\n"))
    tables = repo / "schemas" / "tables.py"
    anchor = "    shard: Str = None  # shard file (relative to the run directory) holding the sample\n"
    assert anchor in tables.read_text()
    tables.write_text(tables.read_text().replace(anchor, anchor + f"    {COLUMN}: Str = None  # {STAGE}\n"))
    version = repo / "schemas" / "version.py"
    major, minor = re.search(r'SCHEMA_VERSION = "(\d+)\.(\d+)"', version.read_text()).groups()
    version.write_text(version.read_text().replace(f'"{major}.{minor}"', f'"{major}.{int(minor) + 1}"'))
    reference = _run(repo, "-m", "schemas.reference")
    assert reference.returncode == 0, reference.stderr
    (repo / "docs" / "schema.md").write_text(reference.stdout)

    touched = {line[3:] for line in _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()}
    assert touched == named, (sorted(touched - named), sorted(named - touched))

    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "fantasy_end0.1.mp4").symlink_to(shared_media / "fantasy_end0.1.mp4")
    out = tmp_path / "run"
    run = _run(repo, "-m", "apps.cli.main", "run", "--input", str(clips), "--out", str(out),
               "--workflow", "smoke", "--executor", "local")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    tests = _run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/stages/test_{STAGE}.py",
                 "tests/schemas/test_reference.py")
    assert tests.returncode == 0, tests.stdout[-3000:]

    parts = str(out / "manifest" / "segments" / "*.parquet")
    notes = duckdb.sql(f"SELECT state, {COLUMN} FROM read_parquet('{parts}')").fetchall()
    assert notes, "the run kept no segment to carry the column"
    assert all(note == f"echo:{state}" for state, note in notes), notes
