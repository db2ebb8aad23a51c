"""Run two stages on a Ray whose one node declares a GPU (Ray's resource, no real GPU needed) and
report what each stage's workers were given. Usage: ``python gpu_placement_driver.py RUN_DIR``;
prints one JSON object. Run in a subprocess: the test process holds the shared CPU-only Ray."""

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import ray

from curation.execution.ray_executor import RayExecutor, stage_groups
from curation.execution.video_task import VideoTask
from curation.runtime.device import resolve_device
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork


@dataclass
class SeesDevices(Stage):
    """Notes, in a file per video and stage, the GPUs Ray gave this worker and the device ``auto`` picks."""

    name: ClassVar[str] = "sees_devices"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    label: str = "cpu"
    gpus: float = field(default=0.0)
    notes_dir: str = ""

    def process(self, work: VideoWork) -> VideoWork:
        ids = [str(i) for i in ray.get_gpu_ids()]
        note = {
            "stage": self.label,
            "pid": os.getpid(),
            "gpu_ids": ids,
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            # what a model stage would choose, had this GPU been real
            "device": resolve_device("auto", cuda_available=bool(ids)),
        }
        Path(self.notes_dir, f"{work.video_id}-{self.label}.json").write_text(json.dumps(note))
        return work


def main(run_dir: str) -> dict:
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    notes = Path(run_dir, "notes")
    notes.mkdir(parents=True)
    stages = [SeesDevices(label="cpu", notes_dir=str(notes)), SeesDevices(label="gpu", gpus=0.5, notes_dir=str(notes))]
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", run_dir, 0, True) for i in range(4)]
    outcomes = list(RayExecutor().run_videos(stages, tasks))
    assert sorted(o.state for o in outcomes) == ["kept"] * len(tasks), outcomes
    seen = [json.loads(p.read_text()) for p in sorted(notes.iterdir())]
    return {"groups": [[s.label for s in g] for g in stage_groups(stages)], "seen": seen}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
