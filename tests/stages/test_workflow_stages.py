"""The workflow stage list finds every stage of the package: a new stage needs no registration."""

import textwrap

import pytest

from curation.config.workflow import load_workflow
from stages.workflow_stages import WORKFLOW_STAGES, find_stages

STAGE_MODULE = '''
from dataclasses import dataclass
from typing import ClassVar

from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork


@dataclass
class {cls}(Stage):
    name: ClassVar[str] = "{name}"

    def process(self, work: VideoWork) -> VideoWork:
        return work
'''


def test_every_stage_of_the_default_workflow_is_found():
    default = load_workflow("default", WORKFLOW_STAGES)
    assert sorted(WORKFLOW_STAGES) == sorted(s.name for s in default.stages)
    assert all(cls.__module__.startswith("stages.") for cls in WORKFLOW_STAGES.values())


def _package(root, name, modules):
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(text))


def test_a_new_stage_file_is_found_and_base_classes_are_not(tmp_path, monkeypatch):
    _package(tmp_path, "extra_stages", {
        "blur_filter": STAGE_MODULE.format(cls="BlurFilterStage", name="blur_filter"),
        "helpers": "from curation.runtime.run_scope_stage import RunScopeStage\nVALUE = 1\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    found = find_stages("extra_stages")
    assert list(found) == ["blur_filter"] and found["blur_filter"].__name__ == "BlurFilterStage"


def test_two_stages_with_one_name_are_refused(tmp_path, monkeypatch):
    _package(tmp_path, "twin_stages", {
        "first": STAGE_MODULE.format(cls="FirstStage", name="twin"),
        "second": STAGE_MODULE.format(cls="SecondStage", name="twin"),
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TypeError, match="two stages are named 'twin'"):
        find_stages("twin_stages")
