"""The API reference (book/api/*.md) documents every public name of ``mdn_src``.

The pages are Sphinx autodoc directives in ``{eval-rst}`` blocks. A name in
``mdn_src.__all__`` counts as documented when a page names it in an ``autoclass`` /
``autofunction`` / ``autodata`` directive, or has ``automodule`` of the module defining it
with ``:members:`` (all of them, or a list naming it) and does not exclude it. autodoc's
``:members:`` skips what has no documentation, so the name must then also carry a docstring
(or, for a constant, a ``#:`` comment). The site build (``-W -n``) checks the rest.
"""

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

import mdn_src

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "book" / "api"
PAGES = sorted(API.glob("*.md"))
DIRECTIVE = re.compile(r"^\.\. (auto\w+):: *(\S+)\s*$")
OPTION = re.compile(r"^\s+:([\w-]+):(.*)$")


def _names(value: str) -> set[str]:
    return {n.strip() for n in value.split(",") if n.strip()}


def _directives():
    """(kind, target, options) for every autodoc directive on the API pages."""
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            match = DIRECTIVE.match(line.strip())
            if not match:
                continue
            options = {}
            for follow in lines[i + 1 :]:
                opt = OPTION.match(follow)
                if not opt:
                    break
                options[opt.group(1)] = opt.group(2).strip()
            found.append((match.group(1), match.group(2), options))
    return found


def _defining_module(name: str) -> str:
    """The mdn_src module whose top level defines ``name`` (def, class or assignment)."""
    for info in pkgutil.iter_modules(mdn_src.__path__):
        module = importlib.import_module(f"mdn_src.{info.name}")
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                return module.__name__
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return module.__name__
    raise AssertionError(f"no module of mdn_src defines {name!r}")


def _has_documentation(modname: str, name: str) -> bool:
    obj = getattr(importlib.import_module(modname), name)
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return bool(obj.__doc__ and obj.__doc__.strip())
    analyzer = pytest.importorskip("sphinx.pycode").ModuleAnalyzer.for_module(modname)
    return ("", name) in analyzer.find_attr_docs()


def _why_undocumented(name: str, directives) -> str | None:
    """None if the pages document ``mdn_src.<name>``; otherwise the reason."""
    modname = _defining_module(name)
    if any(
        kind != "automodule" and target == f"{modname}.{name}" for kind, target, _ in directives
    ):
        return None
    for kind, target, options in directives:
        if kind != "automodule" or target != modname or "members" not in options:
            continue
        if name in _names(options.get("exclude-members", "")):
            return f"excluded from automodule:: {modname}, and no auto* directive of its own"
        listed = _names(options["members"])
        if listed:
            if name in listed:
                return None
            return f"automodule:: {modname} lists :members: without it"
        module_all = getattr(importlib.import_module(modname), "__all__", None)
        if module_all is not None and name not in module_all:
            return f"automodule:: {modname} documents only its __all__, which lacks it"
        if not _has_documentation(modname, name):
            return f"it has no docstring (or #: comment), so :members: of {modname} skips it"
        return None
    return f"no page has `automodule:: {modname}` with :members: or an auto* directive for it"


def test_api_pages_exist_and_are_in_the_toc():
    assert PAGES, "book/api/ has no pages"
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = set(re.findall(r"file:\s*(\S+)", toc))
    assert yaml.safe_load(toc)  # still valid YAML
    for page in PAGES:
        entry = page.relative_to(ROOT).with_suffix("").as_posix()
        assert entry in files, f"{entry} is not in _toc.yml (only_build_toc_files skips it)"


@pytest.mark.parametrize("name", sorted(mdn_src.__all__))
def test_public_name_is_documented(name):
    why = _why_undocumented(name, _directives())
    assert why is None, f"mdn_src.{name} is missing from the API reference (book/api/): {why}"


def test_the_check_notices_a_missing_name():
    """The parser is not vacuous: without the pages' directives, nothing is documented."""
    assert _directives(), "no autodoc directive found on the API pages"
    assert _why_undocumented("fit", []) is not None
    without_train = [d for d in _directives() if d[1] != "mdn_src.train"]
    assert _why_undocumented("fit", without_train) is not None
