"""The shipped real data: loaders against an independent read of the CSV files."""

import csv
import doctest
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mdn_src
from mdn_src.problems import datasets
from mdn_src.problems.datasets import GEYSER_CODES, load_geyser, load_geyser_table, load_mcycle

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "mdn_src" / "problems" / "data"


def _columns(name: str) -> dict[str, list[float]]:
    """The file's columns by name, read with the csv module (the reference)."""
    with open(DATA / name, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {key: [float(r[key]) for r in rows] for key in rows[0]}


def test_files_match_the_checksums_in_the_readme():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    listed = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    assert set(listed) == {"geyser.csv", "mcycle.csv"}
    for name, digest in listed.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest


def test_geyser_table_matches_the_file():
    ref = _columns("geyser.csv")
    waiting, duration = load_geyser_table()
    assert waiting.dtype == duration.dtype == np.float64
    np.testing.assert_array_equal(waiting, ref["waiting"])
    np.testing.assert_array_equal(duration, ref["duration"])
    assert waiting.shape == (299,)
    coded = [d for d in ref["duration"] if d in (2.0, 3.0, 4.0)]
    assert len(coded) == 78


def test_geyser_keep_gives_every_consecutive_pair():
    d = _columns("geyser.csv")["duration"]
    x, t = load_geyser(coded="keep", dtype=np.float64)
    assert x.shape == t.shape == (298, 1)
    np.testing.assert_array_equal(x[:, 0], d[:-1])
    np.testing.assert_array_equal(t[:, 0], d[1:])


def test_geyser_drop_removes_exactly_the_pairs_with_a_code():
    d = _columns("geyser.csv")["duration"]
    expected = [
        (a, b)
        for a, b in zip(d[:-1], d[1:], strict=True)
        if a not in GEYSER_CODES and b not in GEYSER_CODES
    ]
    x, t = load_geyser(dtype=np.float64)
    assert x.shape == (len(expected), 1) == (194, 1)
    np.testing.assert_array_equal(np.c_[x, t], expected)
    assert not np.isin(np.c_[x, t], GEYSER_CODES).any()


def test_geyser_is_bimodal_after_a_long_eruption():
    # The claim the chapter builds on, checked on the raw numbers: after a short eruption
    # (< 3 min) the next is long; after a long one both kinds follow.
    x, t = load_geyser(dtype=np.float64)
    after_short = t[x < 3]
    after_long = t[x >= 3]
    assert (after_short >= 3).mean() > 0.9
    assert 0.2 < (after_long < 3).mean() < 0.8


def test_mcycle_matches_the_file_and_is_sorted():
    ref = _columns("mcycle.csv")
    times, accel = load_mcycle(dtype=np.float64)
    assert times.shape == accel.shape == (133, 1)
    np.testing.assert_array_equal(times[:, 0], ref["times"])
    np.testing.assert_array_equal(accel[:, 0], ref["accel"])
    assert (np.diff(times[:, 0]) >= 0).all()


def test_float32_is_the_default_and_rounds_float64():
    x32, t32 = load_mcycle()
    x64, t64 = load_mcycle(dtype=np.float64)
    assert x32.dtype == t32.dtype == np.float32
    np.testing.assert_array_equal(x32, x64.astype(np.float32))
    assert load_geyser()[0].dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.float16, "complex128"])
def test_other_dtypes_raise(dtype):
    with pytest.raises(TypeError, match="dtype"):
        load_mcycle(dtype=dtype)
    with pytest.raises(TypeError, match="dtype"):
        load_geyser(dtype=dtype)


def test_bad_coded_raises():
    with pytest.raises(ValueError, match="coded must be one of"):
        load_geyser(coded="impute")


def test_damaged_file_raises(monkeypatch):
    monkeypatch.setitem(datasets.FILES, "mcycle.csv", (("times", "accel"), 134))
    with pytest.raises(ValueError, match="mcycle.csv: expected 134"):
        load_mcycle()
    monkeypatch.setitem(datasets.FILES, "mcycle.csv", (("time", "accel"), 133))
    with pytest.raises(ValueError, match="expected the columns"):
        load_mcycle()


def test_loads_from_any_working_directory(tmp_path):
    code = "from mdn_src import load_mcycle, load_geyser; print(load_mcycle()[0].shape, load_geyser()[0].shape)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "(133, 1) (194, 1)"


def test_package_data_lists_the_files():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    assert find["include"] == ["mdn_src*"] and find["namespaces"] is True  # finds data/
    patterns = config["tool"]["setuptools"]["package-data"]["mdn_src.problems.data"]
    shipped = {p.name for p in DATA.iterdir()}
    matched = {p.name for pattern in patterns for p in DATA.glob(pattern)}
    assert {"geyser.csv", "mcycle.csv", "README.md"} <= matched == shipped


def test_public_names_and_docstring_examples():
    for name in datasets.__all__:
        assert name in mdn_src.__all__
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for test in finder.find(datasets, globs={"np": np, **vars(datasets)}):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
