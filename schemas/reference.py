"""The schema reference page (``docs/schema.md``), generated from the definitions in ``schemas/``.

``python -m schemas.reference > docs/schema.md`` writes it; a test compares the committed page with
a fresh one, so the page cannot drift from the code. Column meanings are the comments written
beside each field in ``schemas/tables.py`` (read from the source with ``tokenize``): a comment is
the one place a column's meaning is written, and this page only collects them.
"""

import dataclasses
import inspect
import io
import re
import tokenize
from collections.abc import Iterable
from types import ModuleType

from schemas import (
    performance_annotation,
    performer_states,
    reasons,
    review_verdict,
    sample_layout,
    sample_record,
    shard_index,
    tables,
)
from schemas.version import SCHEMA_VERSION

_FIELD_LINE = re.compile(r"^\s*(\w+)\s*:")
_ARROW_FIELD_LINE = re.compile(r"^\s*\(\s*\"(\w+)\"\s*,")
_ENUM_MEMBER_LINE = re.compile(r"^\s*([A-Z_]+)\s*=")


def _comments_by_line(source: str) -> tuple[dict[int, str], dict[int, str]]:
    """Trailing comments (after code on the same line) and standalone comment lines, by line number."""
    trailing: dict[int, str] = {}
    standalone: dict[int, str] = {}
    code_lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            line = token.start[0]
            text = token.string.lstrip("#").strip()
            (trailing if line in code_lines else standalone)[line] = text
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_lines.add(token.start[0])
    return trailing, standalone


def _annotated_names(source: str, pattern: re.Pattern[str]) -> dict[str, str]:
    """For each name a line of ``source`` defines (``pattern``), its meaning: the comment block just
    above it (a group note, in italics) followed by the comment beside it."""
    trailing, standalone = _comments_by_line(source)
    meanings: dict[str, str] = {}
    block: list[str] = []
    for number, line in enumerate(source.splitlines(), start=1):
        if number in standalone:
            block.append(standalone[number])
            continue
        match = pattern.match(line)
        if match:
            group = f"*{' '.join(block)}* " if block else ""
            meanings[match.group(1)] = (group + trailing.get(number, "")).strip()
        block = []
    return meanings


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _docstring(module: ModuleType) -> list[str]:
    return [*inspect.cleandoc(module.__doc__ or "").splitlines(), ""]


def _manifest_tables() -> list[str]:
    out = ["## Manifest tables", "", *_docstring(tables)]
    for name, row in tables.ROW_TYPES.items():
        meanings = _annotated_names(inspect.getsource(row), _FIELD_LINE)
        schema = tables.TABLES[name]
        out += [f"### `{name}` (`{row.__name__}`)", ""]
        out += _table(
            ("column", "Arrow type", "meaning"),
            ((f"`{f.name}`", schema.field(f.name).type, meanings.get(f.name, "")) for f in dataclasses.fields(row)),
        )
    reviews_meanings = _annotated_names(inspect.getsource(review_verdict), _ARROW_FIELD_LINE)
    out += ["### `reviews` (`schemas/review_verdict.py`)", "", *_docstring(review_verdict)]
    out += _table(
        ("column", "Arrow type", "meaning"),
        ((f"`{f.name}`", f.type, reviews_meanings.get(f.name, "")) for f in review_verdict.REVIEWS),
    )
    return out


def _codes() -> list[str]:
    out = ["## Reason codes (`schemas/reasons.py`)", "", *_docstring(reasons)]
    groups = _annotated_names(inspect.getsource(reasons.Reason), _ENUM_MEMBER_LINE)
    out += _table(
        ("code", "where", "meaning"),
        ((f"`{r.value}`", groups.get(r.name, "").strip("*"), reasons.REASON_DESCRIPTIONS[r]) for r in reasons.Reason),
    )
    out += ["## Review reasons (`schemas/review_verdict.py`)", ""]
    out += [f"Verdicts: {', '.join(f'`{v}`' for v in review_verdict.VERDICTS)}; item kinds: "
            f"{', '.join(f'`{k}`' for k in review_verdict.ITEM_KINDS)}.", ""]
    out += _table(
        ("code", "meaning"),
        ((f"`{r.value}`", review_verdict.REVIEW_REASON_DESCRIPTIONS[r]) for r in review_verdict.ReviewReason),
    )
    out += ["## Performer states (`schemas/performer_states.py`)", "", *_docstring(performer_states)]
    state_meanings = _annotated_names(inspect.getsource(performer_states.PerformerState), _ENUM_MEMBER_LINE)
    out += _table(
        ("code", "name", "meaning"),
        ((int(s), f"`{performer_states.state_name(s)}`", state_meanings.get(s.name, ""))
         for s in performer_states.PerformerState),
    )
    return out


