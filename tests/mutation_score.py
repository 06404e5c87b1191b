"""Plant faults in mdn_src one at a time and report, per module, how many the unit tests catch.

Issue 23 asks that the unit tests catch at least 95% of faults planted in the library's
logic, in every module. This tool measures that figure. It never touches the working tree:

1. it copies the tree (what git tracks or would track, the venv linked) into a scratch
   folder, one copy per job, and finds the modules itself: every ``.py`` under ``mdn_src/``
   but ``_version.py`` and the ``__init__.py`` files that only re-export;
2. it plants faults with :mod:`ast`, each one a splice of the original text that keeps every
   line number: comparisons flipped (``<`` ``<=``, ``>`` ``>=``, ``==`` ``!=``, ``is``,
   ``in``), arithmetic swapped (``+`` ``-``, ``*`` ``/``, ``**`` ``*``), a term dropped
   (``a - b`` -> ``a``), a sign dropped, numeric constants changed (an int n -> n + 1, a
   float c -> 2c, 0.0 -> 1.0), booleans flipped, ``and``/``or`` swapped, ``not`` removed,
   a ``raise`` or ``assert`` removed, a small helper's ``return x`` made ``return None``,
   a forwarded option dropped from a call (``f(x, dim=dim)`` -> ``f(x)``), and keyword
   defaults changed. Left alone: docstrings and strings, f-strings, messages (raise,
   warnings, logging, print), type hints, decorators, ``__all__``, ``if TYPE_CHECKING`` /
   ``__main__`` blocks, and any line marked ``# pragma: no mutate`` (on a ``def`` or
   ``class`` line: the whole block);
3. it runs the unit tests once under coverage.py, labelling every line with the test that
   ran it (its own phases, the module- or session-scoped fixtures it uses, and its module's
   import), and drops from the selection any test that does not pass unmutated;
4. for each fault it runs only the tests that execute the faulty line (``pytest -x``; for a
   keyword default, those that run the function; at module or class level, those that run
   any line of the module) under a timeout. A failure or a timeout catches the fault; a
   fault no test executes survives. Survivors are listed with file:line and the change:
   some are equivalent by construction (a tolerance doubled, say); a human judges them.

Examples::

    .venv/bin/python tests/mutation_score.py --jobs 2 --out _build/mutation.json
    .venv/bin/python tests/mutation_score.py --modules toy report loss --jobs 2
    .venv/bin/python tests/mutation_score.py --list --modules loss   # the faults, no run

Lines run only in a subprocess that a test starts are not mapped (their faults survive).
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mdn_src"
#: Not unit tests (the chapters, the site, the README, the shipped models, the lock file).
NOT_UNIT = {"test_notebooks.py", "test_site.py", "test_readme.py", "test_shipped_models.py"}
NOT_UNIT |= {"test_lock.py"}
PRAGMA = "pragma: no mutate"
#: Calls whose arguments are messages: their constants are never mutated.
MESSAGE_CALLS = {"print", "warn", "debug", "info", "warning", "error", "exception", "critical"}
MESSAGE_CALLS |= {"set_description", "set_postfix", "write"}
FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq}
FLIP |= {ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn}
FLIP |= {ast.NotIn: ast.In}
SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
SWAP |= {ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.Mod: ast.FloorDiv}
SMALL_HELPER = 25  # lines: a function this short gets the ``return None`` fault


@dataclass
class Mutant:
    module: str  # dotted, e.g. mdn_src.loss
    file: str  # relative to the tree
    line: int
    operator: str
    old: str
    new: str
    span: tuple[int, int, int, int]  # lineno, col, end_lineno, end_col (col in UTF-8 bytes)
    text: str  # what replaces the span
    scope: tuple[int, int] | None  # the lines whose tests run it; None: the whole module
    status: str = "pending"  # caught | survived | timeout | error
    note: str = ""  # the failing test, "no test runs this line", ...
    tests: int = 0
    seconds: float = 0.0

    def apply(self, source: str) -> str:
        lines = source.encode().splitlines(keepends=True)
        first, col, last, end_col = self.span
        head = b"".join(lines[: first - 1]) + lines[first - 1][:col]
        tail = lines[last - 1][end_col:] + b"".join(lines[last:])
        return (head + self.text.encode() + tail).decode()


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(new: ast.AST, old: ast.AST) -> str:
    """``new`` in parentheses, padded with newlines to span as many lines as ``old``: the
    splice keeps every later line at its number."""
    return f"({ast.unparse(new)}{chr(10) * (old.end_lineno - old.lineno)})"


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


class Finder(ast.NodeVisitor):
    """Every fault of one module, with the lines whose tests must run it."""

    def __init__(self, module: str, file: str, source: str):
        self.module, self.file, self.found = module, file, []
        self.source_lines = source.splitlines()
        self.scope: tuple[int, int] | None = None  # None: module or class level
        self.func: ast.AST | None = None
        self.in_default = False

    def add(self, node, operator, new, text=None, where=None) -> None:
        """``new``: the node that replaces ``node`` (spliced in parentheses, padded so every
        later line keeps its number) or, with ``text``, the exact replacement."""
        if text is None:
            text = _text(new, node)
        shown = _short(new) if isinstance(new, ast.AST) else new
        span = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
        scope = self.scope if where is None else where
        mutant = Mutant(self.module, self.file, node.lineno, operator, _short(node), shown,
                        span, text, scope)  # fmt: skip
        self.found.append(mutant)

    def _marked(self, node) -> bool:
        line = getattr(node, "lineno", None)
        return line is not None and PRAGMA in self.source_lines[line - 1]

    def visit(self, node):
        if self._marked(node) or isinstance(node, ast.JoinedStr):
            return
        if not isinstance(node, ast.stmt) or isinstance(node, ast.FunctionDef | ast.ClassDef):
            return super().visit(node)
        saved = self.scope
        if self.func is not None:  # a compound statement: its header only
            body = getattr(node, "body", None)
            end = body[0].lineno - 1 if body and node.lineno < body[0].lineno else node.end_lineno
            self.scope = (node.lineno, end)
        super().visit(node)
        self.scope = saved

    # Statements and blocks left alone, or visited in part.
    def visit_If(self, node):
        test = ast.unparse(node.test)
        if test in ("TYPE_CHECKING", "typing.TYPE_CHECKING", "__name__ == '__main__'"):
            return
        self.generic_visit(node)

    def visit_Assign(self, node):
        if any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)

    def visit_FunctionDef(self, node):
        saved = self.scope, self.func
        body = (node.body[0].lineno, node.end_lineno)  # a default matters where the body runs
        self.scope, self.in_default = body, True
        for default in [*node.args.defaults, *filter(None, node.args.kw_defaults)]:
            self.visit(default)
        self.scope, self.func, self.in_default = body, node, False
        for statement in node.body:
            self.visit(statement)
        self.scope, self.func = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        saved = self.scope, self.func
        self.scope, self.func = None, None
        for statement in node.body:
            self.visit(statement)
        self.scope, self.func = saved

    def visit_Lambda(self, node):
        for default in node.args.defaults:
            self.visit(default)
        self.visit(node.body)

    def visit_Call(self, node):
        name = _call_name(node)
        if name in MESSAGE_CALLS or name.endswith(("Error", "Warning", "Exception")):
            return
        for i, keyword in enumerate(node.keywords):  # a forwarded option ignored
            if keyword.arg and isinstance(keyword.value, ast.Name | ast.Attribute):
                new = copy.copy(node)
                new.keywords = node.keywords[:i] + node.keywords[i + 1 :]
                self.add(node, "option", f"drop {ast.unparse(keyword)}", _text(new, node))
        self.generic_visit(node)

    def visit_Raise(self, node):
        self.add(node, "raise", "pass", _text(ast.Constant(None), node))

    def visit_Assert(self, node):
        self.add(node, "assert", "pass", _text(ast.Constant(None), node))
        self.visit(node.test)

    def visit_Return(self, node):
        func = self.func
        small = func is not None and func.end_lineno - func.lineno <= SMALL_HELPER
        value = node.value
        if small and value is not None and ast.unparse(value) != "None":
            self.add(value, "return", ast.Constant(None))
        self.generic_visit(node)

    # The faults themselves.
    def visit_Compare(self, node):
        for i, op in enumerate(node.ops):
            if type(op) in FLIP:
                new = copy.copy(node)
                new.ops = [*node.ops[:i], FLIP[type(op)](), *node.ops[i + 1 :]]
                self.add(node, "compare", new)
        self.generic_visit(node)

    def visit_BinOp(self, node):
        if _is_text(node.left) or _is_text(node.right):
            return  # building a message
        if type(node.op) in SWAP:
            self.add(node, "arith", ast.BinOp(node.left, SWAP[type(node.op)](), node.right))
        if isinstance(node.op, ast.Add | ast.Sub):
            self.add(node, "drop-term", node.left)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if type(node.op) in SWAP:
            new = ast.AugAssign(node.target, SWAP[type(node.op)](), node.value)
            target, symbol = ast.unparse(node.target), ast.unparse(new).split()[1]  # e.g. "-="
            self.add(node, "arith", new, f"{target} {symbol} {_text(node.value, node)}")
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self.add(node, "boolop", ast.BoolOp(other, node.values))
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            self.add(node, "not", node.operand)
        elif isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant):
            self.add(node, "sign", node.operand)
        self.generic_visit(node)

    def visit_Constant(self, node):
        value, kind = node.value, "default" if self.in_default else "constant"
        if isinstance(value, bool):
            self.add(node, kind, ast.Constant(not value))
        elif isinstance(value, int):
            self.add(node, kind, ast.Constant(value + 1))
        elif isinstance(value, float) and math.isfinite(value):
            self.add(node, kind, ast.Constant(value * 2 if value else 1.0))


# The tree and its modules.
def copy_tree(destination: Path, rev: str | None = None) -> None:
    """The working tree's files that git tracks or would track (ignored ones left out), or
    those of commit ``rev``; the venv linked, not copied."""
    if rev is not None:
        archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT,
                                 check=True, capture_output=True).stdout  # fmt: skip
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(destination, filter="data")
    else:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, check=True, capture_output=True,
        ).stdout.decode().split("\0")  # fmt: skip
        for name in filter(None, listed):
            if (ROOT / name).is_file():
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, destination / name)
    (destination / ".venv").symlink_to(ROOT / ".venv")


def module_files(root: Path) -> list[Path]:
    """Every .py of the package but ``_version.py`` and the ``__init__.py`` files that only
    re-export (a lazy ``__getattr__`` / ``__dir__`` counts as re-exporting)."""
    found = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        if path.name == "_version.py" or "__pycache__" in path.parts:
            continue
        if path.name == "__init__.py":
            body = ast.parse(path.read_text()).body
            defined = [n.name for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
            if set(defined) <= {"__getattr__", "__dir__"}:
                continue
        found.append(path)
    return found


def find_mutants(root: Path, path: Path) -> tuple[list[Mutant], int]:
    """The faults of one module, and how many did not compile (a bug of this tool)."""
    file = path.relative_to(root).as_posix()
    module = file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    source = path.read_text()
    finder = Finder(module, file, source)
    finder.visit(ast.parse(source))
    kept, seen, invalid = [], set(), 0
    for mutant in finder.found:
        text = mutant.apply(source)
        if text in seen or text == source:
            continue
        seen.add(text)
        try:
            compile(text, file, "exec")
        except SyntaxError:
            invalid += 1
            continue
        kept.append(mutant)
    return kept, invalid


# Which tests run which line: one run of the unit tests under coverage.py.
class ContextPlugin:
    """Labels the lines coverage records with what ran them: ``test|<node id>`` (the test's
    setup, call and teardown), ``fixture|<base id>|<name>`` (a fixture scoped wider than a
    function: every test using it depends on it) and ``collect|<node id>`` (importing a
    test module: every test in it depends on that)."""

    def __init__(self, cov):
        self.cov, self.label, self.tests = cov, "", {}

    def switch(self, label: str) -> None:
        self.label = label
        self.cov.switch_context(label)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector):
        self.switch(f"collect|{collector.nodeid}")
        yield
        self.switch("")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item):
        self.tests[item.nodeid] = {"outcome": "passed", "seconds": 0.0,
                                   "fixtures": sorted(item.fixturenames)}  # fmt: skip
        self.switch(f"test|{item.nodeid}")
        yield
        self.switch("")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.scope == "function":
            yield
            return
        outer = self.label
        self.switch(f"fixture|{fixturedef.baseid}|{fixturedef.argname}")
        yield
        self.switch(outer)

    def pytest_runtest_logreport(self, report):
        test = self.tests.setdefault(report.nodeid, {"outcome": "passed", "seconds": 0.0})
        test["seconds"] += report.duration
        if report.outcome != "passed" and test["outcome"] == "passed":
            test["outcome"] = report.outcome


def map_run(out: str, pytest_args: list[str]) -> int:
    """Run in the copy (cwd) by the tool itself: the tests under coverage, to ``out``."""
    import coverage

    root = Path.cwd()
    cov = coverage.Coverage(data_file=None, source=[str(root / PACKAGE)], config_file=False)
    plugin = ContextPlugin(cov)
    cov.start()
    try:
        code = pytest.main(pytest_args, plugins=[plugin])
    finally:
        cov.stop()
    data, lines = cov.get_data(), {}
    for name in data.measured_files():
        by_line = data.contexts_by_lineno(name)
        rel = Path(name).relative_to(root).as_posix()
        lines[rel] = {str(n): sorted(set(labels) - {""}) for n, labels in by_line.items()}
    foreign = [m.__file__ for name, m in sys.modules.items()
               if name.split(".")[0] == PACKAGE and getattr(m, "__file__", None)
               and not Path(m.__file__).resolve().is_relative_to(root.resolve())]  # fmt: skip
    result = {"exit": int(code), "tests": plugin.tests, "lines": lines, "foreign": foreign}
    Path(out).write_text(json.dumps(result))
    return 0


class Coverage:
    """The coverage map, read: which passing tests run which lines of which file."""

    def __init__(self, found: dict):
        self.tests = found["tests"]
        self.passing = {t for t, v in self.tests.items() if v["outcome"] == "passed"}
        self.lines = found["lines"]
        self.order = {t: i for i, t in enumerate(self.tests)}
        self._resolved: dict[str, set[str]] = {}

    def resolve(self, label: str) -> set[str]:
        if label not in self._resolved:
            kind, _, rest = label.partition("|")
            if kind == "test":
                tests = {rest}
            elif kind == "fixture":
                base, _, name = rest.rpartition("|")
                tests = {t for t in self.tests if t.startswith(base)
                         and name in self.tests[t].get("fixtures", ())}  # fmt: skip
            else:  # collect: the collector's tests
                tests = {
                    t for t in self.tests if not rest or t.startswith((rest + "::", rest + "/"))
                }
            self._resolved[label] = tests & self.passing
        return self._resolved[label]

    def select(self, mutant: Mutant) -> list[str]:
        """The passing tests that run the mutant's lines, file by file (the quickest file
        first), each file's tests in the order they ran."""
        by_line = self.lines.get(mutant.file, {})
        if mutant.scope is None:
            labels = {label for labels in by_line.values() for label in labels}
        else:
            first, last = mutant.scope
            labels = {lb for n in range(first, last + 1) for lb in by_line.get(str(n), ())}
        tests = set().union(*map(self.resolve, labels)) if labels else set()
        files: dict[str, list[str]] = defaultdict(list)
        for test in sorted(tests, key=self.order.__getitem__):
            files[test.split("::")[0]].append(test)
        cost = {f: sum(self.tests[t]["seconds"] for t in ts) for f, ts in files.items()}
        return [t for f in sorted(files, key=cost.__getitem__) for t in files[f]]

    def seconds(self, tests: list[str]) -> float:
        return sum(self.tests[t]["seconds"] for t in tests)


