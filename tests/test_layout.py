"""The package's layout rules, read from the source with ``ast`` (nothing is imported) and from the notebooks' JSON.

1. no import cycles among ``gan_helpers`` modules;
2. only ``gan_helpers.experiments`` itself and the top-level ``__init__`` import ``gan_helpers.experiments``;
3. ``gan_helpers.plots`` and ``gan_helpers.metrics`` do not import ``gan_helpers.training``;
4. ``gan_helpers.data`` imports none of ``models``, ``training``, ``classifier``;
5. every module has one literal ``__all__``, never extended, naming only what the module defines or imports;
6. every ``gh.a.b`` a notebook uses is in the ``__all__`` of the module it comes from;
7. no module is longer than :data:`MAX_MODULE_LINES` lines;
8. no notebook, test, script or benchmark uses a deprecated path (:data:`DEPRECATED_USES`).

The helpers take the repository (or package) root as an argument, so they can be pointed at a scratch package.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator
from itertools import pairwise
from pathlib import Path

import pytest

# Strings that name a path the restructure retired: none may appear in a notebook, test, script or benchmark.
DEPRECATED_USES = (
    "gh.training.fit(",
    "gh.training.generate(",
    "gh.training.run_mode_experiment",
    "gh.training.train_gan_1d",
    "gh.training.config_1d",
    "gh.metrics.sample_images",
    "gh.applications.sample_conditional",
    "gh.training.affine_transform",
    "gh.training.train_classifier",
    "gh.models.load_classifier",
    "gh.models.MNISTClassifier",
    "gh.models.interpolate_latents",
    "gh.training.QualityTracker",
    "epoch_callbacks=",
    "gh.training.distance_callback",
    ".wall_time_s",
    "training.toy_dataset",
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "gan_helpers"
MAX_MODULE_LINES = 600
TARGET_MODULE_LINES = 500

# A use of the package in a notebook: ``gh`` and its dotted attribute chain (``gh.experiments.toy_1d.train_gan_1d``).
GH_CHAIN = re.compile(r"(?<![\w.])gh((?:\.[A-Za-z_][A-Za-z_0-9]*)+)")
# Calls that change a list in place: any of them on ``__all__`` extends (or edits) it after its one assignment.
LIST_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "__iadd__"})


# --- modules ----------------------------------------------------------------------------------------------------


def module_name(root: Path, path: Path) -> str:
    """The dotted name of ``path`` (a ``.py`` under ``root``): ``pkg/__init__.py`` is ``pkg``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_files(root: Path, package: str = PACKAGE) -> list[Path]:
    """Every ``.py`` of ``package`` under ``root``, sorted (``__pycache__`` left out)."""
    return sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)


