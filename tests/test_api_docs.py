"""The API reference (book/api/*.md) documents every public name of ``mdn_src`` at its home.

The pages are Sphinx directives in ``{eval-rst}`` blocks. A name in ``mdn_src.__all__`` is
documented at its *home*: the top-level module or subpackage of ``mdn_src`` whose ``__all__``
lists it, whatever file inside a subpackage defines it (``fit`` is ``mdn_src.training.fit``,
not ``mdn_src.training.loop.fit``). It counts as documented when a page has

* an ``auto*`` directive for ``<home>.<name>``, or
* ``automodule:: <home>`` with ``:members:`` (all of them, or a list naming it) that does
  not exclude it. autodoc's ``:members:`` skips what has no documentation, so the name must
  then carry a docstring; a constant needs a ``#:`` comment in ``<home>`` itself, which a
  package's re-exported constant never has (the comment stays in the defining module), so
* a constant (or type alias) may instead be written out as a ``py:data`` (``py:class``)
  entry at its home; such an entry must repeat the text of the constant's ``#:`` comment,
  and its ``:value:``, if given, must be the constant's ``repr``.

A module exported as a name (``mdn_src.oracle``, home ``mdn_src.problems``) needs its own
``automodule:: mdn_src.problems.oracle`` with ``:members:``. The site build (``-W -n``)
checks the rest: that every cross-reference resolves.
"""

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

import mdn_src

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "book" / "api"
PAGES = sorted(API.glob("*.md"))
DIRECTIVE = re.compile(r"^\.\. ((?:py:)?[\w]+):: *(\S*)\s*$")
OPTION = re.compile(r"^\s+:([\w-]+):(.*)$")
SETS_MODULE = {"automodule", "py:module", "module", "py:currentmodule", "currentmodule"}
MANUAL = {"py:data": "data", "data": "data", "py:class": "class", "class": "class"}


@dataclass(frozen=True)
class Directive:
    kind: str  # "automodule", "autoclass", "py:data", ...
    target: str  # the full dotted name (a manual entry's name joined to its module)
    options: dict = field(hash=False)
    text: str = ""  # the body, whitespace collapsed
    page: str = ""


def _names(value: str) -> set[str]:
    return {n.strip() for n in value.split(",") if n.strip()}


def _parse(page: Path) -> list[Directive]:
    found, module = [], None
    lines = page.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        kind, target = match.groups()
        options, body, j = {}, [], i + 1
        while j < len(lines) and OPTION.match(lines[j]):
            opt = OPTION.match(lines[j])
            options[opt.group(1)] = opt.group(2).strip()
            j += 1
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith(" ")):
            body.append(lines[j].strip())
            j += 1
        if kind in SETS_MODULE:
            module = None if target == "None" else target
        if kind in MANUAL:
            prefix = options.get("module", module)
            target = f"{prefix}.{target}" if prefix else target
        elif kind.startswith("auto") and kind != "automodule" and module:
            if not target.startswith("mdn_src."):
                target = f"{module}.{target}"
        found.append(Directive(kind, target, options, " ".join(" ".join(body).split()), page.name))
    return found


def _directives() -> list[Directive]:
    """Every autodoc directive and manual ``py:data``/``py:class`` entry on the API pages."""
    return [
        d for page in PAGES for d in _parse(page) if d.kind.startswith("auto") or d.kind in MANUAL
    ]


def _children() -> list[pkgutil.ModuleInfo]:
    return [m for m in pkgutil.iter_modules(mdn_src.__path__) if not m.name.startswith("_")]


def _homes(name: str) -> list[str]:
    """The top-level modules and subpackages of mdn_src whose ``__all__`` lists ``name``."""
    homes = []
    for info in _children():
        module = importlib.import_module(f"mdn_src.{info.name}")
        if name in (getattr(module, "__all__", None) or ()):
            homes.append(module.__name__)
    return homes


def _is_constant(obj) -> bool:
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