def tree_key(root: Path) -> str:
    """A hash of what the coverage map depends on: the package, the tests, the settings."""
    digest = hashlib.sha256()
    for path in sorted([*root.glob(f"{PACKAGE}/**/*.py"), *root.glob("tests/**/*.py")]):
        digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    digest.update((root / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def unit_tests(root: Path) -> list[str]:
    tests = sorted(root.glob("tests/**/test_*.py"))
    return [p.relative_to(root).as_posix() for p in tests if p.name not in NOT_UNIT]


def coverage_map(worker: Worker, cache: Path | None) -> dict:
    key = tree_key(worker.root)
    if cache is not None and cache.is_file():
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            print(f"coverage map: reused {cache} (the package and tests are unchanged)")
            return stored
    out = worker.scratch / "map.json"
    args = [*unit_tests(worker.root), "-q", "-p", "no:cacheprovider", f"--basetemp={worker.tmp}"]
    code = f"import sys; from tests.mutation_score import map_run; map_run({str(out)!r}, {args!r})"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=worker.root, env=worker.env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0 or not out.is_file():
        sys.exit(f"the coverage run failed:\n{(done.stdout + done.stderr)[-6000:]}")
    found = json.loads(out.read_text())
    if found["foreign"]:
        sys.exit(f"the tests imported {PACKAGE} from outside the copy: {found['foreign'][:3]}")
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    print(f"coverage map: {len(found['tests'])} tests in {time.perf_counter() - start:.0f} s "
          f"under coverage ({summary})")  # fmt: skip
    found["key"] = key
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(found))
    return found


# Running the faults.
@dataclass
class Worker:
    """One copy of the tree, where one fault at a time is planted and tested."""

    root: Path
    scratch: Path
    pristine: dict[str, str] = field(default_factory=dict)

    @property
    def tmp(self) -> Path:
        return self.scratch / "tmp"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ, PYTHONPATH=str(self.root), PYTHONDONTWRITEBYTECODE="1")
        env |= {"MDN_SRC_CACHE": str(self.scratch / "cache"), "MPLBACKEND": "Agg"}
        return env | {
            k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        }

    def check_import(self) -> None:
        """The copy's package is the one imported (PYTHONPATH ahead of the editable install)."""
        where = subprocess.run([sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
                               cwd=self.root, env=self.env, capture_output=True, text=True)  # fmt: skip
        path = Path(where.stdout.strip() or "/nonexistent")
        if not path.resolve().is_relative_to(self.root.resolve()):
            sys.exit(f"{self.root}: imports {PACKAGE} from {path}\n{where.stderr[-3000:]}")

    def run(self, mutant: Mutant, tests: list[str], timeout: float) -> None:
        target = self.root / mutant.file
        pristine = self.pristine.setdefault(mutant.file, target.read_text())
        shutil.rmtree(self.scratch / "cache", ignore_errors=True)  # a fault's models stay its own
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                   "--no-header", f"--basetemp={self.tmp}", *tests]  # fmt: skip
        start = time.perf_counter()
        target.write_text(mutant.apply(pristine))
        try:
            process = subprocess.Popen(command, cwd=self.root, env=self.env, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # fmt: skip
            try:
                output = process.communicate(timeout=timeout)[0]
                mutant.status, mutant.note = verdict(process.returncode, output)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                mutant.status, mutant.note = "timeout", f"still running after {timeout:.0f} s"
        finally:
            target.write_text(pristine)
        mutant.tests, mutant.seconds = len(tests), time.perf_counter() - start


def verdict(code: int, output: str) -> tuple[str, str]:
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE)
    where = failed.group(1) if failed else f"exit {code}"
    if code == 0:
        return "survived", ""
    if code in (1, 2, 3) or code < 0 or "ERROR collecting" in output:
        return "caught", where
    return "error", f"pytest exit {code}: {output.strip().splitlines()[-1:]}"  # 4, 5: a tool bug


