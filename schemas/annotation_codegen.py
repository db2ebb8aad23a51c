"""Generate ``schemas/annotation_classes.py`` from ``performance_annotation.json``.

The JSON Schema stays the one definition of the performance annotation: the annotator and the
captioners validate against it, and the classes readers use are written out of it, so a field
added to the schema reaches the classes with ``python -m schemas.annotation_codegen >
schemas/annotation_classes.py`` (a test fails while the committed file differs from the output).
Only the class names are chosen here (``CLASS_NAMES``, by JSON path); an object the schema gains
without a name here stops the generator.

Types: ``number`` is float, ``integer`` int, an ``enum``/``const`` a ``Literal`` (``null`` in it
makes it optional), ``[T, "null"]`` and ``anyOf [.., {"type": "null"}]`` are ``T | None``, an
array a list, an object with only ``additionalProperties`` a dict. A property the schema does
not require has the default None (the document leaves it out). The classes are frozen and
keyword-only; ``curation.store.plain_codec.decode(document, {}, PerformanceAnnotation)`` reads
a document into them.
"""

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

# Read here, not through ``schemas.performance_annotation``: that module imports the generated
# classes, and ``python -m schemas.annotation_codegen > schemas/annotation_classes.py`` empties
# the file before the generator runs.
SCHEMA_FILE = Path(__file__).with_name("performance_annotation.json")


def annotation_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))

# JSON path of an object (properties joined by ".", "[]" for an array's items, "$defs/x" for a
# definition) -> the class generated for it.
CLASS_NAMES = {
    "": "PerformanceAnnotation",
    "segment": "AnnotatedSegment",
    "state": "StateSummary",
    "state.fractions": "StateFractions",
    "state_timeline[]": "StateRun",
    "expressions": "Expressions",
    "expressions.summary[]": "ExpressionShare",
    "expressions.timeline[]": "ExpressionSpan",
    "head_pose": "HeadPose",
    "$defs/pose_or_null": "Pose",
    "head_events[]": "HeadEvent",
    "gaze": "Gaze",
    "gaze.fractions": "GazeFractions",
    "blinks": "Blinks",
    "mouth": "Mouth",
    "voice": "Voice",
    "$defs/interval": "Interval",
    "listener_reactions[]": "ListenerReaction",
    "shot": "Shot",
}
# Definitions that are named types of their own (a Literal alias); the numeric ones are float.
ALIASES = {"state_name": "StateName", "expression_name": "ExpressionName", "head_event_type": "HeadEventType"}
# JSON path of a property whose value is one of a set (enum, const, or a union of them) -> the name
# of its Literal alias, so the code that builds an annotation can declare what it may hold.
ENUM_NAMES = {
    "schema_version": "SchemaVersion",
    "expressions.dominant": "DominantExpression",
    "head_pose.level": "HeadMotionLevel",
    "head_events[].direction": "TurnDirection",
    "gaze.behaviour": "GazeBehaviour",
    "mouth.activity": "MouthActivity",
    "voice.owner": "VoiceOwner",
    "voice.speech_rate": "SpeechRate",
    "listener_reactions[].type": "ReactionType",
    "shot.framing": "Framing",
    "shot.camera_motion": "CameraMotion",
}
_JSON_TYPES = {"number": "float", "integer": "int", "string": "str", "boolean": "bool"}


class CodegenError(ValueError):
    """The schema has a construct the generator does not translate (or an unnamed object)."""