def _comment(modname: str, name: str) -> str | None:
    """The ``#:`` comment of ``modname.name``, searched in ``modname`` and, for a package,
    in its modules; None if there is none."""
    analyzer = pytest.importorskip("sphinx.pycode").ModuleAnalyzer
    module = importlib.import_module(modname)
    candidates = [modname]
    if hasattr(module, "__path__"):
        candidates += [f"{modname}.{m.name}" for m in pkgutil.iter_modules(module.__path__)]
    for candidate in candidates:
        docs = analyzer.for_module(candidate).find_attr_docs()
        if ("", name) in docs:
            return " ".join(" ".join(docs[("", name)]).split())
    return None


def _has_documentation(modname: str, name: str) -> bool:
    """Whether ``automodule:: modname`` with ``:members:`` would document ``name``."""
    obj = getattr(importlib.import_module(modname), name)
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return bool(obj.__doc__ and obj.__doc__.strip())
    # A constant: autodoc reads the #: comment of the documented module only.
    analyzer = pytest.importorskip("sphinx.pycode").ModuleAnalyzer.for_module(modname)
    return ("", name) in analyzer.find_attr_docs()


def _why_undocumented(name: str, directives) -> str | None:
    """None if the pages document ``mdn_src.<name>`` at its home; otherwise the reason."""
    homes = _homes(name)
    if len(homes) != 1:
        return f"it needs exactly one home (a module or subpackage of mdn_src listing it in __all__), found {homes}"
    home = homes[0]
    obj = getattr(importlib.import_module(home), name)
    if obj is not getattr(mdn_src, name):
        return f"mdn_src.{name} is not the object {home}.{name}"
    full = f"{home}.{name}"
    if inspect.ismodule(obj):
        documented = any(
            d.kind == "automodule" and d.target == obj.__name__ and "members" in d.options
            for d in directives
        )
        return None if documented else f"no page has `automodule:: {obj.__name__}` with :members:"
    if any(
        d.kind.startswith("auto") and d.kind != "automodule" and d.target == full
        for d in directives
    ):
        return None
    if _is_constant(obj) and any(d.kind in MANUAL and d.target == full for d in directives):
        return None
    why = f"no page has `automodule:: {home}` with :members:, nor an auto* directive for {full}"
    for d in directives:
        if d.kind != "automodule" or d.target != home or "members" not in d.options:
            continue
        if name in _names(d.options.get("exclude-members", "")):
            why = f"excluded from automodule:: {home}, and no auto* directive of its own"
            continue
        listed = _names(d.options["members"])
        if listed and name not in listed:
            why = f"automodule:: {home} lists :members: without it"
            continue
        if not _has_documentation(home, name):
            if _is_constant(obj):
                why = (
                    f"automodule:: {home} skips a constant without a #: comment in {home} "
                    f"itself; write a `py:data:: {name}` entry at {home}"
                )
            else:
                why = f"it has no docstring, so :members: of {home} skips it"
            continue
        return None
    return why


def _why_entry_is_wrong(entry: Directive) -> str | None:
    """None if a manual ``py:data``/``py:class`` entry agrees with the code; else the reason."""
    modname, _, name = entry.target.rpartition(".")
    try:
        obj = getattr(importlib.import_module(modname), name)
    except (ImportError, AttributeError) as err:
        return f"{entry.target} does not exist: {err}"
    if not _is_constant(obj):
        return f"{entry.target} is a class, function or module: document it with autodoc"
    if name not in (getattr(importlib.import_module(modname), "__all__", None) or ()):
        return f"{entry.target} is not in {modname}.__all__, so it is not at its home"
    comment = _comment(modname, name)
    if comment is None:
        return f"{entry.target} has no #: comment in the code to take its text from"
    if not entry.text.startswith(comment):
        return f"the entry's text does not begin with the #: comment {comment!r}"
    if "value" in entry.options and entry.options["value"] != repr(obj):
        return f":value: {entry.options['value']} is not the constant's value {obj!r}"
    return None


def test_api_pages_exist_and_are_in_the_toc():
    assert PAGES, "book/api/ has no pages"
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = set(re.findall(r"file:\s*(\S+)", toc))
    assert yaml.safe_load(toc)  # still valid YAML
    for page in PAGES:
        entry = page.relative_to(ROOT).with_suffix("").as_posix()
        assert entry in files, f"{entry} is not in _toc.yml (only_build_toc_files skips it)"
    for entry in sorted(f for f in files if f.startswith("book/api/")):
        assert (ROOT / f"{entry}.md").is_file(), f"_toc.yml lists {entry}, which has no page"


