"""The package import graph: arrows run one way, omnitron -> cancellations -> refunds -> storefront -> orders
-> webhooks -> channels -> common.

Every import statement of every module of the project's packages is read (module level or inside a function), so a
new upward or circular import fails here, not in review."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Highest first: a package may import the packages below it, never one above it.
# storefront (cancel syncs) and webhooks are told of changes by cancellations; neither needs the refunds.
LAYERS = ["omnitron", "cancellations", "refunds", "storefront", "orders", "webhooks", "channels", "common"]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & set(LAYERS)


def edges() -> list[tuple[str, str, str]]:
    found = []
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            for target in imported_packages(path):
                if target != package:
                    found.append((package, target, str(path.relative_to(ROOT))))
    return found


def test_no_package_imports_a_package_above_it():
    upward = [
        f"{source} -> {target} in {where}"
        for source, target, where in edges()
        if LAYERS.index(target) < LAYERS.index(source)
    ]
    assert upward == []


def test_the_graph_has_no_cycle():
    graph = {package: set() for package in LAYERS}
    for source, target, _ in edges():
        graph[source].add(target)
    visiting, done = set(), set()

    def visit(node, trail):
        if node in visiting:
            pytest.fail(f"import cycle: {' -> '.join([*trail, node])}")
        if node in done:
            return
        visiting.add(node)
        for target in sorted(graph[node]):
            visit(target, [*trail, node])
        visiting.discard(node)
        done.add(node)

    for package in LAYERS:
        visit(package, [])


def test_the_walker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text("def f():\n    from cancellations import services\n\nimport orders.models\n")
    assert imported_packages(module) == {"cancellations", "orders"}
