"""The package's shape: imports point one way, and no module reaches into another's privates."""

import ast
import subprocess
import sys
from pathlib import Path

import mdn_src

PACKAGE = Path(mdn_src.__file__).parent


def _imports() -> dict[str, set[tuple[str, str]]]:
    """For each module, the ``(sibling module, name)`` pairs it imports from the package."""
    found: dict[str, set[tuple[str, str]]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        module = path.stem
        found[module] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module is None:  # from . import x
                    found[module] |= {(alias.name, "") for alias in node.names}
                else:
                    found[module] |= {(node.module, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mdn_src"):
                sibling = (node.module or "").removeprefix("mdn_src").lstrip(".") or "__init__"
                found[module] |= {(sibling, alias.name) for alias in node.names}
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("mdn_src."):
                        found[module].add((alias.name.removeprefix("mdn_src."), ""))
    return found


def test_no_import_cycles_between_modules():
    graph = {m: {s for s, _ in deps if s != "__init__"} for m, deps in _imports().items()}
    graph.pop("__init__")
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module, path):
        if state.get(module) == 1:
            raise AssertionError("import cycle: " + " -> ".join([*path, module]))
        if state.get(module) == 2:
            return
        state[module] = 1
        for sibling in graph.get(module, ()):
            visit(sibling, [*path, module])
        state[module] = 2

    for module in graph:
        visit(module, [])


def test_no_module_imports_the_package_root():
    for module, deps in _imports().items():
        if module != "__init__":
            assert not any(s == "__init__" for s, _ in deps), f"{module} imports mdn_src itself"


def test_no_module_imports_a_private_name_from_a_sibling():
    for module, deps in _imports().items():
        for sibling, name in deps:
            private_module = sibling.startswith("_") and sibling not in ("_checks", "_version")
            assert not private_module, f"{module} imports the private module {sibling}"
            assert not name.startswith("_"), f"{module} imports {sibling}.{name}"


def test_the_mixture_is_the_bottom_layer():
    """model, loss, predict and modes stand on mixture; mixture imports none of them."""
    deps = _imports()
    assert {s for s, _ in deps["mixture"]} <= {"_checks", "distributions"}
    for module in ("model", "loss", "predict", "modes"):
        assert "mixture" in {s for s, _ in deps[module]}


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
