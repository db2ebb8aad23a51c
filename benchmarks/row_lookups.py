"""How much of the code still reads rows by string key: the measure issue 38 asks for.

A row look-up is ``x["field"]`` or ``x.get("field")`` where ``field`` names a field of a row class
of ``schemas/tables.py`` (``...Row``): code that reads such a name by string is either reading a row
that should be typed, or reading a format at its boundary (a CSV, ffprobe's JSON, a Parquet row as
a mapping, a signal matrix's column by name). Each hit is listed with its receiver so the two can
be told apart. ``dict[str, Any]`` is counted per line, as ``grep -c`` counts it. Tests are not
counted.

Run: ``python -m benchmarks.row_lookups [ROOT] [--json] [--by-receiver]``.
"""

import argparse
import ast
import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import schemas.tables as tables

SKIPPED_PARTS = frozenset({"tests", ".venv", "build", "node_modules"})


def row_fields() -> frozenset[str]:
    """Every field name of the row classes of ``schemas/tables.py``."""
    names: set[str] = set()
    for name, value in vars(tables).items():
        if name.endswith("Row") and isinstance(value, type) and dataclasses.is_dataclass(value):
            names |= {f.name for f in dataclasses.fields(value)}
    return frozenset(names)


def _looked_up(node: ast.AST, fields: frozenset[str]) -> ast.expr | None:
    """The receiver of a row-field look-up at ``node``, or None when ``node`` is not one."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value in fields:
        return node.value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value in fields):
        return node.func.value
    return None


def source_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not SKIPPED_PARTS & set(p.relative_to(root).parts))


def count(root: Path) -> dict[str, Any]:
    fields = row_fields()
    by_receiver: Counter[tuple[str, str]] = Counter()
    any_dicts = 0
    for path in source_files(root):
        text = path.read_text(encoding="utf-8")
        any_dicts += sum("dict[str, Any]" in line for line in text.splitlines())
        for node in ast.walk(ast.parse(text)):
            receiver = _looked_up(node, fields)
            if receiver is not None:
                by_receiver[(str(path.relative_to(root)), ast.unparse(receiver))] += 1
    by_file: Counter[str] = Counter()
    for (file, _receiver), n in by_receiver.items():
        by_file[file] += n
    return {
        "row_lookups": sum(by_receiver.values()),
        "dict_str_any_lines": any_dicts,
        "by_file": dict(by_file.most_common()),
        "by_receiver": [{"file": f, "receiver": r, "lookups": n} for (f, r), n in sorted(by_receiver.items())],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("root", nargs="?", default=".", help="a checkout of the repository")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--by-receiver", action="store_true", help="list every receiver, not only files")
    args = parser.parse_args(argv)
    report = count(Path(args.root))
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"row-field look-ups by string key: {report['row_lookups']}; lines with dict[str, Any]: "
          f"{report['dict_str_any_lines']}")
    if args.by_receiver:
        for row in report["by_receiver"]:
            print(f"{row['lookups']:4d}  {row['file']}  {row['receiver']}")
    else:
        for file, n in report["by_file"].items():
            print(f"{n:4d}  {file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
