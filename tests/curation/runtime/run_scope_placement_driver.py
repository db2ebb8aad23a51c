"""Run the pipeline's blocks for a run-scope stage with a GPU on a Ray whose node declares one
(Ray's resource, no real GPU needed) and report, per step, the GPUs its workers were given and
whether they loaded the stage's model. Usage: ``python run_scope_placement_driver.py RUN_DIR``;
prints one JSON object."""

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import ray

from curation.config.workflow import Workflow
from curation.execution.ray_executor import RayExecutor
from curation.ingest.content_id import InputIdentity
from curation.run.pipeline import RunRequest, _run_blocks
from curation.run.video_index import VideoIndex
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore


def _seen(model_loaded: bool) -> dict[str, Any]:
    return {"pid": os.getpid(), "gpu_ids": [str(i) for i in ray.get_gpu_ids()], "model_loaded": model_loaded}


@dataclass
class NeedsGpuModel(RunScopeStage):
    """A run-scope stage whose ``setup`` loads a "model" (counted: a file per load) on a GPU worker."""

    name: ClassVar[str] = "needs_gpu_model"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    loads_dir: str = ""
    gpus: float = field(default=0.5)

    def setup(self) -> None:
        Path(self.loads_dir, str(os.getpid())).write_text("loaded")
        self._model = "loaded"

    def summarize(self, work: VideoWork) -> dict[str, Any]:
        return _seen(getattr(self, "_model", None) is not None)

    def decide(self, summaries: dict[str, Any]) -> dict[str, Any]:
        return {"summaries": summaries, "decide": {**_seen(getattr(self, "_model", None) is not None),
                                                   "n_videos": len(summaries)}}

    def apply(self, work: VideoWork, decision: dict[str, Any]) -> VideoWork:
        note = {"summarized": decision["summaries"][work.video_id], "decide": decision["decide"],
                "applied": _seen(getattr(self, "_model", None) is not None)}
        Path(self.loads_dir).with_name("applied").joinpath(f"{work.video_id}.json").write_text(json.dumps(note))
        return work


def main(run_dir: str) -> dict:
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    loads = Path(run_dir, "loads")
    loads.mkdir(parents=True)
    Path(run_dir, "applied").mkdir()
    stage = NeedsGpuModel(loads_dir=str(loads))
    workflow = Workflow("run_scope_placement", "", [stage], "test")
    store = RunStore(str(Path(run_dir, "run")))
    ledger = Ledger(store)
    videos = [f"v{i}" for i in range(4)]
    request = RunRequest(input="/in", out=store.uri, workflow=workflow)
    with VideoIndex() as index:
        index.add_inputs([f"/in/{v}.mp4" for v in videos])
        index.set_identities(InputIdentity(f"/in/{v}.mp4", v, 1, None) for v in videos)
        index.choose_primaries()
        _run_blocks(request, store, ledger, RayExecutor(), index, lambda *a: None, lambda s: None)
        states = {o.video_id: o.state for o in index.outcomes()}
    rows = {v: json.loads(Path(run_dir, "applied", f"{v}.json").read_text()) for v in videos}
    return {
        "summarized": {v: r["summarized"] for v, r in rows.items()},
        "applied": {v: r["applied"] for v, r in rows.items()},
        "decide": {k: v for k, v in rows["v0"]["decide"].items() if k != "pid"},
        "loads": sorted(int(p.name) for p in loads.iterdir()),
        "states": states,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