class _Generator:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.classes: dict[str, str] = {}  # class name -> source, in dependency order
        self.enum_aliases: dict[str, str] = {}  # alias name (ENUM_NAMES) -> its Literal, in order met
        self._naming: set[str] = set()

    def definition(self, name: str) -> dict[str, Any]:
        return self.schema["$defs"][name]

    def type_of(self, node: dict[str, Any], path: str) -> str:
        if path in ENUM_NAMES and path not in self._naming:
            self._naming.add(path)
            hint = self.type_of(node, path)
            self._naming.discard(path)
            if "Literal[" not in hint:
                raise CodegenError(f"{path}: ENUM_NAMES names a value that is not one of a set ({hint})")
            nullable = hint.endswith(" | None")
            self.enum_aliases[ENUM_NAMES[path]] = hint.removesuffix(" | None")
            return ENUM_NAMES[path] + (" | None" if nullable else "")
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/$defs/")
            if name in ALIASES:
                return ALIASES[name]
            return self.type_of(self.definition(name), f"$defs/{name}")
        if "const" in node:
            return f"Literal[{json.dumps(node['const'])}]"
        if "enum" in node:
            values = [v for v in node["enum"] if v is not None]
            literal = f"Literal[{', '.join(json.dumps(v) for v in values)}]"
            return f"{literal} | None" if None in node["enum"] else literal
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            nullable = len(options) < len(node["anyOf"])
            if len(options) == 1:
                inner = self.type_of(options[0], path)
            elif all("enum" in o or o.get("$ref", "").removeprefix("#/$defs/") in ALIASES for o in options):
                inner = " | ".join(self.type_of(o, path) for o in options)
            else:
                raise CodegenError(f"{path}: anyOf of {options} is not translated")
            return f"{inner} | None" if nullable else inner
        kind = node.get("type")
        if isinstance(kind, list):
            (single,) = [k for k in kind if k != "null"]
            inner = self.type_of({**node, "type": single}, path)
            return f"{inner} | None" if "null" in kind else inner
        if kind == "array":
            return f"list[{self.type_of(node['items'], f'{path}[]')}]"
        if kind == "object" and "properties" not in node:
            return f"dict[str, {self.type_of(node['additionalProperties'], path)}]"
        if kind == "object":
            return self.object_class(node, path)
        if kind in _JSON_TYPES:
            return _JSON_TYPES[kind]
        raise CodegenError(f"{path}: {node} is not translated")

    def object_class(self, node: dict[str, Any], path: str) -> str:
        if path not in CLASS_NAMES:
            raise CodegenError(f"{path}: an object without a class name; add it to CLASS_NAMES")
        name = CLASS_NAMES[path]
        if name in self.classes:
            return name
        required = set(node.get("required", []))
        lines = []
        for field, child in node["properties"].items():
            hint = self.type_of(child, f"{path}.{field}" if path else field)
            if field in required:
                lines.append(f"    {field}: {hint}")
            else:
                lines.append(f"    {field}: {hint if hint.endswith(' | None') else hint + ' | None'} = None")
        doc = node.get("description", f"``{path or '<root>'}`` of the annotation document.").replace('"', "'")
        wrapped = textwrap.fill(doc, width=116, initial_indent='    """', subsequent_indent="    ")
        source = f"@dataclass(frozen=True, kw_only=True)\nclass {name}:\n{wrapped}" + '"""\n\n' + "\n".join(lines)
        self.classes[name] = source
        return name


def _wrapped(line: str) -> str:
    """A long ``Name = Literal[...]`` line broken after the bracket, one line of values per 112 characters."""
    if len(line) <= 120:
        return line
    head, values = line.split("[", 1)
    body = textwrap.fill(values.removesuffix("]"), width=112, initial_indent="    ", subsequent_indent="    ")
    return f"{head}[\n{body},\n]"


def generate(schema: dict[str, Any] | None = None) -> str:
    """The source of ``schemas/annotation_classes.py`` for ``schema`` (the committed one by default)."""
    schema = schema or annotation_schema()
    generator = _Generator(schema)
    generator.object_class(schema, "")
    aliases = [_wrapped(f"{alias} = {generator.type_of(generator.definition(name), name)}")
               for name, alias in ALIASES.items()]
    aliases += [_wrapped(f"{alias} = {literal}") for alias, literal in generator.enum_aliases.items()]
    header = (
        '"""The performance annotation as classes, generated from ``performance_annotation.json`` by\n'
        "``python -m schemas.annotation_codegen > schemas/annotation_classes.py``: do not edit by hand.\n\n"
        "Read a document with ``curation.store.plain_codec.decode(document, {}, PerformanceAnnotation)``.\n"
        '"""\n\n'
        "from dataclasses import dataclass\nfrom typing import Literal\n\n"
        f"SCHEMA_ID = {json.dumps(schema['$id'])}\n\n"
    )
    return header + "\n".join(aliases) + "\n\n\n" + "\n\n\n".join(generator.classes.values()) + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate())
