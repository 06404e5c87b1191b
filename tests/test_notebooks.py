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


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_and_py_twin_are_in_sync(nb):
    twin = nb.with_suffix(".py")
    assert twin.exists(), f"{nb.name} has no py:percent twin"
    # Compare Jupytext's text of both sides (never --sync: it goes by timestamps).
    expected = jupytext.writes(jupytext.read(nb), fmt="py:percent")
    assert twin.read_text() == expected, (
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


def test_at_least_80_percent_of_text_outputs_are_compared():
    compared = ignored = 0
    for nb in NOTEBOOKS:
        for c in _code_cells(nb):
            prints = any(
                o.get("output_type") == "stream" or "text/plain" in o.get("data", {})
                for o in c.get("outputs", [])
            )
            if IGNORED.search("".join(c["source"])):
                ignored += 1
            elif prints:
                compared += 1
    assert compared >= 4 * ignored and compared > 20, (compared, ignored)


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
        for key in used:
            literal = any(not is_f and k == key for is_f, k in defined)
            # f-string keys such as f"ch8_{short}_nll": match with the braces as wildcards.
            pattern = any(
                is_f and re.fullmatch(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(k)), key)
                for is_f, k in defined
            )
            assert literal or pattern, f"{nb.name}: {key} is quoted but never glued"
