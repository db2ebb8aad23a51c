"""One lifecycle for every model wrapper: declare what it needs, set up once per worker, close.

A wrapper names the model-store entries it loads (``catalog_names``, so ``lpm-curate models`` and
the run's provenance can list them) and the device it runs on, and loads nothing in its
constructor: ``setup`` loads the weights and is idempotent, ``close`` releases them, and a ``with``
block does both. Use methods call ``setup`` on first use, so a wrapper built in a test or a
script just works, while a stage calls ``setup`` from its own ``setup`` so the load cost is paid
once per worker, before the first video.
"""

from abc import ABC, abstractmethod
from typing import ClassVar, Self


class ModelWrapper(ABC):
    catalog_names: ClassVar[tuple[str, ...]] = ()  # model-store entries; empty for a remote endpoint
    device: str = "cpu"

    @property
    @abstractmethod
    def is_set_up(self) -> bool:
        """Whether the weights are loaded."""

    @abstractmethod
    def setup(self) -> None:
        """Load the weights; a second call does nothing."""

    @abstractmethod
    def close(self) -> None:
        """Release the weights; the wrapper can be set up again."""

    def __enter__(self) -> Self:
        self.setup()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
