"""The layering of ``pyproject.toml``'s import-linter contracts holds, and breaks when an import runs
backwards.

The contracts (``[tool.importlinter]``): schemas <- curation (the core) <- annotators <- stages <- apps;
no stage imports another stage; ``lpm_train`` imports nothing of the toolkit but ``schemas``; inside
``curation`` the faults, the run store and the stage contract sit below execution, and execution below
the run; no two sibling packages (or modules) import each other, directly or round a longer circle.
The second test copies the packages into a temporary folder, adds one backwards import per contract,
and expects ``lint-imports`` to name each of them.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "curation", "annotators", "stages", "apps", "workflows", "lpm_train", "benchmarks")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first, so the packages under `root` win over the editable install's finder
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )


def test_the_repository_keeps_every_import_contract():
    result = lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


def test_a_backwards_import_breaks_the_contracts(tmp_path):
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # the core reaching up into an application, a stage using another stage, the trainer using the core,
    # the run store using an executor, a model wrapper using the speaking maths that uses the wrappers
    (tmp_path / "curation" / "media" / "backwards.py").write_text("from apps.cli import main\n")
    (tmp_path / "stages" / "probe.py").write_text(
        (tmp_path / "stages" / "probe.py").read_text() + "\nfrom stages.identity import IdentityStage\n"
    )
    (tmp_path / "lpm_train" / "backwards.py").write_text("import curation.run.pipeline\n")
    (tmp_path / "curation" / "store" / "backwards.py").write_text(
        "from curation.execution.ray_executor import make_executor\n"
    )
    (tmp_path / "annotators" / "models" / "backwards.py").write_text("from annotators.speaking.lip_sync import judge\n")
    # an application reaching into the project's own experiments, which the wheel does not carry
    (tmp_path / "apps" / "cli" / "backwards.py").write_text("import benchmarks.shot_sweep\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1
    assert "0 kept, 5 broken" in result.stdout
    assert "curation.media.backwards -> apps.cli" in result.stdout
    assert "stages.probe -> stages.identity" in result.stdout
    assert "lpm_train.backwards -> curation.run.pipeline" in result.stdout
    assert "apps.cli.backwards -> benchmarks.shot_sweep" in result.stdout
    assert "curation.store.backwards -> curation.execution.ray_executor" in result.stdout
    assert "No cycles are allowed in annotators." in result.stdout
    assert "No cycles are allowed in curation." in result.stdout