def _sample_layout() -> list[str]:
    out = ["## Sample layout (`schemas/sample_layout.py`)", "", *_docstring(sample_layout)]
    out += [f"Audio {sample_layout.AUDIO_SAMPLE_RATE} Hz; clips {sample_layout.DEFAULT_CLIP_FPS} fps and "
            f"{sample_layout.DEFAULT_CLIP_SIZE} px square by default.", ""]
    out += ["### Per-frame arrays of the `npz` member", ""]
    out += _table(("array", "dtype, shape: meaning"), ((f"`{k}`", v) for k, v in sample_layout.NPZ_ARRAYS.items()))
    out += ["### The `json` member (`schemas/sample_record.py`)", "", *_docstring(sample_record)]
    for cls in (sample_record.SampleRecord, sample_record.SampleScores, sample_record.SampleReference,
                sample_record.SampleChannels, sample_record.SampleProvenance):
        out += [f"#### `{cls.__name__}`", ""]
        if cls.__doc__ and cls is not sample_record.SampleRecord:
            out += [inspect.cleandoc(cls.__doc__), ""]
        out += _dataclass_fields(cls)
    return out


def _shard_index() -> list[str]:
    out = ["## Shard index (`schemas/shard_index.py`)", "", *_docstring(shard_index)]
    for cls in (shard_index.ShardIndex, shard_index.ShardSample, shard_index.MemberSpan):
        out += [f"### `{cls.__name__}`", "", *_dataclass_fields(cls)]
    return out


def _dataclass_fields(cls: type) -> list[str]:
    meanings = _annotated_names(inspect.getsource(cls), _FIELD_LINE)
    rows = ((f"`{f.name}`", f"`{_type_name(f.type)}`", meanings.get(f.name, "")) for f in dataclasses.fields(cls))
    return _table(("field", "type", "meaning"), rows)


def _type_name(hint: object) -> str:
    if isinstance(hint, type):
        return hint.__name__
    text = str(hint).replace("typing.", "")
    return text.replace(f"{shard_index.__name__}.", "").replace(f"{sample_record.__name__}.", "")


def _performance_annotation() -> list[str]:
    schema = performance_annotation.annotation_schema()
    out = ["## Performance annotation (`schemas/performance_annotation.json`)", ""]
    out += [schema.get("description", ""), "", f"Required: {', '.join(f'`{r}`' for r in schema['required'])}.", ""]
    out += ["The annotator builds an annotation as the classes of `schemas/annotation_classes.py`, generated "
            "from this schema (`python -m schemas.annotation_codegen > schemas/annotation_classes.py`; a test "
            "fails while they differ), and samples carry its document "
            "(`schemas.performance_annotation.annotation_document`); code reads a stored document back into the "
            "classes with `annotators.captions.annotation_document.read_annotation`.", ""]
    out += _table(
        ("property", "type", "meaning"),
        ((f"`{name}`", _json_type(spec), spec.get("description", ""))
         for name, spec in schema["properties"].items()),
    )
    return out


def _json_type(spec: dict) -> str:
    if "const" in spec:
        return f"const `{spec['const']}`"
    return str(spec.get("type", spec.get("$ref", "")))


def schema_reference() -> str:
    """The whole page, as Markdown."""
    lines = [
        "# Schema reference",
        "",
        "Generated from `schemas/` by `python -m schemas.reference > docs/schema.md`; do not edit by hand",
        "(`tests/schemas/test_reference.py` fails when this page and the code differ).",
        "",
        f"Schema version: **{SCHEMA_VERSION}** (`schemas/version.py`).",
        "",
        *_manifest_tables(),
        *_codes(),
        *_sample_layout(),
        *_shard_index(),
        *_performance_annotation(),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(schema_reference(), end="")
