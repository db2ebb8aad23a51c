"""Peak resident memory of this process and everything it started (Ray workers included)."""

import threading

import psutil


class RssSampler:
    """Samples every ``interval`` seconds: the largest single process and the largest total
    (``children=False``: this process alone, e.g. a driver whose workers are not its children)."""

    def __init__(self, interval: float = 0.2, children: bool = True) -> None:
        self.interval = interval
        self.children = children
        self.peak_process_mb = 0.0
        self.peak_total_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            sizes = []
            for proc in [me, *(me.children(recursive=True) if self.children else [])]:
                try:
                    sizes.append(proc.memory_info().rss / 2**20)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            if sizes:
                self.peak_process_mb = max(self.peak_process_mb, max(sizes))
                self.peak_total_mb = max(self.peak_total_mb, sum(sizes))
            self._stop.wait(self.interval)
