"""``OUT/run.json``: what made this run directory, and whether it is complete.

Written when a run starts (state ``running``) and again when it ends (``complete``). A resumed
run must use the same workflow fingerprint: outputs of different workflows never mix.
"""

import json
import platform
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from curation.config.workflow import Workflow
from curation.models.model_choice import ModelRecord
from curation.store.run_store import RunStore
from schemas.version import SCHEMA_VERSION

RUN_FILE = "run.json"
_PACKAGES = (
    "lpm-curation", "numpy", "pandas", "pyarrow", "duckdb", "ray", "mediapipe", "scenedetect",
    "webdataset", "torch", "torchaudio", "silero-vad", "whisperx", "pyannote.audio", "insightface",
    "open_clip_torch", "onnxruntime", "dlib-bin", "face_recognition_models", "resemblyzer", "librosa",
)


class WorkflowMismatchError(RuntimeError):
    """The run directory was made by a different workflow; resuming would mix outputs."""


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        first = subprocess.run(
            ["ffmpeg", "-nostdin", "-version"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
        ).stdout
        versions["ffmpeg"] = first.split("\n", 1)[0].split(" ")[2] if first else None
    except (OSError, subprocess.TimeoutExpired, IndexError):
        versions["ffmpeg"] = None
    return versions


@dataclass
class RunInfo:
    store: RunStore
    data: dict[str, Any]

    @classmethod
    def open_or_create(cls, store: RunStore, workflow: Workflow, input_spec: str) -> "RunInfo":
        fingerprint = workflow.fingerprint()
        models = [choice.record() for choice in workflow.model_choices()]
        existing = read_run_info(store)
        if existing is not None:
            if existing.workflow_fingerprint != fingerprint:
                raise WorkflowMismatchError(
                    f"{store.uri} holds a run of workflow {existing.workflow_name!r} "
                    f"(fingerprint {existing.workflow_fingerprint}); this workflow's fingerprint is "
                    f"{fingerprint}.{_model_change(existing.models, models)} Its results would differ, "
                    "so they are not mixed: use a new --out."
                )
            data = existing.document | {"resumed": existing.resumed + 1}
        else:
            data = {
                "schema_version": SCHEMA_VERSION,
                "workflow_fingerprint": fingerprint,
                "workflow": workflow.resolved(),
                # the model (name, version, checksum) or the fallback behind each capability
                "models": [m.as_json() for m in models],
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "resumed": 0,
            }
        data.update(
            state="running",
            input=input_spec,
            started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            versions=package_versions(),
        )
        info = cls(store, data)
        info.save()
        return info

    def complete(self, **fields: Any) -> None:
        self.data.update(fields)
        self.data["state"] = "complete"
        self.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.save()

    def save(self) -> None:
        self.store.write_bytes(RUN_FILE, json.dumps(self.data, indent=2, sort_keys=True).encode())


def _model_change(before: list[ModelRecord] | None, now: list[ModelRecord]) -> str:
    """The capabilities whose model differs from the run's, as a sentence (empty when none does)."""
    if before is None:
        return ""
    earlier = {(m.stage, m.capability): m for m in before}
    changed = []
    for m in now:
        was = earlier.get((m.stage, m.capability))
        if was != m:
            changed.append(f"{m.stage} {m.capability}: {'none' if was is None else was.describe()} -> {m.describe()}")
    return f" The models differ ({'; '.join(changed)})." if changed else ""


@dataclass(frozen=True)
class RunDocument:
    """``run.json`` as its readers see it: a pipeline run's, or an export's (written by
    ``curation.export``, ``"kind": "export"`` in ``document``). A key the document lacks reads as None
    (a run that never finished has no ``finished``); ``document`` is the whole JSON (an export
    compares requests by it)."""

    state: str | None
    workflow: dict[str, Any] | None  # the resolved workflow (an export's: its source's)
    workflow_fingerprint: str | None
    models: list[ModelRecord] | None  # what each capability ran on
    resumed: int
    created: str | None
    finished: str | None
    wall_s: float | None
    executor: str | None
    accounting: dict[str, Any] | None  # counts, and counts by reason
    stage_seconds: dict[str, float]
    document: dict[str, Any]

    @classmethod
    def parse(cls, document: dict[str, Any]) -> "RunDocument":
        return cls(
            state=document.get("state"),
            workflow=document.get("workflow"),
            workflow_fingerprint=document.get("workflow_fingerprint"),
            models=None if document.get("models") is None else [ModelRecord.from_json(m) for m in document["models"]],
            resumed=document.get("resumed") or 0,
            created=document.get("created"),
            finished=document.get("finished"),
            wall_s=document.get("wall_s"),
            executor=document.get("executor"),
            accounting=document.get("accounting"),
            stage_seconds=dict(document.get("stage_seconds") or {}),
            document=document,
        )

    @property
    def workflow_name(self) -> str | None:
        return None if self.workflow is None else self.workflow.get("name")

    @property
    def complete(self) -> bool:
        return self.state == "complete"


def read_run_info(store: RunStore) -> RunDocument | None:
    return RunDocument.parse(json.loads(store.read_bytes(RUN_FILE))) if store.exists(RUN_FILE) else None
