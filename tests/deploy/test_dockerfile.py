"""``deploy/Dockerfile`` installs exactly the versions of ``constraints.txt`` on the Python they were
frozen on, with the system tools the toolkit calls, and its build-time check refuses a package the
pins do not name. (Docker is not run here: the image is built where a Docker daemon is.)"""

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
CONSTRAINTS = (REPO_ROOT / "constraints.txt").read_text()


def pins(text: str) -> dict[str, str]:
    """``name==version`` pins in ``text``, names normalised as pip compares them."""
    found = re.findall(r"(?<![\w.-])([A-Za-z0-9][\w.-]*)==([\w.+!-]+)", text)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


def run_steps() -> str:
    """The RUN instructions, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return "\n".join(line for line in joined.splitlines() if line.startswith("RUN "))


def test_every_pin_is_the_constraints_version_and_pip_installs_with_the_constraints():
    constraints = pins(CONSTRAINTS)
    written = pins(DOCKERFILE)
    assert {name: constraints.get(name) for name in written} == written
    install = next(line for line in run_steps().splitlines() if "pip install" in line)
    assert '".[all]" -c constraints.txt' in install and "pip check" in install
    assert "COPY --chown=ray:ray . ." in DOCKERFILE  # constraints.txt is in the build context


def test_the_base_image_is_the_python_the_constraints_were_frozen_on():
    base = re.search(r"^FROM python:(\d+\.\d+)[-\w.]*$", DOCKERFILE, re.M)
    frozen = re.search(r"pip freeze of a working environment, Python (\d+\.\d+)", CONSTRAINTS)
    assert base and frozen and base.group(1) == frozen.group(1)
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low, high = re.fullmatch(r">=(\d+\.\d+),<(\d+\.\d+)", requires).groups()
    as_tuple = lambda v: tuple(map(int, v.split(".")))  # noqa: E731
    assert as_tuple(low) <= as_tuple(base.group(1)) < as_tuple(high)


def test_system_tools_and_models_outside_the_image():
    apt = next(line for line in run_steps().splitlines() if "apt-get install" in line)
    assert {"ffmpeg", "espeak-ng", "wget"} <= set(apt.split())
    assert re.search(r"^ENV LPM_MODELS_DIR=/models$", DOCKERFILE, re.M)
    assert re.search(r"^VOLUME /models$", DOCKERFILE, re.M)
    assert "models fetch" not in run_steps()  # fetched once into the volume, not into each image


def _freeze_check() -> str:
    """The Dockerfile's own check that nothing unpinned was installed, as one shell command."""
    install = next(line for line in run_steps().splitlines() if "pip freeze" in line)
    return install[install.index("pip freeze"):]


@pytest.mark.parametrize(
    ("installed", "passes"),
    [
        (lambda pin: [f"ray=={pin['ray']}", f"numpy=={pin['numpy']}", "lpm-curation @ file:///opt/lpm-curation"], True),
        (lambda pin: [f"ray=={pin['ray']}", "left-pad==1.0.0"], False),  # not in the pins
        (lambda pin: [f"ray=={pin['ray']}.post1"], False),  # another version
    ],
)
def test_the_build_refuses_a_package_the_pins_do_not_name(tmp_path, installed, passes):
    (tmp_path / "constraints.txt").write_text(CONSTRAINTS)
    (tmp_path / "freeze.txt").write_text("\n".join(installed(pins(CONSTRAINTS))) + "\n")
    command = _freeze_check().replace("pip freeze", "cat freeze.txt").replace("/tmp/", "./")
    done = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode == 0) == passes, done.stdout + done.stderr
