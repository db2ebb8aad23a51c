"""The project's own experiments (``benchmarks/``) stay out of the installed packages; what the CLI
offers (``apps/bench``) stays in. Read from the same ``[tool.setuptools.packages.find]`` table the
wheel is built from."""

import tomllib
from pathlib import Path

from setuptools import find_packages

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_the_cli_benches_but_not_the_experiments():
    find = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]

    packages = find_packages(str(REPO_ROOT), include=find["include"])

    assert "apps.bench" in packages
    assert "benchmarks" not in packages
    assert (REPO_ROOT / "benchmarks" / "runwide_scale.py").is_file()
