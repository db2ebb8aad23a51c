"""Check a stage's workflow parameters with the shared typed-settings loader.

Errors are ``WorkflowError`` and name the YAML path of the value (``stages[2].min_face_px``) so a
user can find it; the checking itself (types, choices, ranges, unknown keys) is
``schemas.typed_settings``, which the trainer's config uses too.
"""

from typing import Any

from curation.runtime.stage import Stage
from schemas.typed_settings import SettingsError, settings_for


class WorkflowError(SettingsError):
    """A workflow file or override is invalid; the message names the YAML path."""


def stage_params(cls: type[Stage], name: str, params: dict[str, Any], path: str) -> dict[str, Any]:
    return settings_for(cls, params, path, f"stage {name!r}", WorkflowError)
