"""requirements.lock pins every range of requirements.txt, and the venv runs those versions.

`make test` and `make book` install from the lock (`make lock` regenerates it with
pip-tools). An edit to requirements.txt that is not followed by `make lock` fails here.
"""

from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


LOCKED = {canonicalize_name(r.name): r for r in _requirements(ROOT / "requirements.lock")}
WANTED = _requirements(ROOT / "requirements.txt")


def test_every_locked_line_is_one_exact_version():
    for name, req in LOCKED.items():
        (spec,) = req.specifier
        assert spec.operator == "==" and "*" not in spec.version, f"{name}: {req}"
    assert len(LOCKED) > 100  # the whole tree, not only the direct requirements


@pytest.mark.parametrize("req", WANTED, ids=lambda r: r.name)
def test_each_requirement_is_locked_within_its_range(req):
    locked = LOCKED.get(canonicalize_name(req.name))
    assert locked is not None, f"{req.name} is not in requirements.lock: run `make lock`"
    (spec,) = locked.specifier
    assert req.specifier.contains(Version(spec.version), prereleases=True), (
        f"requirements.lock has {req.name}=={spec.version}, outside {req.specifier}: run `make lock`"
    )


@pytest.mark.parametrize("name", ["torch", "numpy", "jupytext", "nbval", "jupyter-book"])
def test_the_environment_runs_the_locked_versions(name):
    (spec,) = LOCKED[canonicalize_name(name)].specifier
    assert Version(version(name)).public == Version(spec.version).public
