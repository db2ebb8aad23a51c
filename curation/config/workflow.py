"""Load a workflow YAML into validated stage instances.

A workflow file::

    name: default
    description: what it is for
    stages:
      - stage: probe          # a name from the workflow stage list
        min_duration_s: 1.0   # any parameter of that stage; the rest keep their defaults

or one that extends another (a built-in name, or a .yaml path relative to this file) instead of copying
its stage list::

    name: smoke
    extends: default          # a built-in name, or a file: other.yaml
    until: pairs              # optional: the base's stages up to and including this one
    settings:                 # parameters changed on the base's stages
      visual_analysis: {analysis_short_side: 360}

``--set STAGE.PARAM=VALUE`` overrides a value after loading (VALUE is parsed as YAML).
"""

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from curation.config.param_validation import WorkflowError, stage_params
from curation.config.product_names import unknown_part
from curation.config.yaml_core import load_yaml
from curation.models.model_choice import ModelChoice, model_records
from curation.runtime.stage import Stage
from schemas.version import SCHEMA_VERSION

StagesByName = dict[str, type[Stage]]
_TOP_LEVEL_KEYS = {"name", "description", "stages", "extends", "until", "settings"}
RawStages = list[tuple[str, dict[str, Any]]]  # (stage name, parameters) as the YAML gives them


@dataclass
class Workflow:
    name: str
    description: str
    stages: list[Stage]
    source: str

    def resolved(self) -> dict[str, Any]:
        """Every stage with every parameter, defaults included: what run.json records."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "stages": [
                {"stage": s.name, "version": s.version, **_jsonable(s.params())} for s in self.stages
            ],
        }

    def model_choices(self) -> list[ModelChoice]:
        """Every stage's model or fallback per capability, in stage order."""
        return [choice for stage in self.stages for choice in stage.model_choices()]

    def fingerprint(self) -> str:
        """Changes whenever a stage, a parameter, a stage version, the schema version, or a model
        behind a capability (its version or checksum, or a fallback in its place) changes."""
        payload = {
            "schema_version": SCHEMA_VERSION,
            "stages": self.resolved()["stages"],
            "models": model_records(self.model_choices()),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)


def builtin_workflows() -> dict[str, Path]:
    folder = resources.files("workflows")
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def load_workflow(
    name_or_path: str, registry: StagesByName, overrides: list[str] | None = None
) -> Workflow:
    path = Path(name_or_path)
    if not path.exists():
        builtin = builtin_workflows()
        if name_or_path not in builtin:
            raise WorkflowError(
                f"no workflow file {name_or_path!r} and no built-in workflow of that name "
                f"(built-in: {', '.join(sorted(builtin))})"
            )
        path = builtin[name_or_path]
    return parse_workflow(_read_document(path), registry, overrides or [], source=str(path))


def _read_document(path: Path) -> Any:
    try:
        return load_yaml(path.read_text())
    except yaml.YAMLError as err:
        raise WorkflowError(f"{path}: not valid YAML: {err}") from err


def parse_workflow(
    document: Any, registry: StagesByName, overrides: list[str], source: str
) -> Workflow:
    raw = _raw_stages(document, registry, source, seen=())
    names = [n for n, _ in raw]
    origins = {_apply_override(override, raw, names): override for override in overrides}
    stages = []
    for i, (name, params) in enumerate(raw):
        try:
            stages.append(_build_stage(name, params, registry, f"stages[{i}]"))
        except WorkflowError as err:
            # A bad value given on the command line is not in the file: say where it came from.
            given = next((o for (j, key), o in origins.items() if j == i and f"stages[{i}].{key}:" in str(err)), None)
            if given is None:
                raise
            raise WorkflowError(f"{err} (from --set {given!r})") from err
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise WorkflowError(f"stages: each stage may appear once; repeated: {', '.join(sorted(duplicates))}")
    check_products(stages)
    for stage in stages:
        stage.bind(stages)
    return Workflow(
        name=str(document.get("name", Path(source).stem)),
        description=str(document.get("description", "")),
        stages=stages,
        source=source,
    )


def _raw_stages(document: Any, registry: StagesByName, source: str, seen: tuple[str, ...]) -> RawStages:
    """The stage list of a workflow document, its base's first when it extends one."""
    if not isinstance(document, dict):
        raise WorkflowError(f"{source}: a workflow is a mapping with name, description, stages")
    unknown = set(document) - _TOP_LEVEL_KEYS
    if unknown:
        raise WorkflowError(f"{', '.join(sorted(unknown))}: unknown top-level key(s); allowed: "
                            f"{', '.join(sorted(_TOP_LEVEL_KEYS))}")
    if "extends" in document:
        return _extended_stages(document, registry, source, seen)
    for key in ("until", "settings"):
        if key in document:
            raise WorkflowError(f"{key}: only a workflow that extends another has {key!r}")
    entries = document.get("stages")
    if not isinstance(entries, list) or not entries:
        raise WorkflowError("stages: expected a non-empty list of stages")
    raw: RawStages = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "stage" not in entry:
            raise WorkflowError(f"stages[{i}]: expected a mapping with a 'stage' key")
        params = {k: v for k, v in entry.items() if k != "stage"}
        raw.append((entry["stage"], params))
    return raw


