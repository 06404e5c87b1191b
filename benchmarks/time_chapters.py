"""How long each chapter takes to execute, in reading order, from an empty model cache.

A learner who opens the chapters in order starts with no trained models: chapter 7 trains
the three models that chapters 8 and 9 then load from the cache (``mdn_src.fit_cached``).
This script executes every notebook of ``book/`` in that order, in one fresh temporary
cache, and prints each chapter's wall-clock time (the notebooks run on one thread; run it
on a quiet machine). It executes copies: the committed notebooks are not touched.

Run: ``make time-chapters``, or
``.venv/bin/python benchmarks/time_chapters.py [book/07_training_the_mdn.ipynb ...]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parent.parent / "book"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["MDN_SRC_CACHE"] = cache
        total = 0.0
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(
                nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}
            ).execute()
            seconds = time.perf_counter() - start
            total += seconds
            print(f"{seconds:6.1f} s  {path.name}", flush=True)
        print(f"{total:6.1f} s  in all")


if __name__ == "__main__":
    main()
