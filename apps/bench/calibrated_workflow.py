"""A workflow with the rules refitted on a user's own labelled footage, from a ``bench validity`` report.

``bench validity`` refits every fitted rule leaving one source out, to say how well each holds on a
source it never saw, and fits each once more on every source (``fit_on_all_sources``). On the
calibration corpus those fits only measure. On a team's own footage (a folder with a ``MANIFEST.csv`` in
the corpus's columns: ``file``, ``label``, ``source_id``, ``person_id``) they are what to run with:
``bench validity --corpus MINE --write-workflow calibrated.yaml`` writes a workflow that extends the
default with those fits, each rule's held-out figure beside it as a comment, for ``lpm-curate run
--workflow calibrated.yaml``. A rule the footage could not fit (no dubbed copy, one source only, too
few rows) keeps its default and says why.

The lip-sync thresholds belong to the model that scored the footage, so the workflow names it
(``states.lip_sync_model``): ``auto`` could pick another model (SyncNet, once fetched) whose scores
live on another scale.
"""

from pathlib import Path
from typing import Any

import yaml

from apps.bench.validity_figures import RULE_FIGURES, figure_at, share_text

# Per rule of the report: the stage its fitted numbers belong to, and which report key is which parameter
# (None: every fitted key, under its own name).
RULE_PARAMETERS: dict[str, tuple[str, dict[str, str] | None]] = {
    "lip_sync_verdict": ("states", {"reject_below": "lip_sync_threshold", "accept_from": "lip_sync_accept_threshold"}),
    "mouth_motion_threshold": ("states", {"mouth_motion_threshold": "mouth_motion_threshold"}),
    "performer_filter": ("performer_filter", None),
    "cascade_skip_margin": ("visual_analysis", {"cascade_skip_margin": "cascade_skip_margin"}),
}
# The report's keys beside a fit that are not parameters.
_NOT_PARAMETERS = {"in_sample", "error"}


def calibrated_settings(report: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Stage -> parameter -> value for every rule the report fitted on all its sources (after the run's
    own ``--set`` overrides, which the fits were made under), and rule -> why for those it could not fit."""
    settings: dict[str, dict[str, Any]] = {}
    for override in report.get("overrides", []):
        key, _, value = override.partition("=")
        stage, _, param = key.partition(".")
        settings.setdefault(stage, {})[param] = yaml.safe_load(value)
    skipped = {}
    for rule, (stage, names) in RULE_PARAMETERS.items():
        fit = report["rules"][rule]["fit_on_all_sources"]
        if "error" in fit:
            skipped[rule] = str(fit["error"])
            continue
        keys = [k for k in fit if k not in _NOT_PARAMETERS] if names is None else list(names)
        for key in keys:
            settings.setdefault(stage, {})[key if names is None else names[key]] = _plain(fit[key])
    if "lip_sync_verdict" not in skipped:
        settings.setdefault("states", {})["lip_sync_model"] = report["lip_sync_model"]
    return settings, skipped


def calibrated_workflow(report: dict[str, Any], corpus: str, base: str = "default") -> str:
    """The workflow file's text: ``base`` extended with ``calibrated_settings``, each rule's held-out
    figure and each rule left at its default, with why, as comments."""
    settings, skipped = calibrated_settings(report)
    lines = [
        f"# Rules refitted by `lpm-curate bench validity` on {corpus} ({report.get('clips', '?')} clips, "
        f"{len(report.get('sources', []))} sources).",
        "# Held out by source (each rule fitted without a source, scored on it), pooled over the sources:",
    ]
    for rule in RULE_PARAMETERS:
        if rule in skipped:
            lines.append(f"#   {rule}: not fitted, default kept: {skipped[rule]}")
            continue
        figure = figure_at(report["rules"][rule]["pooled_held_out"], RULE_FIGURES[rule])
        lines.append(f"#   {rule}: {' '.join(RULE_FIGURES[rule])} {share_text(figure, 'not measured')}")
    document = {
        "name": "calibrated",
        "description": f"{base} with the rules bench validity refitted on {corpus}",
        "extends": base,
        "settings": settings,
    }
    return "\n".join(lines) + "\n" + yaml.safe_dump(document, sort_keys=False)


def write_calibrated_workflow(report: dict[str, Any], corpus: str, path: Path) -> None:
    """``calibrated_workflow`` written to ``path`` atomically (a temporary name, then renamed)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(calibrated_workflow(report, corpus))
    partial.replace(path)


def _plain(value: Any) -> Any:
    """A number as YAML writes it plainly (numpy scalars to Python ones)."""
    return value.item() if hasattr(value, "item") else value