def module_files(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> its file; where a module and a package share a name, the package wins (as in Python)."""
    modules: dict[str, Path] = {}
    for path in package_files(root, package):
        name = module_name(root, path)
        if name not in modules or path.name == "__init__.py":
            modules[name] = path
    return modules


def package_problems(root: Path, package: str = PACKAGE) -> list[str]:
    """Folders that are not proper packages: ``a/b.py`` shadowed by ``a/b/__init__.py``, or ``.py`` files in a folder
    with no ``__init__.py`` (not a package: setuptools leaves it out, and beside ``b.py`` Python imports ``b.py``)."""
    files = package_files(root, package)
    shadowed = [
        f"{path.relative_to(root)} is shadowed by {path.with_suffix('').relative_to(root)}/__init__.py"
        for path in files
        if path.name != "__init__.py" and (path.with_suffix("") / "__init__.py").is_file()
    ]
    folders = sorted({path.parent for path in files})
    no_init = [
        f"{folder.relative_to(root)}/ holds .py files but no __init__.py"
        for folder in folders
        if not (folder / "__init__.py").is_file()
    ]
    return shadowed + no_init


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def resolve_from(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names, relative imports resolved against ``module``."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package(path) else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def longest_module(name: str, modules: dict[str, Path]) -> str | None:
    """The longest dotted prefix of ``name`` that is one of ``modules`` (None when not even the first part is)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in modules:
            return prefix
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for every import of a ``modules`` member anywhere in ``path`` (functions too).

    ``import a.b.c`` names ``a.b.c``; ``from a.b import c`` names ``a.b.c`` when that is a module, else ``a.b``; the
    edge goes to the longest prefix that is a module. Parents a statement also runs (``a``, ``a.b``) are not edges.
    """
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = longest_module(alias.name, modules)
                if target is not None:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = resolve_from(module, path, node)
            for alias in node.names:
                child = f"{source}.{alias.name}"
                target = child if child in modules else longest_module(source, modules)
                if target is not None:
                    yield target, node.lineno


def import_graph(root: Path, package: str = PACKAGE) -> dict[str, dict[str, int]]:
    """Module -> {module it imports: line of the first such import}, over every module of ``package``."""
    modules = module_files(root, package)
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        for target, line in imports_of(module, path, modules):
            edges[target] = min(line, edges.get(target, line))
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Cycles found by a depth-first search (one per back edge), each ``[a, b, ..., a]`` starting at its least name."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []
    cycles: dict[tuple[str, ...], list[str]] = {}

    def visit(node: str) -> None:
        colour[node] = grey
        stack.append(node)
        for succ in sorted(graph.get(node, {})):
            state = colour.get(succ, white)
            if state == grey:
                loop = stack[stack.index(succ) :]
                start = loop.index(min(loop))
                loop = loop[start:] + loop[:start]
                cycles.setdefault(tuple(loop), [*loop, loop[0]])
            elif state == white:
                visit(succ)
        stack.pop()
        colour[node] = black

    for node in sorted(graph):
        if colour[node] == white:
            visit(node)
    return list(cycles.values())


def describe_cycle(cycle: list[str], graph: dict[str, dict[str, int]], modules: dict[str, Path], root: Path) -> str:
    """``a (a.py:3) -> b (b.py:12) -> a``: each module with the line that imports the next."""
    steps = [f"{src} ({modules[src].relative_to(root)}:{graph[src][dst]})" for src, dst in pairwise(cycle)]
    return " -> ".join([*steps, cycle[-1]])


def forbidden_imports(
    root: Path, sources: Iterable[str], forbidden: Iterable[str], package: str = PACKAGE
) -> list[str]:
    """``file:line: importer imports target`` for each import by a ``sources`` module of a ``forbidden`` module.

    A module is in ``sources`` (or ``forbidden``) when it is one of them or lies under one (``a`` covers ``a.b``).
    """
    modules = module_files(root, package)
    graph = import_graph(root, package)

    def under(name: str, prefixes: Iterable[str]) -> bool:
        return any(name == p or name.startswith(p + ".") for p in prefixes)

    sources, forbidden = tuple(sources), tuple(forbidden)
    return [
        f"{modules[src].relative_to(root)}:{line}: {src} imports {dst}"
        for src in sorted(graph)
        if under(src, sources)
        for dst, line in sorted(graph[src].items())
        if under(dst, forbidden)
    ]


# --- __all__ ----------------------------------------------------------------------------------------------------


def _names_all(target: ast.expr) -> bool:
    """Whether an assignment target binds ``__all__`` (also inside a tuple/list unpacking)."""
    if isinstance(target, ast.Name):
        return target.id == "__all__"
    if isinstance(target, ast.Starred):
        return _names_all(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        return any(_names_all(t) for t in target.elts)
    return False


def _on_all(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "__all__"


def string_literals(value: ast.expr | None) -> list[str] | None:
    """The strings of a list/tuple literal of string constants; None for anything else."""
    if not isinstance(value, ast.List | ast.Tuple):
        return None
    if not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts):
        return None
    return [e.value for e in value.elts]


def declared_all(path: Path) -> list[str] | None:
    """The names ``__all__`` ends up with, read statically: its literal plus any literal ``+=``/``extend``/``append``.

    None when the module has no readable ``__all__``. (Rule 5 forbids the extensions; this reads through them so that
    rule 6 reports missing names, not the form of ``__all__``.)
    """
    names: list[str] | None = None
    for node in parse(path).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_names_all(t) for t in targets):
                names = string_literals(node.value)
        elif isinstance(node, ast.AugAssign) and _on_all(node.target) and names is not None:
            names += string_literals(node.value) or []
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and _on_all(node.value.func.value)
            and names is not None
            and node.value.args
        ):
            arg = node.value.args[0]
            if node.value.func.attr == "extend":
                names += string_literals(arg) or []
            elif node.value.func.attr == "append" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.append(arg.value)
    return names


def _bound_by_target(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Starred):
        yield from _bound_by_target(target.value)
    elif isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from _bound_by_target(elt)


def module_level_names(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Names a module binds at module level: defs, classes, assignments, imports (also inside if/try/with/for).

    ``from gan_helpers.x import *`` brings in ``gan_helpers.x``'s ``__all__``.
    """
    names: set[str] = set()

    def scan(body: Iterable[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    names.update(_bound_by_target(target))
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                names.update(_bound_by_target(node.target))
            elif isinstance(node, ast.Import):
                names.update(a.asname or a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name != "*":
                        names.add(alias.asname or alias.name)
                        continue
                    source = resolve_from(module, path, node)
                    if source in modules:
                        names.update(declared_all(modules[source]) or [])
            elif isinstance(node, ast.For | ast.AsyncFor):
                names.update(_bound_by_target(node.target))
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if item.optional_vars is not None:
                        names.update(_bound_by_target(item.optional_vars))
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    scan(getattr(node, field, []))

    scan(parse(path).body)
    return names


def all_problems(module: str, path: Path, modules: dict[str, Path], root: Path) -> list[str]:
    """What is wrong with a module's ``__all__`` (rule 5), one ``file:line: ...`` string each."""
    where = path.relative_to(root)
    tree = parse(path)
    problems: list[str] = []
    assignments = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_names_all(t) for t in targets):
                assignments.append(node)
            if any(isinstance(t, ast.Subscript) and _on_all(t.value) for t in targets):
                problems.append(f"{where}:{node.lineno}: item assignment to __all__")
        elif isinstance(node, ast.AugAssign) and (
            _on_all(node.target) or (isinstance(node.target, ast.Subscript) and _on_all(node.target.value))
        ):
            problems.append(f"{where}:{node.lineno}: augmented assignment to __all__ ({type(node.op).__name__})")
        elif isinstance(node, ast.Attribute) and _on_all(node.value) and node.attr in LIST_MUTATORS:
            problems.append(f"{where}:{node.lineno}: __all__.{node.attr} changes __all__ after its assignment")
        elif isinstance(node, ast.Delete) and any(_on_all(getattr(t, "value", t)) for t in node.targets):
            problems.append(f"{where}:{node.lineno}: del on __all__")
    if not assignments:
        return [f"{where}: no __all__ assignment", *problems]
    if len(assignments) > 1:
        lines = ", ".join(str(a.lineno) for a in assignments)
        problems.append(f"{where}: {len(assignments)} __all__ assignments (lines {lines}), want exactly one")
    first = assignments[0]
    if first not in tree.body:
        problems.append(f"{where}:{first.lineno}: __all__ is assigned inside a block, not at module level")
    names = string_literals(first.value)
    if names is None:
        problems.append(f"{where}:{first.lineno}: __all__ is not a list or tuple literal of strings")
        return problems
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"{where}:{first.lineno}: {name!r} is listed twice in __all__")
        seen.add(name)
    defined = module_level_names(module, path, modules)
    problems += [
        f"{where}:{first.lineno}: __all__ lists {name!r}, which {module} neither defines nor imports"
        for name in sorted(seen - defined)
    ]
    return problems


# --- notebooks and other sources --------------------------------------------------------------------------------


def notebook_cells(path: Path, kinds: tuple[str, ...] = ("code",)) -> Iterator[tuple[int, str]]:
    """``(cell index, source)`` of each cell of the given kinds."""
    for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell.get("cell_type") in kinds:
            source = cell.get("source", "")
            yield index, "".join(source) if isinstance(source, list) else source


def gh_uses(path: Path) -> Iterator[tuple[str, list[str]]]:
    """``(where, ["a", "b", ...])`` for every ``gh.a.b...`` in a notebook's code cells; where is ``cell N line M``."""
    for index, source in notebook_cells(path):
        for number, line in enumerate(source.splitlines(), start=1):
            for match in GH_CHAIN.finditer(line):
                yield f"{path.name} cell {index} line {number}", match.group(1).lstrip(".").split(".")


def gh_use_problems(path: Path, root: Path, package: str = PACKAGE) -> list[str]:
    """Rule 6 for one notebook: each ``gh.x`` in the package's ``__all__``, each ``gh.mod.name`` in ``mod.__all__``.

    ``mod`` is the longest dotted prefix that is a module or package file; names after ``name`` are its attributes.
    Submodules on the way (``toy_1d`` in ``gh.experiments.toy_1d.f``) are fine because their file exists.
    """
    modules = module_files(root, package)
    alls: dict[str, list[str] | None] = {}

    def exports(module: str) -> list[str] | None:
        if module not in alls:
            alls[module] = declared_all(modules[module]) if module in modules else None
        return alls[module]

    problems = []
    for where, chain in gh_uses(path):
        if f"{package}.{chain[0]}" in modules and chain[0] not in (exports(package) or []):
            problems.append(f"{where}: gh.{chain[0]} is not in {package}.__all__")
        dotted = [package, *chain]
        owner = longest_module(".".join(dotted), modules)
        depth = len(owner.split(".")) if owner else 1
        if depth == len(dotted):
            continue  # the chain names a module: nothing more to check
        name = dotted[depth]
        owner = owner or package
        if name.startswith("__") and name.endswith("__"):
            continue  # gh.__version__, gh.x.__doc__: dunders are not exported names
        exported = exports(owner)
        if exported is None:
            problems.append(f"{where}: gh.{'.'.join(chain[:depth])}: {owner} has no readable __all__")
        elif name not in exported:
            problems.append(f"{where}: gh.{'.'.join(chain[:depth])}: {name!r} is not in {owner}.__all__")
    return sorted(set(problems), key=problems.index)


def sources_to_scan(root: Path) -> list[Path]:
    """The files rule 8 reads: notebooks, tests (not this one, not test_deprecated*), scripts, benchmarks."""
    tests = [
        p
        for p in sorted((root / "tests").glob("*.py"))
        if p.name != Path(__file__).name and not p.name.startswith("test_deprecated")
    ]
    return [
        *sorted((root / "notebooks").glob("*.ipynb")),
        *tests,
        *sorted((root / "scripts").glob("*.py")),
        *sorted((root / "benchmarks").glob("*.py")),
    ]


def deprecated_uses(path: Path, root: Path, patterns: Iterable[str] = DEPRECATED_USES) -> list[str]:
    """``file:line: 'pattern'`` for each deprecated string; in a notebook, in any cell's source (not outputs)."""
    where = path.relative_to(root)
    if path.suffix == ".ipynb":
        texts = [(f"{where} cell {i} line ", src) for i, src in notebook_cells(path, ("code", "markdown", "raw"))]
    else:
        texts = [(f"{where}:", path.read_text(encoding="utf-8"))]
    return [
        f"{prefix}{number}: {pattern!r} in {line.strip()!r}"
        for prefix, text in texts
        for number, line in enumerate(text.splitlines(), start=1)
        for pattern in patterns
        if pattern in line
    ]


def module_lengths(root: Path, package: str = PACKAGE) -> list[tuple[int, Path]]:
    """``(lines, file)`` of every module, longest first."""
    lengths = [(len(p.read_text(encoding="utf-8").splitlines()), p) for p in package_files(root, package)]
    return sorted(lengths, key=lambda item: (-item[0], str(item[1])))


# --- the rules --------------------------------------------------------------------------------------------------

MODULES = module_files(ROOT)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPORTING = {name: path for name, path in MODULES.items() if path.name != "__main__.py"}


def test_every_folder_is_a_package_and_shadows_no_module():
    """Not one of the eight rules, but a half-done split (``training.py`` beside ``training/``) breaks them all."""
    problems = package_problems(ROOT)
    assert not problems, "\n".join(problems)


def test_no_import_cycles():
    graph = import_graph(ROOT)
    cycles = find_cycles(graph)
    report = [describe_cycle(cycle, graph, MODULES, ROOT) for cycle in cycles]
    print("\n".join(report))
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(report)


def test_only_experiments_and_the_package_import_experiments():
    importers = [m for m in MODULES if m != PACKAGE and m != f"{PACKAGE}.experiments"]
    importers = [m for m in importers if not m.startswith(f"{PACKAGE}.experiments.")]
    problems = forbidden_imports(ROOT, importers, [f"{PACKAGE}.experiments"])
    assert not problems, "library modules import gan_helpers.experiments:\n" + "\n".join(problems)


def test_plots_and_metrics_do_not_import_training():
    problems = forbidden_imports(ROOT, [f"{PACKAGE}.plots", f"{PACKAGE}.metrics"], [f"{PACKAGE}.training"])
    assert not problems, "\n".join(problems)


def test_data_does_not_import_models_training_or_classifier():
    forbidden = [f"{PACKAGE}.models", f"{PACKAGE}.training", f"{PACKAGE}.classifier"]
    problems = forbidden_imports(ROOT, [f"{PACKAGE}.data"], forbidden)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", sorted(EXPORTING))
def test_one_literal_all_naming_defined_names(module):
    problems = all_problems(module, EXPORTING[module], MODULES, ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_uses_only_exported_names(notebook):
    problems = gh_use_problems(notebook, ROOT)
    assert not problems, "\n".join(problems)


def test_largest_module_is_short_enough():
    lengths = module_lengths(ROOT)
    print(f"largest modules (target ~{TARGET_MODULE_LINES}, bound {MAX_MODULE_LINES} lines):")
    print("\n".join(f"  {n:5d} {p.relative_to(ROOT)}" for n, p in lengths[:5]))
    too_long = [f"{p.relative_to(ROOT)}: {n} lines" for n, p in lengths if n > MAX_MODULE_LINES]
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(too_long)


@pytest.mark.parametrize("path", sources_to_scan(ROOT), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_deprecated_uses(path):
    problems = deprecated_uses(path, ROOT)
    assert not problems, "\n".join(problems)
