"""A run whose ``--out`` is an object store keeps its logs there too: ``OUT/logs/`` when the run ends.

Every process writes its captured output line by line to a folder on its own node's disk (an
object cannot be appended to; ``curation.runtime.output_capture``). On a cluster those folders
sit on as many machines as there are nodes, and the nodes (autoscaled, preemptible) may be gone
by the time anyone looks for why a video failed. So when the run ends, finished or stopped by an
error, one task pinned to every live node copies that node's workers' files into the store, and
the driver's own file follows once its capture has closed. The names are the ones a local run
writes (``driver.log``, ``worker-<node>-<pid>.log`` and their rotated ``.1``-``.3``): one flat
folder, whichever node wrote them.

A log upload never fails the run: its results are already in the store, so a node that does not
answer or a store that refuses is reported and the local copies stay where they are. A node lost
during the run takes its workers' logs with it; a run killed outright uploads nothing (its nodes
keep them until their temporary folders are cleaned).
"""

from dataclasses import dataclass, field
from pathlib import Path

from curation.runtime.output_capture import DRIVER_LOG, worker_log_prefix
from curation.store.run_store import RunStore

LOGS = "logs"
# How long the driver waits for every node's upload: 3 rotated 20-MB files a worker at a few MB/s
# is seconds; a node that has not answered by then is reported, not waited for.
NODE_UPLOAD_TIMEOUT_S = 300.0


@dataclass
class LogUpload:
    """What reached ``OUT/logs/``: files per node (the driver as ``driver``), and what did not."""

    files: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def uploaded(self) -> int:
        return sum(self.files.values())


def upload_files(store_uri: str, folder: str, prefix: str) -> int:
    """Copy the files of ``folder`` whose names start with ``prefix`` into ``OUT/logs/``; how many."""
    store = RunStore(store_uri)
    count = 0
    for path in sorted(Path(folder).glob(f"{prefix}*")):
        if path.is_file():
            store.put_file(str(path), f"{LOGS}/{path.name}")
            count += 1
    return count


def upload_node_logs(store: RunStore, folder: Path, upload: LogUpload) -> None:
    """Each live Ray node's workers' files in its own ``folder``, copied by a task pinned to that node."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    task = ray.remote(num_cpus=0, max_retries=0)(upload_files)
    pending = {}
    try:
        for node in ray.nodes():
            if node.get("Alive"):
                pinned = NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
                pending[node["NodeID"]] = task.options(scheduling_strategy=pinned).remote(
                    store.uri, str(folder), worker_log_prefix(node["NodeID"])
                )
    except Exception as err:  # the cluster itself did not answer: what was scheduled is still awaited
        upload.problems.append(problem("the cluster", err))
    for node_id, ref in pending.items():
        name = node_id[:12]
        try:
            upload.files[name] = ray.get(ref, timeout=NODE_UPLOAD_TIMEOUT_S)
        except Exception as err:  # a lost node, a timeout, a refusing store: reported, never raised
            upload.problems.append(problem(f"node {name}", err))


def upload_driver_log(store: RunStore, folder: Path, upload: LogUpload) -> None:
    try:
        upload.files["driver"] = upload_files(store.uri, str(folder), DRIVER_LOG)
    except Exception as err:
        upload.problems.append(problem("driver", err))


def problem(where: str, err: BaseException) -> str:
    """``where: Kind: the message's first line`` (the kind alone for an exception without a message)."""
    first_line = next(iter(str(err).splitlines()), "")[:200]
    return f"{where}: {type(err).__name__}" + (f": {first_line}" if first_line else "")
