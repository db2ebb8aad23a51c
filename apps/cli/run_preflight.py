"""What can refuse ``lpm-curate run``, checked before anything is written or Ray starts.

``--out`` (absent, empty or a run of this toolkit), ``--input`` (it names videos) and the models
the workflow loads (each one here). Each used to be found out late: inputs after ``run.json`` and
``logs/`` were written, ``--out`` never (a user's files were deleted), missing models by every Ray
actor dying in ``setup``. Refused here, a run leaves nothing behind and exits 2 with one line per
problem.
"""

from collections import Counter

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


def check_before_writing(out: str, input_spec: str, limit: int | None, workflow: Workflow,
                         passed_over: Counter[str] | None = None) -> list[str]:
    """The input URIs the run will process, or ``RunRefusedError``; reads, never writes.
    ``passed_over``: counts the files of an input folder that are not videos by their extension.

    A run directory an older version wrote raises ``LedgerFormatError`` first: its message says
    what to do with that folder."""
    store = RunStore(out)
    Ledger(store).check_format()
    try:
        check_run_folder(store)
        inputs = discover_inputs(input_spec, limit, passed_over)
        check_models(workflow.model_choices())
    except (RunFolderError, InputError) as err:
        raise RunRefusedError([str(err)]) from None
    except MissingModelsError as err:
        raise RunRefusedError(err.lines) from None
    return inputs


def passed_over_warning(input_spec: str, passed_over: Counter[str], shown: int = 5) -> str | None:
    """What a run says about the files of its input folder it does not read (None: there are none)."""
    total = sum(passed_over.values())
    if not total:
        return None
    kinds = ", ".join(f"{suffix} {n}" for suffix, n in passed_over.most_common(shown))
    hidden = len(passed_over) - shown
    more = f", {hidden} more kind{'s' if hidden > 1 else ''}" if hidden > 0 else ""
    return (f"{total} file(s) in {input_spec} are not read: their extensions are not a video's ({kinds}{more});"
            " name them in a list file (--input LIST.txt) to read them anyway")
