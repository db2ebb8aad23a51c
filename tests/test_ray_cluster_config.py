"""``ray_cluster.yaml`` is a valid Ray cluster-launcher config with the node types the toolkit needs."""

import copy
import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import ray.autoscaler
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "ray_cluster.yaml").read_text())


def test_matches_rays_schema_as_written_and_as_ray_up_prepares_it(config: dict[str, Any]) -> None:
    jsonschema.validate(config, SCHEMA)
    # prepare_config merges the provider's defaults as `ray up` does; validate_config adds Ray's own
    # checks (head type among the node types, min_workers within max_workers).
    validate_config(prepare_config(copy.deepcopy(config)))


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda c: c.pop("provider"), "'provider' is a required property"),
        (lambda c: c["available_node_types"]["cpu_ingest"]["resources"].update(CPU=1.5), "is not of type 'integer'"),
        (lambda c: c.update(workers=3), "Additional properties are not allowed"),
    ],
)
def test_the_schema_check_is_real(config: dict[str, Any], break_it: Any, message: str) -> None:
    broken = copy.deepcopy(config)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError, match=re.escape(message)):
        jsonschema.validate(broken, SCHEMA)


def test_a_head_and_two_worker_types_cpu_ingest_and_gpu_annotation(config: dict[str, Any]) -> None:
    types = config["available_node_types"]
    assert set(types) == {config["head_node_type"], "cpu_ingest", "gpu_annotate"}
    assert types[config["head_node_type"]]["resources"] == {"CPU": 0}  # the driver's node takes no tasks
    ingest, gpu = types["cpu_ingest"]["resources"], types["gpu_annotate"]["resources"]
    assert ingest["CPU"] > gpu["CPU"] > 0 and "GPU" not in ingest and gpu["GPU"] >= 1
    assert sum(t.get("min_workers", 0) for t in types.values()) <= config["max_workers"]
    assert types["cpu_ingest"]["max_workers"] + types["gpu_annotate"]["max_workers"] >= config["max_workers"]


def test_setup_installs_this_package_and_fetches_models(config: dict[str, Any]) -> None:
    setup = config["setup_commands"]
    assert config["file_mounts"]["~/lpm-curation"] == "."
    assert any('pip install -q -e ".[all]"' in c and "cd ~/lpm-curation" in c for c in setup)
    fetch = next(i for i, c in enumerate(setup) if "lpm-curate models fetch" in c)
    install = next(i for i, c in enumerate(setup) if "pip install -q -e" in c)
    assert install < fetch and any("lpm-curate models verify" in c for c in setup[fetch:])
    assert any("ffmpeg" in c for c in setup)
    assert "$RAY_HEAD_IP:6379" in " ".join(config["worker_start_ray_commands"])


def test_every_node_gets_the_token_and_starts_ray_in_token_mode(config: dict[str, Any]) -> None:
    # Ray 2.60 refuses a node or client without RAY_AUTH_MODE=token and the cluster's token.
    assert config["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        starts = [c for c in config[key] if "ray start" in c]
        assert starts and all("export RAY_AUTH_MODE=token;" in c for c in starts), config[key]
    setup = config["setup_commands"]
    assert "chmod 600 ~/.ray/auth_token" in setup
    assert any("export RAY_AUTH_MODE=token" in c and ".bashrc" in c for c in setup)


def test_the_node_ceiling_is_the_sum_of_the_node_types(config: dict[str, Any]) -> None:
    types = config["available_node_types"].values()
    assert config["max_workers"] == sum(t.get("max_workers", 0) for t in types)


def test_sizing_is_explained_and_ray_is_pinned_to_what_is_tested() -> None:
    text = (REPO_ROOT / "ray_cluster.yaml").read_text()
    assert "# Sizing" in text and "realtime/core" in text
    assert "Ray Data" not in text  # the pools are plain Ray actors
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    pinned = re.search(r'"ray\[[\w,]+\]==([\d.]+)"', pyproject)
    assert pinned and pinned.group(1) == metadata.version("ray")  # every node installs this Ray