@pytest.mark.parametrize(
    "directive",
    [d for d in _directives() if d.kind.startswith("auto")],
    ids=lambda d: f"{d.page}:{d.kind}:{d.target}",
)
def test_autodoc_target_imports(directive):
    """Every automodule target imports; every other auto* target is an attribute of one."""
    if directive.kind == "automodule":
        importlib.import_module(directive.target)
        return
    modname, _, name = directive.target.rpartition(".")
    while modname:
        try:
            module = importlib.import_module(modname)
            break
        except ImportError:
            modname, _, outer = modname.rpartition(".")
            name = f"{outer}.{name}"
    else:
        pytest.fail(f"{directive.target}: no importable module in the name")
    obj = module
    for part in name.split("."):
        assert hasattr(obj, part), f"{directive.target}: {obj!r} has no attribute {part!r}"
        obj = getattr(obj, part)


@pytest.mark.parametrize("package", [m.name for m in _children() if m.ispkg])
def test_every_subpackage_is_documented(package):
    modname = f"mdn_src.{package}"
    assert any(
        d.kind == "automodule" and d.target == modname and "members" in d.options
        for d in _directives()
    ), f"no page has `automodule:: {modname}` with :members:"


@pytest.mark.parametrize("name", sorted(mdn_src.__all__))
def test_public_name_is_documented(name):
    why = _why_undocumented(name, _directives())
    assert why is None, f"mdn_src.{name} is missing from the API reference (book/api/): {why}"


@pytest.mark.parametrize(
    "entry",
    [d for d in _directives() if d.kind in MANUAL and d.target.startswith("mdn_src.")],
    ids=lambda d: f"{d.page}:{d.target}",
)
def test_written_out_constant_matches_the_code(entry):
    why = _why_entry_is_wrong(entry)
    assert why is None, f"{entry.page}: {entry.kind}:: {entry.target}: {why}"


def test_the_check_notices_a_missing_name():
    """The checks are not vacuous: each way of leaving a name out is caught."""
    directives = _directives()
    assert directives, "no autodoc directive found on the API pages"
    assert _why_undocumented("fit", directives) is None
    assert _why_undocumented("fit", []) is not None
    without_training = [d for d in directives if d.target != "mdn_src.training"]
    assert _why_undocumented("fit", without_training) is not None
    # Its defining module is not its home: documenting it there does not count.
    at_definition = without_training + [
        Directive("automodule", "mdn_src.training.loop", {"members": ""})
    ]
    assert _why_undocumented("fit", at_definition) is not None
    listed_without = without_training + [
        Directive("automodule", "mdn_src.training", {"members": "History, TrainConfig"})
    ]
    assert "without it" in _why_undocumented("fit", listed_without)
    excluded = without_training + [
        Directive("automodule", "mdn_src.training", {"members": "", "exclude-members": "fit"})
    ]
    assert "excluded" in _why_undocumented("fit", excluded)
    # A package's re-exported constant is skipped by automodule.
    only_automodule = [d for d in directives if d.target != "mdn_src.mixture.FAMILIES"]
    assert "#: comment" in _why_undocumented("FAMILIES", only_automodule)
    # A module exported as a name needs its own automodule.
    without_oracle = [d for d in directives if d.target != "mdn_src.problems.oracle"]
    assert _why_undocumented("oracle", without_oracle) is not None
    # A written-out constant whose text or value drifted from the code is caught.
    (families,) = [d for d in directives if d.target == "mdn_src.mixture.FAMILIES"]
    assert _why_entry_is_wrong(families) is None
    assert _why_entry_is_wrong(Directive("py:data", families.target, {}, "Stale text.")) is not None
    (covariances,) = [d for d in directives if d.target == "mdn_src.mixture.COVARIANCES"]
    wrong_value = Directive("py:data", covariances.target, {"value": "()"}, covariances.text)
    assert ":value:" in _why_entry_is_wrong(wrong_value)
