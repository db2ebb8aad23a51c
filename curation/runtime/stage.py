"""The Stage contract: a dataclass of parameters, declared resources and products, setup/process.

A stage is retry-safe: ``process`` on the same input gives the same output. Rejections are data
(``VideoWork.reject`` / ``reject_entity``), never silent drops. Exceptions are caught by the
executor and recorded as ``failed`` with the stage name; a stage raises only for the unexpected.
"""

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from curation.models.model_choice import ModelChoice
from curation.runtime.resources import Resources
from curation.runtime.video_work import VideoWork


@dataclass
class Stage:
    """Base class; subclasses are dataclasses whose fields are the stage's parameters."""

    name: ClassVar[str] = "stage"
    # Products (VideoWork fields, see curation.runtime.products) read and added; ``field.column``
    # names a column a stage adds to rows another stage made. The workflow checks at load that
    # every product a stage needs is added by an earlier stage.
    needs: ClassVar[tuple[str, ...]] = ()
    adds: ClassVar[tuple[str, ...]] = ()
    # What one worker of this stage takes from the cluster; stages with different needs (GPU or
    # not) run in different actor pools.
    resources: ClassVar[Resources] = Resources()
    # Bump when a change to the code changes results, so resumed runs refuse to mix outputs.
    version: ClassVar[int] = 1

    def worker_resources(self) -> Resources:
        """What one worker of this stage asks Ray for: the declared resources, plus the GPUs of
        the stage's ``gpus`` parameter when it has one (model stages do: ``gpus: 1`` in the
        workflow puts them in a GPU pool of their own)."""
        gpus = float(getattr(self, "gpus", 0.0) or 0.0)
        return replace(self.resources, gpus=gpus) if gpus else self.resources

    def bind(self, stages: "list[Stage]") -> None:
        """Called once the workflow is built, with all its stages: a stage that works for another
        (the analysis cascade for the performer filter that judges its shots) finds it here."""

    def setup(self) -> None:
        """Load models; called once per worker before the first ``process``."""

    def model_choices(self) -> list[ModelChoice]:
        """The model (or the fallback) behind each capability of this stage on this machine, as
        ``setup`` will load it: recorded in run.json and part of the workflow fingerprint."""
        return []

    def process(self, work: VideoWork) -> VideoWork:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def check_needs(self, work: VideoWork) -> None:
        """Fail early, naming the product, when an earlier stage did not provide an input.

        A product is missing while it is None; row lists may be legitimately empty and so count as
        present once declared."""
        for need in self.needs:
            product = need.split(".", 1)[0]
            if not hasattr(work, product):
                raise LookupError(f"stage {self.name!r} needs {need!r}, which is not a product of a video record")
            value = getattr(work, product)
            if value is None:
                raise LookupError(f"stage {self.name!r} needs {need!r}, which no earlier stage added")
