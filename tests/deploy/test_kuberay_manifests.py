"""The KubeRay manifests of ``deploy/kuberay`` validate against KubeRay's CRD schemas (ray.io/v1,
trimmed by ``trim_crd_schemas.py``, source commit in the fixture) and say what the toolkit needs:
token auth, CPU and GPU worker groups, the models volume, the image of ``deploy/Dockerfile``."""

import copy
import json
import re
import tomllib
from importlib import metadata
from typing import Any

import jsonschema
import pytest
import yaml
from trim_crd_schemas import FIXTURE, REPO_ROOT, manifests

SCHEMAS = json.loads(FIXTURE.read_text())
VERSION = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    found = manifests()
    assert [len(found[kind]) for kind in ("RayCluster", "RayJob")] == [1, 1], found.keys()
    return {kind: found[kind][0] for kind in found}


def errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMAS[doc["kind"]])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def cluster_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["rayClusterSpec"] if doc["kind"] == "RayJob" else doc["spec"]


@pytest.mark.parametrize("kind", ["RayCluster", "RayJob"])
def test_the_manifests_validate_against_the_crd_schemas(docs, kind):
    assert SCHEMAS["source"].startswith("github.com/ray-project/kuberay@")
    assert errors(docs[kind]) == []


def _misspelt(doc):
    group = cluster_spec(doc)["workerGroupSpecs"][0]
    group["maxReplica"] = group.pop("maxReplicas")


def _quoted_replicas(doc):
    cluster_spec(doc)["workerGroupSpecs"][1]["replicas"] = "1"


def _unknown_mode(doc):
    cluster_spec(doc)["authOptions"]["mode"] = "password"


def _no_containers(doc):
    del cluster_spec(doc)["headGroupSpec"]["template"]["spec"]["containers"]


def _container_typo(doc):
    cluster_spec(doc)["headGroupSpec"]["template"]["spec"]["containers"][0]["volumeMount"] = []


@pytest.mark.parametrize("kind", ["RayCluster", "RayJob"])
@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (_misspelt, "'maxReplica' was unexpected"),
        (_quoted_replicas, "'1' is not of type 'integer'"),
        (_unknown_mode, "'password' is not one of ['disabled', 'token']"),
        (_no_containers, "'containers' is a required property"),
        (_container_typo, "'volumeMount' was unexpected"),
    ],
)
def test_the_schema_check_is_real(docs, kind, break_it, message):
    broken = copy.deepcopy(docs[kind])
    break_it(broken)
    assert any(message in e for e in errors(broken)), errors(broken)


def _uncovered(schema: dict[str, Any], value: Any, path: str) -> list[str]:
    """Paths where the manifests hold a mapping or list but the trimmed schema kept only a type:
    the fixture was made for other manifests and must be made again (trim_crd_schemas.py)."""
    if isinstance(value, dict):
        if "properties" in schema:
            return [p for k, v in value.items() if k in schema["properties"]
                    for p in _uncovered(schema["properties"][k], v, f"{path}.{k}")]
        if isinstance(schema.get("additionalProperties"), dict):
            return [p for k, v in value.items() for p in _uncovered(schema["additionalProperties"], v, f"{path}.{k}")]
        return [] if schema.get("x-kubernetes-preserve-unknown-fields") or path.endswith(".metadata") else [path]
    if isinstance(value, list):
        if "items" not in schema:
            return [path]
        return [p for i, v in enumerate(value) for p in _uncovered(schema["items"], v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("kind", ["RayCluster", "RayJob"])
def test_the_trimmed_schema_covers_every_path_the_manifests_use(docs, kind):
    assert _uncovered(SCHEMAS[kind], docs[kind], kind) == []


def test_the_job_runs_on_the_same_cluster_as_the_raycluster(docs):
    assert docs["RayJob"]["spec"]["rayClusterSpec"] == docs["RayCluster"]["spec"]
    entrypoint = docs["RayJob"]["spec"]["entrypoint"]
    # the job's driver finds its cluster through RAY_ADDRESS, which Ray sets for it
    assert entrypoint.startswith("lpm-curate run ") and "--ray-address" not in entrypoint
    assert docs["RayJob"]["spec"]["shutdownAfterJobFinishes"] is True


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    groups = [spec["headGroupSpec"], *spec["workerGroupSpecs"]]
    return [c for g in groups for c in g["template"]["spec"]["containers"]]


def test_token_auth_cpu_and_gpu_groups_models_volume_and_image(docs):
    spec = docs["RayCluster"]["spec"]
    assert spec["rayVersion"] == metadata.version("ray")
    assert spec["authOptions"] == {"mode": "token", "secretName": "lpm-ray-token"}
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"  # the driver's node takes no tasks
    groups = {g["groupName"]: g for g in spec["workerGroupSpecs"]}
    assert set(groups) == {"cpu-ingest", "gpu-annotate"}
    cpu = groups["cpu-ingest"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    gpu = groups["gpu-annotate"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert "nvidia.com/gpu" not in cpu and int(gpu["nvidia.com/gpu"]) >= 1
    assert int(groups["gpu-annotate"]["rayStartParams"]["num-cpus"]) < int(cpu["cpu"])
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    models_dir = re.search(r"^ENV LPM_MODELS_DIR=(\S+)$", dockerfile, re.M).group(1)
    for container in _containers(spec):
        assert container["image"] == f"lpm-curation:{VERSION}"
        assert {"name": "LPM_MODELS_DIR", "value": models_dir} in container["env"]
        assert {"name": "models", "mountPath": models_dir, "readOnly": True} in container["volumeMounts"]


def test_the_models_volume_is_filled_by_a_job_with_the_same_image():
    docs = list(yaml.safe_load_all((REPO_ROOT / "deploy" / "kuberay" / "models-volume.yaml").read_text()))
    claim, job = docs
    assert claim["kind"] == "PersistentVolumeClaim" and job["kind"] == "Job"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"lpm-curation:{VERSION}"
    assert "lpm-curate models fetch" in " ".join(container["command"])
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
