"""The trainer's import rule (ARCHITECTURE.md): ``lpm_train`` imports ``schemas`` from the rest of
the project and nothing else; ``lpm-train score`` reaches the curation toolkit only through a
separate process."""

import ast
from pathlib import Path

import lpm_train

PROJECT_PACKAGES = {"schemas", "curation", "annotators", "stages", "workflows"}


def project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PROJECT_PACKAGES


def test_lpm_train_imports_only_schemas_from_the_project():
    files = sorted(Path(lpm_train.__file__).parent.rglob("*.py"))
    assert len(files) > 30
    offenders = {str(f): sorted(project_imports(f) - {"schemas"}) for f in files if project_imports(f) - {"schemas"}}
    assert offenders == {}


def test_the_checker_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from annotators.av_sync import sync_curve\n    import stages.states\n")
    assert project_imports(module) == {"annotators", "stages"}
