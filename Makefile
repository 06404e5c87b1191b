# Two commands from a fresh clone: `make book` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))

.PHONY: help setup lock book test notebooks notebook lab bench profile time-chapters models mutation lint clean
help:
	@echo "make book       build the site into _build/html (sets up .venv first)"
	@echo "make test       unit tests + nbval over every notebook"
	@echo "make notebooks  re-sync the .py twins and re-execute every notebook in place"
	@echo "make notebook NB=book/X.py   the same for one chapter"
	@echo "make lab        open JupyterLab on the book (the .py twins open as notebooks)"
	@echo "make bench      run the benchmark quoted in the README"
	@echo "make profile    where one training step's time goes, by share (quoted in the README)"
	@echo "make time-chapters   each chapter's execution time, in order, from an empty cache"
	@echo "make models     retrain the models the book ships (after a change to training code)"
	@echo "make mutation   plant faults in mdn_src and report, per module, how many the unit tests catch"
	@echo "make lint       ruff check + format check"
	@echo "make lock       re-resolve requirements.txt's ranges into requirements.lock"

# Everything is installed at the exact versions of requirements.lock, which pip-tools
# resolves from requirements.txt's ranges (`make lock`): a new release of jupytext, numpy or
# Sphinx reaches the book only through a reviewed change of the lock file.
setup: $(STAMP)
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock -e .
	touch $(STAMP)

# pip-compile runs in a venv of its own, so it never changes the one the book runs in. The
# lock names torch 2.13.0 without the local label of the wheel found on this machine (+cpu):
# `torch==2.13.0` accepts the CPU wheel and PyPI's alike.
LOCK_VENV := .venv-lock
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet "pip-tools>=7.5,<8")
	$(LOCK_VENV)/bin/pip-compile --quiet --upgrade --strip-extras --no-emit-find-links \
		--no-emit-index-url --output-file requirements.lock requirements.txt
	sed -i 's/^torch==\([0-9.]*\)+cpu/torch==\1/' requirements.lock

# jupyter-cache keys on a notebook's own cells: an edit in mdn_src would not re-run the
# chapters. Clear the cache whenever the library's source differs from the last build.
SRC_HASH = $(shell $(PYTHON) -c "import hashlib, pathlib; files = sorted(pathlib.Path('mdn_src').rglob('*.py')) + [pathlib.Path('requirements.txt')]; print(hashlib.sha256(b''.join(f.read_bytes() for f in files)).hexdigest()[:16])")
book: $(STAMP)
	@mkdir -p _build
	@if [ "$$(cat _build/.mdn_src-hash 2>/dev/null)" != "$(SRC_HASH)" ]; then \
		echo "mdn_src changed since the last build: re-executing every chapter"; \
		rm -rf _build/.jupyter_cache; fi
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "$(SRC_HASH)" > _build/.mdn_src-hash

# One worker per core, each file (a notebook's cells run in order in one kernel) on one
# worker; chapters that need the same trained model wait for each other (fit_cached).
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile --nbval --nbval-current-env

# Jupytext's --sync goes by timestamps; we pair from the .py twin (the file people edit)
# explicitly, then execute the notebook in place so its outputs are nbval's new baseline.
notebooks: $(STAMP)
	@for py in $(sort $(wildcard book/*.py)); do \
		echo "== $$py"; \
		$(BIN)/jupytext --quiet --to ipynb --update "$$py" && \
		$(BIN)/jupyter execute --inplace "$${py%.py}.ipynb" && \
		$(BIN)/python -c "$$STRIP_TIMING" "$${py%.py}.ipynb" || exit 1; \
	done

# One chapter: `make notebook NB=book/07_training_the_mdn.py`.
notebook: $(STAMP)
	$(BIN)/jupytext --quiet --to ipynb --update "$(NB)"
	$(BIN)/jupyter execute --inplace "$(NB:.py=.ipynb)"
	$(BIN)/python -c "$$STRIP_TIMING" "$(NB:.py=.ipynb)"

# nbclient stamps every cell with execution times; drop them so a re-run that changes no
# output changes no file.
export STRIP_TIMING := import nbformat, sys; nb = nbformat.read(sys.argv[1], 4); \
	[c.metadata.pop("execution", None) for c in nb.cells]; nbformat.write(nb, sys.argv[1])

# JupyterLab is installed on first use (CI does not need it). The overrides file makes a
# double-click on a .py twin open it as a notebook (Jupytext's viewer), in this venv only.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet "jupyterlab>=4,<5"
	mkdir -p $(LAB_SETTINGS)
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' > $(LAB_SETTINGS)/overrides.json
	$(BIN)/jupyter lab book

# The benchmarks time the machine's fastest code paths, whatever the caller's environment pins.
bench: $(STAMP)
	env -u ATEN_CPU_CAPABILITY -u MKL_CBWR $(BIN)/python benchmarks/bench_mdn.py

time-chapters: $(STAMP)
	$(BIN)/python benchmarks/time_chapters.py

# The models chapters 6-9 load from book/models/cache (fit_cached's shipped=): keyed on the
# training source, so any change to it needs them again (tests/test_shipped_models.py says so).
models: $(STAMP)
	$(BIN)/python benchmarks/ship_models.py

profile: $(STAMP)
	env -u ATEN_CPU_CAPABILITY -u MKL_CBWR $(BIN)/python benchmarks/profile_step.py

# Issue 23's mutation score: a seeded sample of 25 planted faults per module (all of them:
# MUTATION_ARGS="--max-per-module 0"), each run against the unit tests that execute its line.
MUTATION_ARGS ?= --max-per-module 25 --seed 0
mutation: $(STAMP)
	@mkdir -p _build
	$(BIN)/python tests/mutation_score.py --jobs 2 $(MUTATION_ARGS) --out _build/mutation.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf _build
