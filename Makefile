# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU wheel of PyTorch by default (small, and what CI uses); GPU users install their own
# build into .venv first (see README), and this pin then leaves it alone if it satisfies torch>=2.2.
TORCH  ?= torch==2.13.0
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: demo test release benchmarks lab clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/workbook demo

# Two workers, a test file each at a time: most of the suite waits on nbgrader and its kernels.
test: $(VENV)/.installed
	$(BIN)/python -m pytest -n 2 --dist loadfile

release: $(VENV)/.installed
	$(BIN)/workbook release

benchmarks: $(VENV)/.installed
	for b in benchmarks/*.py; do echo "# $$b"; $(BIN)/python $$b || exit 1; done

lab: $(VENV)/.installed
	$(BIN)/workbook lab

clean:
	rm -rf demo .pytest_cache
