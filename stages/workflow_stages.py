"""Every stage a workflow can name, found in this package: a stage is a ``Stage`` subclass with its
own ``name``, defined in a module of ``stages``.

Finding them, instead of listing them, is what lets a new stage be its file, its test and a line
in a workflow YAML: nothing else names it. Two stages with the same ``name`` are refused.
"""

import importlib
import pkgutil

from curation.config.workflow import StagesByName
from curation.runtime.stage import Stage


def find_stages(package_name: str = "stages") -> StagesByName:
    package = importlib.import_module(package_name)
    found: StagesByName = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package_name}.{info.name}")
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, Stage) and value.__module__ == module.__name__):
                continue
            if "name" not in vars(value):
                continue  # a base class for stages, not a stage
            if value.name in found:
                raise TypeError(f"two stages are named {value.name!r}: {found[value.name].__module__}."
                                f"{found[value.name].__qualname__} and {module.__name__}.{value.__qualname__}")
            found[value.name] = value
    return found


WORKFLOW_STAGES: StagesByName = find_stages()