def run_all(mutants: list[Mutant], workers: list[Worker], found: Coverage, options) -> None:
    free, lock, done = list(workers), threading.Lock(), [0]

    def one(mutant: Mutant) -> None:
        tests = found.select(mutant)
        if not tests:
            mutant.status, mutant.note = "survived", "no test runs this line"
        else:
            with lock:
                worker = free.pop()
            try:
                timeout = options.timeout + options.timeout_factor * found.seconds(tests)
                worker.run(mutant, tests, timeout)
            finally:
                with lock:
                    free.append(worker)
        with lock:
            done[0] += 1
            print(f"[{done[0]}/{len(mutants)}] {mutant.status:8} {describe(mutant)}"
                  f" ({len(tests)} tests, {mutant.seconds:.1f} s)", flush=True)  # fmt: skip

    with ThreadPoolExecutor(len(workers)) as pool:
        list(pool.map(one, mutants))


# Reporting.
def describe(mutant: Mutant) -> str:
    return f"{mutant.file}:{mutant.line} {mutant.operator}: {mutant.old}  ->  {mutant.new}"


def summarise(mutants: list[Mutant], candidates: dict[str, int]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for module in sorted(candidates):
        mine = [m for m in mutants if m.module == module]
        row = {s: sum(m.status == s for m in mine) for s in ("caught", "survived", "timeout")}
        row |= {"error": sum(m.status == "error" for m in mine), "candidates": candidates[module]}
        row["mutants"] = row["caught"] + row["survived"] + row["timeout"]
        rows[module] = row
    total = {k: sum(r[k] for r in rows.values()) for k in next(iter(rows.values()), {})}
    for row in [*rows.values(), total]:
        row["score"] = (
            100 * (row["caught"] + row["timeout"]) / row["mutants"] if row["mutants"] else None
        )
    return rows | {"TOTAL": total}


def print_table(rows: dict[str, dict]) -> None:
    width = max(map(len, rows))
    print(f"\n{'module':{width}}  mutants  (of)  caught  survived  timeout  score %")
    for module, r in rows.items():
        score = "-" if r["score"] is None else f"{r['score']:.1f}"
        errors = f"  ({r['error']} errors)" if r["error"] else ""
        print(f"{module:{width}}  {r['mutants']:7}  {r['candidates']:4}  {r['caught']:6}"
              f"  {r['survived']:8}  {r['timeout']:7}  {score:>7}{errors}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    scratch = Path(tempfile.mkdtemp(prefix="mdn-mutation-"))
    try:
        return measure(options, scratch)
    finally:
        if options.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def plant(root: Path, options) -> tuple[list[Mutant], dict[str, int]]:
    """The faults to run, per module sampled, and how many each module offered."""
    chosen, candidates, invalid = [], {}, 0
    for path in module_files(root):
        mutants, bad = find_mutants(root, path)
        invalid += bad
        if not mutants:
            continue
        module = mutants[0].module
        if options.modules and not any(s in module for s in options.modules):
            continue
        candidates[module] = len(mutants)
        if options.max_per_module and len(mutants) > options.max_per_module:
            rng = random.Random(f"{options.seed}:{module}")  # the same sample, whatever else runs
            mutants = sorted(rng.sample(mutants, options.max_per_module), key=lambda m: m.span)
        chosen += mutants
    if invalid:
        print(f"warning: {invalid} planted faults did not compile and were left out (a tool bug)")
    return chosen, candidates


def measure(options, scratch: Path) -> int:
    start = time.perf_counter()
    workers = [Worker(scratch / f"tree{i}", scratch / f"work{i}") for i in range(options.jobs)]
    copy_tree(workers[0].root, options.rev)
    mutants, candidates = plant(workers[0].root, options)
    if options.list:
        for mutant in mutants:
            print(describe(mutant))
        print(f"{len(mutants)} faults in {len(candidates)} modules")
        return 0
    for worker in workers:
        worker.scratch.mkdir(parents=True)
        if worker is not workers[0]:
            shutil.copytree(workers[0].root, worker.root, symlinks=True)
        worker.check_import()
    found = Coverage(coverage_map(workers[0], options.map_cache))
    broken = sorted(set(found.tests) - found.passing)
    if broken:
        print(f"{len(broken)} tests do not pass unmutated and are never selected: {broken[:10]}")
    started = time.perf_counter()
    run_all(mutants, workers, found, options)
    ran = [m for m in mutants if m.tests]
    rows = summarise(mutants, candidates)
    print_table(rows)
    survivors = [m for m in mutants if m.status in ("survived", "error")]
    print(f"\nsurvivors ({len(survivors)}; some may be equivalent by construction):")
    for mutant in survivors:
        print(f"  {describe(mutant)}" + (f"  [{mutant.note}]" if mutant.note else ""))
    hangs = sum(m.status == "timeout" for m in mutants)
    per = sum(m.seconds for m in ran) / len(ran) if ran else 0.0
    print(f"\n{len(ran)} faults run in {time.perf_counter() - started:.0f} s with {options.jobs}"
          f" jobs ({per:.1f} s each on average), {hangs} timed out (counted as caught);"
          f" {time.perf_counter() - start:.0f} s in all")  # fmt: skip
    if options.out:
        report = {"options": {k: v for k, v in vars(options).items() if k != "map_cache"},
                  "modules": rows, "broken_tests": broken, "seconds": time.perf_counter() - start,
                  "mutants": [{k: v for k, v in vars(m).items() if k != "text"} for m in mutants]}  # fmt: skip
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(report, indent=1, default=str))
        print(f"wrote {options.out}")
    return 0


#: The options: (flags, argparse keywords).
OPTIONS = (
    (["--modules"], dict(nargs="+", metavar="TEXT",
     help="only the modules whose dotted name contains one of these (e.g. loss toy)")),
    (["--max-per-module"], dict(type=int, default=0, metavar="N",
     help="a seeded random sample of at most N faults per module (default 0: all)")),
    (["--seed"], dict(type=int, default=0, help="the sample's seed (default 0)")),
    (["--jobs"], dict(type=int, default=1, metavar="N",
     help="faults tested at once, each in its own copy of the tree (default 1)")),
    (["--out"], dict(type=Path, metavar="FILE.json", help="write the table and every fault here")),
    (["--timeout"], dict(type=float, default=30.0, metavar="S", help="per fault: S seconds plus "
     "F times what its tests took under coverage, then it counts as caught (default 30)")),
    (["--timeout-factor"], dict(type=float, default=3.0, metavar="F", help="(default 3)")),
    (["--map-cache"], dict(type=Path, metavar="FILE.json", help="keep the coverage map here and "
     "reuse it while the package, the tests and pyproject.toml are unchanged")),
    (["--rev"], dict(metavar="COMMIT", help="test this commit (git archive), not the working tree")),
    (["--list"], dict(action="store_true", help="list the faults and stop (runs no test)")),
    (["--keep"], dict(action="store_true", help="keep the scratch copies (their path is printed)")),
)  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    for flags, keywords in OPTIONS:
        parser.add_argument(*flags, **keywords)
    options = parser.parse_args(argv)
    if options.jobs < 1 or options.max_per_module < 0:
        parser.error("--jobs must be at least 1 and --max-per-module at least 0")
    return options


if __name__ == "__main__":
    sys.exit(main())
