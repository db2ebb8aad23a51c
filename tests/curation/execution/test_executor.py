"""Both executors offer what the ``Executor`` protocol promises the pipeline, with the same
signatures, so the pipeline can be handed either."""

import inspect

import pytest

from curation.execution.executor import Executor
from curation.execution.local_executor import LocalExecutor
from curation.execution.ray_executor import RayExecutor, make_executor
from curation.runtime.resources import Resources

PROTOCOL_METHODS = ("map", "run_videos", "shutdown")


@pytest.mark.parametrize("executor_class", [LocalExecutor, RayExecutor])
def test_each_executor_has_the_protocols_methods_with_its_signatures(executor_class):
    own = {name for name, member in vars(Executor).items() if inspect.isfunction(member) and not name.startswith("_")}
    assert own == set(PROTOCOL_METHODS)
    for name in PROTOCOL_METHODS:
        promised = inspect.signature(getattr(Executor, name))
        offered = inspect.signature(getattr(executor_class, name))
        assert list(offered.parameters) == list(promised.parameters), (executor_class.__name__, name)
        for parameter in promised.parameters.values():
            assert offered.parameters[parameter.name].default == parameter.default, (executor_class.__name__, name)


def test_the_local_executor_maps_in_this_process_in_order():
    executor: Executor = make_executor("local")
    assert isinstance(executor, LocalExecutor)
    assert list(executor.map(lambda n: n * n, [3, 1, 2], Resources(cpus=2))) == [9, 1, 4]
    assert list(executor.run_videos([], [])) == []
    executor.shutdown()
