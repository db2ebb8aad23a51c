"""One lifecycle for every model wrapper: declare what it needs, set up once per worker, close.

A wrapper names the model-store entries it loads (``catalog_names``, so ``lpm-curate models`` and
the run's provenance can list them) and the device it runs on, and loads nothing in its
constructor. The lifecycle is written here once: ``setup`` calls the wrapper's ``load_model``
unless the model is loaded (``is_set_up``), ``close`` hands it to ``release`` and drops it, and a
``with`` block does both. ``load_model`` imports its library through ``optional_import``, so a
missing one is an ``ImportError`` naming the command that installs it (as datatrove's
``_requires_dependencies`` does), and reads its files from the model store. Use methods call
``setup`` on first use, so a wrapper built in a test or a script just works, while a stage calls
``setup`` from its own ``setup`` so the load cost is paid once per worker, before the first video.
"""

import importlib
from abc import ABC, abstractmethod
from types import ModuleType
from typing import Any, ClassVar, Self


def optional_import(module: str, install: str) -> ModuleType:
    """``module``, imported; when it cannot be, an ``ImportError`` whose message is ``install`` (what
    needs it and the pip command), chained to the original error."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(install) from err


class ModelWrapper(ABC):
    catalog_names: ClassVar[tuple[str, ...]] = ()  # model-store entries; empty for a remote endpoint
    device: str = "cpu"
    _model: Any = None  # what ``load_model`` returned, while set up

    @abstractmethod
    def load_model(self) -> Any:
        """Import the library, read the weights and return the loaded model (never None); only
        ``setup`` calls it. Whatever else it sets on the wrapper, ``release`` clears."""

    def release(self, model: Any) -> None:  # noqa: B027 - an optional hook: most models need nothing
        """Free what dropping the model does not (a native handle, a cache); nothing by default."""

    @property
    def is_set_up(self) -> bool:
        """Whether the weights are loaded."""
        return self._model is not None

    def setup(self) -> None:
        """Load the weights; a second call does nothing."""
        if self._model is None:
            self._model = self.load_model()

    def close(self) -> None:
        """Release the weights; the wrapper can be set up again."""
        if self._model is not None:
            self.release(self._model)
            self._model = None

    def __enter__(self) -> Self:
        self.setup()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