def _extended_stages(document: dict[str, Any], registry: StagesByName, source: str,
                     seen: tuple[str, ...]) -> RawStages:
    if "stages" in document:
        raise WorkflowError("stages: a workflow that extends another changes its stages under 'settings' "
                            "(and cuts the list with 'until'); it does not list them again")
    base_path = _base_path(document["extends"], source)
    # resolved, so ./a.yaml and ../dir/a.yaml are one file and a cycle through them is seen
    if base_path.resolve() in {Path(p).resolve() for p in (*seen, source)}:
        raise WorkflowError(f"extends: {document['extends']!r} extends itself "
                            f"(chain: {' -> '.join((*seen, source, str(base_path)))})")
    raw = _raw_stages(_read_document(base_path), registry, str(base_path), (*seen, source))
    names = [name for name, _ in raw]
    until = document.get("until")
    if until is not None:
        if until not in names:
            raise WorkflowError(f"until: the base workflow has no stage {until!r} (stages: {', '.join(names)})")
        raw = raw[: names.index(until) + 1]
        names = names[: names.index(until) + 1]
    settings = document.get("settings") or {}
    if not isinstance(settings, dict):
        raise WorkflowError("settings: expected a mapping of stage name to its parameters")
    for stage_name, params in settings.items():
        path = f"settings.{stage_name}"
        if stage_name not in names:
            raise WorkflowError(f"{path}: the workflow has no stage {stage_name!r} (stages: {', '.join(names)})")
        if not isinstance(params, dict):
            raise WorkflowError(f"{path}: expected a mapping of parameter to value")
        _build_stage(stage_name, params, registry, path)  # the error names the settings path
        raw[names.index(stage_name)] = (stage_name, {**raw[names.index(stage_name)][1], **params})
    return raw


def _base_path(extends: Any, source: str) -> Path:
    """A value ending in .yaml is a file relative to the extending one; anything else a built-in name."""
    if not isinstance(extends, str) or not extends:
        raise WorkflowError(f"extends: expected a workflow name or path, got {extends!r}")
    if extends.endswith((".yaml", ".yml")):
        relative = Path(source).parent / extends
        if not relative.is_file():
            raise WorkflowError(f"extends: no workflow file {str(relative)!r}")
        return relative
    builtin = builtin_workflows()
    if extends not in builtin:
        raise WorkflowError(f"extends: no built-in workflow {extends!r} (built-in: {', '.join(sorted(builtin))}; "
                            "a file is named with its .yaml ending)")
    return builtin[extends]


def check_products(stages: list[Stage]) -> None:
    """Every product a stage needs must be added by an earlier stage (checked before any video)."""
    added: dict[str, str] = {}
    for i, stage in enumerate(stages):
        for declared in (*stage.needs, *stage.adds):
            unknown = unknown_part(declared)
            if unknown:
                raise WorkflowError(f"stages[{i}] ({stage.name}): {unknown}")
        for need in stage.needs:
            product = need.split(".", 1)[0]
            if product in added:
                continue
            later = next((s.name for s in stages[i + 1 :] if product in {a.split(".", 1)[0] for a in s.adds}), None)
            where = f"only the later stage {later!r} adds it" if later else "no stage of the workflow adds it"
            raise WorkflowError(f"stages[{i}] ({stage.name}) needs {need!r}, but {where}")
        added.update({a.split(".", 1)[0]: stage.name for a in stage.adds})


def _apply_override(override: str, raw: list[tuple[str, dict[str, Any]]], names: list[str]) -> tuple[int, str]:
    """Apply one ``--set``; returns (stage index, parameter) it changed."""
    key, sep, text = override.partition("=")
    stage_name, dot, param = key.strip().partition(".")
    if not sep or not dot or not param:
        raise WorkflowError(f"--set {override!r}: expected STAGE.PARAM=VALUE")
    if stage_name not in names:
        raise WorkflowError(f"--set {override!r}: the workflow has no stage {stage_name!r} "
                            f"(stages: {', '.join(names)})")
    try:
        value = load_yaml(text)
    except yaml.YAMLError as err:
        raise WorkflowError(f"--set {override!r}: value is not valid YAML: {err}") from err
    index = names.index(stage_name)
    raw[index][1][param] = value
    return index, param


def _build_stage(name: Any, params: dict[str, Any], registry: StagesByName, path: str) -> Stage:
    if not isinstance(name, str) or name not in registry:
        raise WorkflowError(f"{path}.stage: unknown stage {name!r}; known: {', '.join(sorted(registry))}")
    cls = registry[name]
    values = stage_params(cls, name, params, path)
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise WorkflowError(f"{path}: {err}") from err


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
