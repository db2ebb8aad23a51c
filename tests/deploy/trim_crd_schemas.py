"""Make ``fixtures/kuberay_crd_schemas.json`` from KubeRay's CRDs, trimmed to what our manifests use.

KubeRay's CRD files are 0.9 MB (RayCluster) and 1.4 MB (RayJob), nearly all of it the Kubernetes
pod template repeated. The trimmed schema keeps, along every path our manifests use, the full
node: every sibling property name (so a misspelt key is refused), types, enums, required keys,
formats, patterns and bounds; a property the manifests do not use keeps only its type. Objects
get ``additionalProperties: false`` where the CRD lists their properties: the API server drops
unknown fields, but ``kubectl apply`` (strict field validation, its default) refuses them, and so
does this schema. Not kept: descriptions, defaults, and the CEL ``x-kubernetes-validations`` rules
(``jsonschema`` cannot run them).

    python tests/deploy/trim_crd_schemas.py /path/to/kuberay-checkout COMMIT
"""

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
REPO_ROOT = HERE.parents[1]
FIXTURE = HERE / "fixtures" / "kuberay_crd_schemas.json"
CRDS = {"RayCluster": "ray.io_rayclusters.yaml", "RayJob": "ray.io_rayjobs.yaml"}
CRD_DIR = "ray-operator/config/crd/bases"
KEPT = ("type", "enum", "required", "format", "pattern", "minimum", "maximum", "minLength", "maxLength",
        "minItems", "maxItems", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields")


def manifests() -> dict[str, list[dict[str, Any]]]:
    """Every RayCluster / RayJob document under deploy/kuberay, by kind."""
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in CRDS}
    for path in sorted((REPO_ROOT / "deploy" / "kuberay").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") in found:
                found[doc["kind"]].append(doc)
    return found


def trim(schema: dict[str, Any], instances: list[Any]) -> dict[str, Any]:
    """``schema`` kept in full along the paths that ``instances`` use, by type elsewhere."""
    out = {k: v for k, v in schema.items() if k in KEPT}
    if "anyOf" in schema:
        out["anyOf"] = [{k: v for k, v in s.items() if k in KEPT} for s in schema["anyOf"]]
    if not instances:
        return out
    if "properties" in schema:
        used = [i for i in instances if isinstance(i, dict)]
        out["properties"] = {
            name: trim(sub, [i[name] for i in used if name in i]) for name, sub in schema["properties"].items()
        }
        if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        values = [v for i in instances if isinstance(i, dict) for v in i.values()]
        out["additionalProperties"] = trim(schema["additionalProperties"], values)
    if "items" in schema:
        items = [v for i in instances if isinstance(i, list) for v in i]
        out["items"] = trim(schema["items"], items)
    return out


def crd_schema(crd: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]


def main(checkout: Path, commit: str) -> None:
    docs = manifests()
    fixture: dict[str, Any] = {
        "source": f"github.com/ray-project/kuberay@{commit}: {CRD_DIR}/" + ", ".join(CRDS.values()),
        "license": "Apache-2.0 (KubeRay authors); trimmed by tests/deploy/trim_crd_schemas.py",
    }
    for kind, name in CRDS.items():
        crd = yaml.safe_load((checkout / CRD_DIR / name).read_text())
        fixture[kind] = trim(crd_schema(crd), docs[kind])
    FIXTURE.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
