"""The README's library example runs as printed, and its layout table names real paths."""

import re
from pathlib import Path

import torch

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_example_runs_and_gives_the_shapes_it_claims():
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) >= 2
    scope: dict = {}
    for code in blocks:  # each block builds on the ones before, as a reader runs them
        exec(code, scope)  # noqa: S102 -- our own README
    assert scope["losses"].shape == (3000,)
    assert scope["losses"][-1] < -1.0  # the inverse problem is learnt (Bayes limit -1.28)
    assert isinstance(scope["p"], torch.distributions.MixtureSameFamily)
    assert scope["draws"].shape == (10, 1, 1)
    # Choosing the components: the shapes and families the README shows.
    assert scope["arm"].covariance == "full" and scope["flat"].component == "gennorm"
    assert scope["params"].shape.shape == (1, 10)
    assert scope["modes"].highest.shape == (1, 1)


def test_readme_layout_table_names_existing_paths():
    root = Path(__file__).resolve().parents[1]
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    paths = re.findall(r"^\| `([^`]+)`", layout, flags=re.M)
    assert len(paths) >= 6
    for path in paths:
        assert (root / path.rstrip("/")).exists(), path
