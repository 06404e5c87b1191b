"""The book's two tiers of regression, read from the notebooks.

- **Exact tier**: a code cell with text output that nbval compares, exactly. Its output must
  not depend on training or on the float path beyond its printed digits.
- **Claim tier**: a cell whose output depends on training is tagged ``nbval-ignore-output``
  (nbval runs it, so an exception still fails, but does not compare its text), and a claim
  checked in code follows it: a call of :func:`mdn_src.report` (or :func:`mdn_src.paired`)
  with a bound (``at_least=`` or ``at_most=``) or of :func:`mdn_src.check`.

Run as a script, it prints both counts (the README quotes them).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

IGNORE_TAGS = {"nbval-ignore-output", "nbval-skip"}
IGNORE_MARKERS = re.compile(r"#\s*NBVAL_(IGNORE_OUTPUT|SKIP)")


def code_cells(nb_path: Path) -> list[dict]:
    cells = json.loads(Path(nb_path).read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _python(source: str) -> str:
    """The cell without IPython's magics, which ast cannot parse."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )


def _called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


@dataclass(frozen=True)
class CodeCell:
    source: str
    ignored: bool
    prints: bool  # has a text output nbval would compare
    claims: int  # checked claims in it
    writes: frozenset[str]  # names it assigns
    reads: frozenset[str]  # names it reads

    @classmethod
    def of(cls, cell: dict) -> CodeCell:
        source = "".join(cell["source"])
        tags = set(cell.get("metadata", {}).get("tags", []))
        tree = ast.parse(_python(source))
        claims, writes, reads = 0, set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = _called(node)
                bounded = {k.arg for k in node.keywords} & {"at_least", "at_most"}
                if (called in ("report", "paired") and bounded) or called == "check":
                    claims += 1
            elif isinstance(node, ast.Name):
                (writes if isinstance(node.ctx, ast.Store) else reads).add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                writes.add(node.name)
        prints = any(
            o.get("output_type") == "stream" or "text/plain" in o.get("data", {})
            for o in cell.get("outputs", [])
        )
        return cls(
            source=source,
            ignored=bool(tags & IGNORE_TAGS or IGNORE_MARKERS.search(source)),
            prints=prints,
            claims=claims,
            writes=frozenset(writes),
            reads=frozenset(reads),
        )


def counts(notebooks) -> tuple[int, int]:
    """(exact-tier cells, checked claims) over the notebooks."""
    exact = claims = 0
    for nb in notebooks:
        for raw in code_cells(nb):
            cell = CodeCell.of(raw)
            exact += cell.prints and not cell.ignored
            claims += cell.claims
    return exact, claims


if __name__ == "__main__":
    book = Path(__file__).resolve().parents[1] / "book"
    exact, claims = counts(sorted(book.glob("*.ipynb")))
    print(f"{exact} exact-tier cells, {claims} checked claims")
    sys.exit(0)
