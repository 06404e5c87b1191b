"""The book's notebooks: paired, executed, deterministic, and installable on Colab/Binder.

nbval (run by `make test` over book/) re-executes each notebook and compares its outputs;
these tests pin down what nbval cannot see.
"""

import json
import re
from pathlib import Path

import jupytext
import pytest
import yaml

from tests import tiers

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
IGNORED = re.compile(r"NBVAL_(IGNORE_OUTPUT|SKIP)")


def _code_cells(nb_path):
    cells = json.loads(nb_path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _toc_files():
    """Every file _toc.yml lists: the root, then each part's chapters and their sections."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        walk(part["chapters"])
    return files


def test_every_chapter_in_the_toc_exists_and_every_notebook_is_listed():
    listed = _toc_files()
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry
    for nb in NOTEBOOKS:
        assert f"book/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"
    assert len(NOTEBOOKS) >= 8


def _without_tool_version(text):
    return re.sub(r"(?m)^#\s+jupytext_version:.*\n", "", text)


def test_pairing_ignores_only_the_tool_version():
    header = "# ---\n# jupyter:\n#   jupytext:\n#       jupytext_version: 1.19.6\n# ---\n"
    assert _without_tool_version(header) == _without_tool_version(header.replace("6", "7"))
    assert _without_tool_version(header + "x = 1\n") != _without_tool_version(header + "x = 2\n")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_and_py_twin_are_in_sync(nb):
    twin = nb.with_suffix(".py")
    assert twin.exists(), f"{nb.name} has no py:percent twin"
    # Compare Jupytext's text of both sides (never --sync: it goes by timestamps).
    # The header's jupytext_version names the tool that wrote it, not what a person edits.
    expected = _without_tool_version(jupytext.writes(jupytext.read(nb), fmt="py:percent"))
    assert _without_tool_version(twin.read_text()) == expected, (
        f"{twin.name} and {nb.name} differ: edit the .py, then `make notebooks`"
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_and_deterministic(nb):
    code = _code_cells(nb)
    unrun = [c for c in code if c.get("execution_count") is None]
    assert not unrun, f"{len(unrun)} cells of {nb.name} have no stored output for nbval"
    source = "\n".join("".join(c["source"]) for c in code)
    assert "torch.set_num_threads(1)" in source
    # No output carries an error.
    for c in code:
        assert all(o.get("output_type") != "error" for o in c.get("outputs", []))


def test_every_ignored_cell_is_followed_by_a_checked_claim():
    """The claim tier: a cell whose output nbval does not compare (it depends on training)
    either checks a claim itself, or defines a name that a later claim of its chapter reads."""
    for nb in NOTEBOOKS:
        cells = [tiers.CodeCell.of(c) for c in tiers.code_cells(nb)]
        for i, cell in enumerate(cells):
            if not cell.ignored or cell.claims:
                continue
            later = set().union(*(c.reads for c in cells[i + 1 :] if c.claims))
            assert cell.writes & later, (
                f"{nb.name}: an ignored cell has no checked claim after it that reads what "
                f"it computes: {cell.source[:80]!r}"
            )


def test_the_tier_counts_are_found_by_the_parser():
    cell = tiers.CodeCell.of(
        {
            "source": "ratio = a / b\nreport('r', ratio, at_least=10)\ncheck('x', a > b)",
            "metadata": {"tags": ["nbval-ignore-output"]},
            "outputs": [],
        }
    )
    assert cell.ignored and cell.claims == 2 and "ratio" in cell.writes
    plain = tiers.CodeCell.of({"source": "report('r', v)", "metadata": {}, "outputs": []})
    assert not plain.ignored and plain.claims == 0  # a report without a band checks nothing


def test_the_readme_states_both_counts():
    exact, claims = tiers.counts(NOTEBOOKS)
    readme = (ROOT / "README.md").read_text()
    assert f"**{exact} exact-tier cells**" in readme, f"README should say {exact} exact-tier cells"
    assert f"**{claims} checked claims**" in readme, f"README should say {claims} checked claims"
    assert exact > 100 and claims > 30


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_mdn_src_from_the_configured_repository(nb):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    first = "".join(_code_cells(nb)[0]["source"])
    assert "import mdn_src" in first and "except ImportError" in first
    assert f'"mdn_src @ git+{url}"' in first, "install URL differs from _config.yml"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_name_caption_and_alt_text(nb):
    for cell in _code_cells(nb):
        if any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            meta = cell["metadata"].get("mystnb", {})
            src = "".join(cell["source"])[:60]
            assert meta.get("figure", {}).get("name"), f"figure without a name: {src}"
            assert meta.get("figure", {}).get("caption"), f"figure without a caption: {src}"
            assert meta.get("image", {}).get("alt"), f"figure without alt text: {src}"


GLUE_USE = re.compile(r"\{glue(?::text)?\}`([A-Za-z_][A-Za-z0-9_]*)")
GLUE_DEF = re.compile(r"""glue\(\s*(f?)["']([^"']+)["']""")
REPORT_DEF = re.compile(r"""\b(?:report|paired)\(\s*(f?)["']([^"']+)["']""")
REPORT_SUFFIXES = ("mean", "sd", "median", "min", "max", "worst", "n", "count", "floor", "ceil",
                   "se", "ci", "ci_low", "ci_high")  # fmt: skip


def test_every_glued_number_in_the_prose_is_computed():
    """Each {glue:text}`key` in a chapter's markdown is glued by a code cell of that chapter."""
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        used = {
            key
            for c in cells
            if c["cell_type"] == "markdown"
            for key in GLUE_USE.findall("".join(c["source"]))
        }
        code = "\n".join("".join(c["source"]) for c in _code_cells(nb))
        defined = [(f == "f", key) for f, key in GLUE_DEF.findall(code)]
        # report("name", ...) glues the name and name_<statistic> (mdn_src.claims).
        for f, key in REPORT_DEF.findall(code):
            defined += [(f == "f", key)] + [(f == "f", f"{key}_{s}") for s in REPORT_SUFFIXES]
        for key in used:
            literal = any(not is_f and k == key for is_f, k in defined)
            # f-string keys such as f"ch8_{short}_nll": match with the braces as wildcards.
            pattern = any(
                is_f and re.fullmatch(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(k)), key)
                for is_f, k in defined
            )
            assert literal or pattern, f"{nb.name}: {key} is quoted but never glued"
