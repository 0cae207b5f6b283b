# gan-notebooks: the two commands of the README, and what they need.
#   make series   run every notebook headless (executed copies in build/notebooks)
#   make test     lint, unit tests, and every notebook under nbval in fast mode
PYTHON ?= python3
TORCH_VERSION ?= 2.13.0
OUT ?= build/notebooks
NBVAL = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600

.PHONY: install series series-inplace test lab

# torch first, pinned: a range admitting a newer release would pull GBs of CUDA wheels.
install:
	$(PYTHON) -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(PYTHON) -m pip install --quiet -e ".[dev]"

series: install
	$(PYTHON) -m gan_helpers series --out $(OUT)

# Maintainers: regenerate the committed notebooks' outputs with a full-mode run.
series-inplace: install
	$(PYTHON) -m gan_helpers series --full --inplace

test: install
	$(PYTHON) -m ruff check .
	GAN_HELPERS_FAST=1 $(PYTHON) -m pytest tests notebooks $(NBVAL)

lab: install
	$(PYTHON) -m jupyter lab notebooks
