"""What one stage worker needs from the cluster; the Ray executor maps it to Ray's options."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    cpus: float = 1.0
    gpus: float = 0.0  # fractions share a GPU between actors
    memory_gb: float = 0.0  # 0: let Ray decide

    def ray_options(self) -> dict[str, float]:
        options: dict[str, float] = {"num_cpus": self.cpus}
        if self.gpus:
            options["num_gpus"] = self.gpus
        if self.memory_gb:
            options["memory"] = self.memory_gb * 2**30
        return options
