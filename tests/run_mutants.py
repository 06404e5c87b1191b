"""Show that the book's regression still catches a broken result, and passes an unbroken one.

The chapters compare exactly only what is portable and check the rest as claims. That must
not turn them into a test that cannot fail. This script copies the working tree, then:

1. runs the whole of ``make test`` on the unmutated copy in float environment (b) (another
   reader's float path; ``.ci/float-env``), from an empty model cache with the shipped
   models retrained: it must pass;
2. places one mutant at a time in the copy (the data's sine amplitude, and three library
   bugs) and runs the chapters that should notice it, stopping at the first failure: each
   must fail, the data mutant in the exact tier (an output that differs) and the library
   mutants in a checked claim (``ClaimFailed``).

Run: ``.venv/bin/python tests/run_mutants.py`` (CI does; about 8 minutes on 2 cores).
``--skip-clean`` leaves out step 1, ``--only NAME`` runs one mutant.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = ["-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env"]
#: ``make test``'s own command (the Makefile's test recipe).
MAKE_TEST = [*PYTEST, "-n", "auto", "--dist", "loadfile"]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # relative to the root
    old: str  # replaced once; must occur in the file
    new: str
    notebooks: tuple[str, ...]  # the chapters that should notice, in order
    tier: str  # "exact": an output differs; "claim": a checked claim fails

    def apply(self, root: Path) -> None:
        path = root / self.file
        text = path.read_text()
        if self.old not in text:
            raise SystemExit(f"mutant {self.name}: {self.old!r} is no longer in {self.file}")
        path.write_text(text.replace(self.old, self.new, 1))


WALK = ("book/07_training_the_mdn.ipynb", "book/08_sampling_and_prediction.ipynb")
MUTANTS = (
    Mutant(
        "data: the sine's amplitude 0.3 -> 0.31",
        "mdn_src/problems/toy.py",
        "AMPLITUDE = 0.3\n",
        "AMPLITUDE = 0.31\n",
        ("book/02_data.ipynb",),
        "exact",
    ),
    Mutant(
        "loss: the Gaussian's normalising constant log(2 pi) instead of log(2 pi) / 2",
        "mdn_src/mixture/families.py",
        "- 0.5 * D * _LOG_2PI",
        "- D * _LOG_2PI",
        WALK,
        "claim",
    ),
    Mutant(
        "sigma map: softplus(a) + 0.1 where the head's scales are mapped",
        "mdn_src/model.py",
        "        return F.softplus(a)\n",
        "        return F.softplus(a) + 0.1\n",
        WALK,
        "claim",
    ),
    Mutant(
        "gradient: the sign of the closed-form scale gradient flipped",
        "mdn_src/fast/head.py",
        "torch.div(gamma.mul_(d - sq * inv_var), sigma, out=g_sigma)",
        "torch.div(gamma.mul_(sq * inv_var - d), sigma, out=g_sigma)",
        WALK,
        "claim",
    ),
)


def copy_tree(destination: Path) -> None:
    """The files git tracks or would track (the working tree as it is, ignored files left
    out), and the virtual environment linked, not copied."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(ROOT / ".venv")


def run(root: Path, args: list[str], float_env: str, cache: Path) -> tuple[int, str, float]:
    """Run ``python args`` in the copy, in a float environment, with an empty model cache.
    PYTHONPATH puts the copy's mdn_src ahead of the editable install (which points at the
    original tree), in pytest and in every notebook kernel it starts."""
    env = dict(os.environ, PYTHONPATH=str(root), MDN_SRC_CACHE=str(cache))
    env["MDN_SRC_IGNORE_SHIPPED"] = "1"
    command = [str(root / ".ci" / "float-env"), float_env, str(ROOT / ".venv/bin/python"), *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def first_failure(output: str) -> str:
    match = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", output, re.MULTILINE)
    return match.group(1) if match else "(no failed test named)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-clean", action="store_true", help="leave out step 1")
    parser.add_argument("--only", help="run the mutants whose name starts with this")
    options = parser.parse_args()
    mutants = [m for m in MUTANTS if not options.only or m.name.startswith(options.only)]
    ok = True
    with tempfile.TemporaryDirectory(prefix="mdn-mutants-") as scratch:
        scratch = Path(scratch)
        root = scratch / "tree"
        copy_tree(root)
        if not options.skip_clean:
            code, output, seconds = run(root, MAKE_TEST, "b", scratch / "cache-clean")
            summary = output.strip().splitlines()[-1] if output.strip() else ""
            verdict = "passes" if code == 0 else "FAILS"
            print(f"unmutated copy, float environment (b): {verdict} ({seconds:.0f} s): {summary}")
            if code != 0:
                print(output[-6000:])
                ok = False
        for number, mutant in enumerate(mutants):
            pristine = (root / mutant.file).read_text()
            mutant.apply(root)
            cache = scratch / f"cache-mutant-{number}"
            code, output, seconds = run(root, [*PYTEST, "-x", *mutant.notebooks], "a", cache)
            (root / mutant.file).write_text(pristine)
            claim = "ClaimFailed" in output
            exact = "Cell outputs differ" in output or "outputs differ" in output.lower()
            caught = code != 0 and (claim if mutant.tier == "claim" else exact and not claim)
            where = first_failure(output)
            if caught:
                how = "a checked claim" if mutant.tier == "claim" else "the exact tier"
                print(f"mutant {mutant.name}: fails, in {how}, at {where} ({seconds:.0f} s)")
            else:
                ok = False
                print(f"mutant {mutant.name}: NOT caught as expected (exit {code}, {where})")
                print(output[-4000:])
    clean = "" if options.skip_clean else " and the unmutated copy passes in (b)"
    print(f"every mutant fails{clean}" if ok else "MUTATION CHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
