"""The package's shape: imports point one way, and no module reaches into another's privates."""

import ast
import subprocess
import sys
from pathlib import Path

import mdn_src

PACKAGE = Path(mdn_src.__file__).parent


def _module_name(path: Path) -> str:
    """``mixture/families.py`` -> ``mixture.families``; ``mixture/__init__.py`` -> ``mixture``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "__init__"


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name (inside mdn_src, "" for the root) an ``ImportFrom`` names."""
    if node.level == 0:
        return (node.module or "").removeprefix("mdn_src").lstrip(".")
    base = [] if module == "__init__" else module.split(".")
    if not is_package:
        base = base[:-1]  # a module's own package
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports() -> dict[str, set[tuple[str, str]]]:
    """For each module (dotted, inside mdn_src), the ``(module, name)`` pairs it imports from
    the package (name "" for a plain ``import``); ``from . import x`` counts as module ``x``."""
    found: dict[str, set[tuple[str, str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        is_package = path.name == "__init__.py"
        found[module] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (
                node.level > 0 or (node.module or "").startswith("mdn_src")
            ):
                target = _resolve(module, is_package, node) or "__init__"
                for alias in node.names:
                    sub = f"{target}.{alias.name}".removeprefix("__init__.")
                    if (PACKAGE / sub.replace(".", "/")).with_suffix(".py").exists() or (
                        PACKAGE / sub.replace(".", "/") / "__init__.py"
                    ).exists():
                        found[module].add((sub, ""))  # a module imported by name
                    else:
                        found[module].add((target, alias.name))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("mdn_src."):
                        found[module].add((alias.name.removeprefix("mdn_src."), ""))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_import_graph_sees_every_module():
    """A check on the checker: the graph holds the modules on disk, and resolves relative
    imports (model imports mixture, training.loop imports training.config)."""
    deps = _imports()
    assert {"model", "mixture.families", "training.loop", "inference.predict"} <= set(deps)
    assert "mixture" in {_top(s) for s, _ in deps["model"]}
    assert ("training.config", "TrainConfig") in deps["training.loop"]


def test_no_import_cycles_between_modules():
    """Imports point one way between modules, lazy imports inside functions included (a
    package's ``__init__`` is a module: it may import its own modules, never the reverse)."""
    graph = {m: {s for s, _ in deps if s != "__init__"} for m, deps in _imports().items()}
    graph.pop("__init__")
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module, path):
        if state.get(module) == 1:
            raise AssertionError("import cycle: " + " -> ".join([*path, module]))
        if state.get(module) == 2:
            return
        state[module] = 1
        for other in sorted(graph.get(module, ())):
            visit(other, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])


def test_no_module_imports_the_package_root():
    for module, deps in _imports().items():
        if module != "__init__":
            assert not any(s == "__init__" for s, _ in deps), f"{module} imports mdn_src itself"


def test_no_module_imports_a_private_name_from_another_module():
    for module, deps in _imports().items():
        for other, name in deps:
            private = any(part.startswith("_") for part in other.split(".")) and other != "_version"
            assert not private, f"{module} imports the private module {other}"
            assert not name.startswith("_"), f"{module} imports {other}.{name}"


def test_the_mixture_is_the_bottom_layer():
    """model, loss, inference and metrics stand on mixture; mixture imports only the checks."""
    deps = _imports()
    below = {_top(s) for m, d in deps.items() if _top(m) == "mixture" for s, _ in d} - {"mixture"}
    assert below <= {"checks"}, below
    for module in ("model", "loss", "inference.predict", "metrics"):
        assert "mixture" in {_top(s) for s, _ in deps[module]}, module


def test_every_public_module_has_all_and_its_names_exist():
    import importlib

    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if any(part.startswith("_") for part in name.split(".")):
            continue
        module = importlib.import_module(f"mdn_src.{name}")
        assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.__all__ names {exported}, not defined"


def test_modules_stay_small():
    """Issue 23: no module over about 400 lines (the line limit leaves a margin of 5%)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text().splitlines())
        assert lines <= 420, f"{path.relative_to(PACKAGE)} has {lines} lines"


def test_public_names_are_exported():
    assert sorted(mdn_src.__all__) == sorted(set(mdn_src.__all__))
    for name in mdn_src.__all__:
        assert hasattr(mdn_src, name), name


def test_version_is_one_and_the_same_everywhere():
    """pyproject.toml, the installed package, CITATION.cff, the changelog and the site's
    footer all name the same version."""
    import importlib.util
    import re

    import tomllib

    root = PACKAGE.parent
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert mdn_src.__version__ == version
    assert re.search(rf"^version: {re.escape(version)}$", (root / "CITATION.cff").read_text(), re.M)
    assert f"## {version} " in (root / "CHANGELOG.md").read_text()
    spec = importlib.util.spec_from_file_location("site_fixes", root / "book/_ext/site_fixes.py")
    site_fixes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site_fixes)
    assert site_fixes.footer_text() == f"Built with mdn_src {version}."


def test_import_and_eager_fit_load_neither_scikit_learn_nor_the_compiler():
    """Every chapter imports the package and trains: scikit-learn (only MDNRegressor needs
    it) took 1.4 s to import, and torch.optim's optimizers import torch._dynamo on first use
    (about 2 s), which eager fit at a constant learning rate does not need."""
    script = """
import sys, torch
from mdn_src import MDN, MLP, fit
x = torch.linspace(0, 1, 20).unsqueeze(1)
fit(MDN(1, 1, n_components=2, hidden=4), x, x.sin(), epochs=3, lr=0.01, weight_decay=0.1)
fit(MLP(1, 1, hidden=4), x, x.sin(), epochs=3, lr=0.01, validation_fraction=0.2, patience=1)
print(sorted(m for m in ("sklearn", "torch._dynamo") if m in sys.modules))
from mdn_src import MDNRegressor
print(MDNRegressor.__module__, "sklearn" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "mdn_src.estimator True"  # resolved on first use, with its base class


def _returns_between_homes(call, model) -> dict:
    """Returns, during ``call()``, from a frame that holds ``model`` to a caller in another
    home of mdn_src (a top-level module or subpackage): how far one follows the model."""

    def home(name):
        return ".".join(name.split(".")[:2])

    seen: dict = {}

    def profile(frame, event, arg):
        back = frame.f_back
        if event != "return" or back is None:
            return
        callee, caller = frame.f_globals.get("__name__", ""), back.f_globals.get("__name__", "")
        if not (callee.startswith("mdn_src.") and caller.startswith("mdn_src.")):
            return
        if home(callee) != home(caller) and any(v is model for v in frame.f_locals.values()):
            key = f"{callee}.{frame.f_code.co_name} -> {caller}.{back.f_code.co_name}"
            seen[key] = seen.get(key, 0) + 1

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


def test_following_the_model_through_fit_and_mean_nll_is_short():
    """Issue 23: mean_nll's model makes at most 2 returns between homes, fit's at most 1."""
    import torch

    x = torch.linspace(0, 1, 30).unsqueeze(1)
    t = torch.sin(3 * x)
    model = mdn_src.MDN(1, 1, 3, hidden=8)
    through_fit = _returns_between_homes(lambda: mdn_src.fit(model, x, t, epochs=3, lr=0.01), model)
    through_nll = _returns_between_homes(lambda: mdn_src.mean_nll(model, x, t), model)
    assert sum(through_fit.values()) <= 1, through_fit
    assert sum(through_nll.values()) <= 2, through_nll
    assert through_nll  # the check sees returns at all: mixture_parameters -> mean_nll


def test_tests_and_benchmarks_import_no_private_name_of_the_library():
    """Issue 23: benchmarks and tests reach the library through public names only."""
    root = PACKAGE.parent
    for path in sorted([*root.glob("tests/*.py"), *root.glob("benchmarks/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mdn_src"):
                names = [node.module, *(alias.name for alias in node.names)]
                private = [n for n in names if any(p.startswith("_") for p in n.split("."))]
                assert not private or private == ["mdn_src._version"], f"{path.name}: {private}"
