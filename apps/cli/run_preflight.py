"""What can refuse ``lpm-curate run``, checked before anything is written or Ray starts.

``--out`` (absent, empty or a run of this toolkit), ``--input`` (it names videos) and the models
the workflow loads (each one here). Each used to be found out late: inputs after ``run.json`` and
``logs/`` were written, ``--out`` never (a user's files were deleted), missing models by every Ray
actor dying in ``setup``. Refused here, a run leaves nothing behind and exits 2 with one line per
problem.
"""

from curation.config.workflow import Workflow
from curation.ingest.discovery import InputError, discover_inputs
from curation.models.model_requirements import MissingModelsError, check_models
from curation.run.run_folder import RunFolderError, check_run_folder
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore


class RunRefusedError(ValueError):
    """The run cannot start; ``lines`` says why, one problem a line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def check_before_writing(out: str, input_spec: str, limit: int | None, workflow: Workflow) -> list[str]:
    """The input URIs the run will process, or ``RunRefusedError``; reads, never writes.

    A run directory an older version wrote raises ``LedgerFormatError`` first: its message says
    what to do with that folder."""
    store = RunStore(out)
    Ledger(store).check_format()
    try:
        check_run_folder(store)
        inputs = discover_inputs(input_spec, limit)
        check_models(workflow.model_choices())
    except (RunFolderError, InputError) as err:
        raise RunRefusedError([str(err)]) from None
    except MissingModelsError as err:
        raise RunRefusedError(err.lines) from None
    return inputs
