# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU wheel of PyTorch by default (small, and what CI uses); GPU users install their own
# build into .venv first (see README), and this pin then leaves it alone if it satisfies torch>=2.2.
TORCH  ?= torch==2.13.0
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: demo test catalogue release benchmarks lab kit learner-env clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -c "import setuptools" 2>/dev/null || $(BIN)/python -m pip install --quiet "setuptools>=68"  # make kit
	touch $@

demo: $(VENV)/.installed
	.ci/install-debian bubblewrap
	$(BIN)/workbook demo

# Two workers, a test file each at a time: most of the suite waits on nbgrader and its kernels.
test: $(VENV)/.installed
	.ci/install-debian bubblewrap postgresql chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Every catalogued answer through a real nbgrader autograde (make test grades a covering sample of them).
catalogue: $(VENV)/.installed
	.ci/install-debian bubblewrap
	$(BIN)/python -m autograder.catalogue

release: $(VENV)/.installed
	$(BIN)/workbook release

benchmarks: $(VENV)/.installed
	for b in benchmarks/*.py; do echo "# $$b"; $(BIN)/python $$b || exit 1; done

lab: $(VENV)/.installed
	$(BIN)/workbook lab

# The learner kit, dist/kit/: the learner wheel (the `workbook` package only), the release notebooks and a
# README for learners; refused if anything in it holds reference code.
kit: $(VENV)/.installed
	$(BIN)/workbook kit

# The kit installed into a learner's environment (build/learner-venv: PyTorch and the kit only; made once).
learner-env: $(VENV)/.installed
	$(BIN)/workbook kit --venv build/learner-venv

clean:
	rm -rf demo dist .pytest_cache
