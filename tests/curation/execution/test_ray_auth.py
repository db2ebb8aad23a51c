"""Where the driver finds Ray's token, checked against Ray's own loader (``ray get-auth-token``),
and the pieces of the refusal that need no cluster; the refusal itself, on a cluster started with
``ray start`` and token auth on, is in ``test_ray_start_cluster.py``."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from ray.exceptions import AuthenticationError

from curation.execution.ray_auth import find_token, probe, refusal_line, with_auth_env

CLEAN = {"PATH": "/usr/bin:/bin"}


def rays_token(env: dict[str, str], home: Path) -> str | None:
    """What ``ray get-auth-token`` prints with this environment and home folder (None: no token)."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ray")), "get-auth-token"],
        env={**env, "HOME": str(home)}, capture_output=True, text=True, timeout=120,
    )
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home" / ".ray").mkdir(parents=True)
    (tmp_path / "home" / ".ray" / "auth_token").write_text("from-home-file\n")
    (tmp_path / "named_token").write_text("  from-named-file\n")
    return tmp_path / "home"


@pytest.mark.parametrize(
    ("env", "value", "source"),
    [
        ({"RAY_AUTH_TOKEN": "from-env", "RAY_AUTH_TOKEN_PATH": "{named}"}, "from-env", "RAY_AUTH_TOKEN"),
        ({"RAY_AUTH_TOKEN_PATH": "{named}"}, "from-named-file", "RAY_AUTH_TOKEN_PATH={named}"),
        ({}, "from-home-file", "{home}/.ray/auth_token"),
    ],
)
def test_the_token_is_the_one_ray_sends_and_its_source_is_named(home, env, value, source):
    named = str(home.parent / "named_token")
    env = {k: v.format(named=named) for k, v in env.items()}
    token = find_token({**CLEAN, **env}, home)
    assert token is not None
    assert (token.value, token.source) == (value, source.format(named=named, home=home))
    assert rays_token({**CLEAN, **env}, home) == value


def test_no_token_anywhere_and_a_named_file_that_is_missing(tmp_path):
    assert find_token(dict(CLEAN), tmp_path) is None
    assert rays_token(dict(CLEAN), tmp_path) is None
    # Ray does not fall back to ~/.ray/auth_token when the named file is missing; neither do we.
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("from-home-file")
    missing = {**CLEAN, "RAY_AUTH_TOKEN_PATH": str(tmp_path / "absent")}
    assert find_token(missing, tmp_path) is None
    assert rays_token(missing, tmp_path) is None


def test_a_closed_port_is_unreachable_not_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert probe(f"127.0.0.1:{port}", None) == "unreachable"
    assert probe(f"127.0.0.1:{port}", "some-token") == "unreachable"


def test_the_mode_goes_into_the_jobs_env_vars_and_nothing_else_changes():
    runtime_env = {"worker_process_setup_hook": "x.y", "env_vars": {"LPM_LOG": "1"}}
    merged = with_auth_env(runtime_env, {"RAY_AUTH_MODE": "token"})
    assert merged == {"worker_process_setup_hook": "x.y", "env_vars": {"LPM_LOG": "1", "RAY_AUTH_MODE": "token"}}
    assert runtime_env["env_vars"] == {"LPM_LOG": "1"}
    assert with_auth_env(runtime_env, {}) is runtime_env
    assert with_auth_env(None, {"RAY_AUTH_MODE": "token"}) == {"env_vars": {"RAY_AUTH_MODE": "token"}}


def test_only_an_authentication_error_becomes_the_one_line():
    line = refusal_line(AuthenticationError("Token authentication is enabled but no token was found\nmore"))
    assert line is not None and "\n" not in line
    assert "no token was found" in line and "RAY_AUTH_TOKEN" in line and "docs/cluster.md" in line
    assert refusal_line(ConnectionError("Failed to connect to Ray cluster")) is None
