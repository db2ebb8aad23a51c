"""No import circles: no module imports itself round a circle, and no two sibling packages (the
children of one package, modules or subpackages) reach each other, directly or round a longer circle.

Measured on the import graph ``lint-imports`` builds (grimp): TYPE_CHECKING and function-level imports
count, since they tie the modules together as much as the others do. A circle is named in the
failure, with the imports that close it, so whoever adds one sees where to cut. The last two tests
give the checks a graph with a circle, to show they find one.
"""

from itertools import pairwise

import grimp
import pytest

ROOT_PACKAGES = ("schemas", "curation", "annotators", "stages", "apps", "workflows", "lpm_train", "benchmarks")


def strongly_connected(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of two or more nodes that reach each other (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def one_circle(group: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest circle through the group's first node, within the group: [a, b, ..., a]."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges.get(node, set()) & members):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{group} is not a circle")


def module_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One circle per group of modules that reach each other (the group: ``strongly_connected``)."""
    modules = sorted(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in modules}
    return [one_circle(group, edges) for group in strongly_connected(modules, edges)]


def sibling_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One circle per group of children of a package that reach each other, a child standing for
    everything under it."""
    circles = []
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        children = sorted(graph.find_children(package))
        owner = {child: child for child in children}
        for child in children:
            owner |= dict.fromkeys(graph.find_descendants(child), child)
        edges: dict[str, set[str]] = {child: set() for child in children}
        for module, child in owner.items():
            for imported in graph.find_modules_directly_imported_by(module):
                if imported in owner and owner[imported] != child:
                    edges[child].add(owner[imported])
        circles += [one_circle(group, edges) for group in strongly_connected(children, edges)]
    return circles


def describe(circle: list[str], graph: grimp.ImportGraph) -> str:
    """The circle, and for each step one import that makes it (importer -> imported, line). Cutting
    it may leave another circle of the same group: the test names the next one once it is cut."""
    lines = [" -> ".join(circle)]
    for importer, imported in pairwise(circle):
        targets = {imported} | graph.find_descendants(imported)
        step = next(
            (module, target)
            for module in sorted({importer} | graph.find_descendants(importer))
            for target in sorted(graph.find_modules_directly_imported_by(module) & targets)
        )
        details = graph.get_import_details(importer=step[0], imported=step[1])
        line = f" (l.{details[0]['line_number']})" if details else ""
        lines.append(f"    {step[0]} -> {step[1]}{line}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)


def test_no_module_imports_itself_round_a_circle(graph):
    circles = module_circles(graph)
    assert not circles, "module import circles:\n" + "\n".join(describe(c, graph) for c in circles)


def test_no_sibling_packages_import_each_other(graph):
    circles = sibling_circles(graph)
    assert not circles, "circles between sibling packages:\n" + "\n".join(describe(c, graph) for c in circles)


def _graph(imports: list[tuple[str, str]]) -> grimp.ImportGraph:
    built = grimp.ImportGraph()
    for importer, imported in imports:
        for module in (importer, imported):
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):
                built.add_module(".".join(parts[: depth]))
        built.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    return built


def test_a_module_circle_is_found_and_named():
    built = _graph([("pkg.a", "pkg.b"), ("pkg.b", "pkg.c"), ("pkg.c", "pkg.a"), ("pkg.c", "pkg.d")])
    assert module_circles(built) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert describe(["pkg.a", "pkg.b", "pkg.c", "pkg.a"], built).splitlines()[1] == "    pkg.a -> pkg.b (l.1)"


def test_a_circle_of_sibling_packages_is_found_through_their_modules():
    # No module circle: models.wrapper -> face.signals, face.finder -> models.detector
    built = _graph([
        ("pkg.models.wrapper", "pkg.face.signals"),
        ("pkg.face.finder", "pkg.models.detector"),
        ("pkg.timelines.series", "pkg.face.signals"),
    ])  # fmt: skip
    assert module_circles(built) == []
    assert sibling_circles(built) == [["pkg.face", "pkg.models", "pkg.face"]]
    assert "pkg.face.finder -> pkg.models.detector (l.1)" in describe(["pkg.face", "pkg.models", "pkg.face"], built)
