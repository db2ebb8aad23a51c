"""The Stage contract: a dataclass of parameters, declared resources and fields, setup/process.

A stage is retry-safe: ``process`` on the same input gives the same output. Rejections are data
(``VideoWork.reject`` / ``reject_entity``), never silent drops. Exceptions are caught by the
executor and recorded as ``failed`` with the stage name; a stage raises only for the unexpected.
"""

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from curation.runtime.resources import Resources
from curation.runtime.video_work import VideoWork


@dataclass
class Stage:
    """Base class; subclasses are dataclasses whose fields are the stage's parameters."""

    name: ClassVar[str] = "stage"
    # VideoWork attributes (or ``extras`` keys as ``extras.<key>``) read and written.
    needs: ClassVar[tuple[str, ...]] = ()
    adds: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[Resources] = Resources()
    # True for stages that hold a model: the Ray executor runs them as an actor pool so that
    # ``setup`` (model loading) happens once per worker, not once per video.
    holds_model: ClassVar[bool] = False
    # Bump when a change to the code changes results, so resumed runs refuse to mix outputs.
    version: ClassVar[int] = 1

    def setup(self) -> None:
        """Load models; called once per worker before the first ``process``."""

    def process(self, work: VideoWork) -> VideoWork:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def check_needs(self, work: VideoWork) -> None:
        """Fail early, naming the field, when an earlier stage did not provide an input."""
        for need in self.needs:
            if need.startswith("extras."):
                present = need.removeprefix("extras.") in work.extras
            else:
                present = bool(getattr(work, need, None))
            if not present:
                raise LookupError(f"stage {self.name!r} needs {need!r}, which no earlier stage added")
