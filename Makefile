# gan-notebooks: the two commands of the README, and what they need.
#   make series   run every notebook headless (executed copies in build/notebooks)
#   make test     lint, unit tests, browser tests, and every notebook under nbval in fast mode
#   make lab      open your working copy of the notebooks (workspace/) in JupyterLab; ARGS="--no-browser --port 8899"
#   make reset NB=02   restore workspace/02_*.ipynb from the committed notebook (your copy kept as .bak)
#   make slides   an offline reveal.js deck of every notebook (build/slides)
PYTHON ?= python3
TORCH_VERSION ?= 2.13.0
OUT ?= build/notebooks
ARGS ?=
NB ?=
NBVAL = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600
# The installs run again only when pyproject.toml changes or for another Python (one stamp per environment).
STAMP = build/.installed-$(shell $(PYTHON) -c "import hashlib, sys; print(hashlib.sha1(sys.prefix.encode()).hexdigest()[:10])")

.PHONY: install series series-inplace test lab reset slides slides-tag

install: $(STAMP)

# torch first, pinned: a range admitting a newer release would pull GBs of CUDA wheels.
$(STAMP): pyproject.toml
	@$(PYTHON) gan_helpers/workspace.py check-env
	$(PYTHON) -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	@mkdir -p build && touch $@

series: install
	$(PYTHON) -m gan_helpers series --out $(OUT)

# Maintainers: regenerate the committed notebooks' outputs with a full-mode run.
series-inplace: install
	$(PYTHON) -m gan_helpers series --full --inplace

test: install
	$(PYTHON) -m ruff check .
	GAN_HELPERS_FAST=1 $(PYTHON) -m pytest tests notebooks $(NBVAL)

lab: install
	$(PYTHON) -m gan_helpers.workspace lab $(ARGS)

reset:
	$(PYTHON) -m gan_helpers.workspace reset $(NB)

# Lecture mode: one offline reveal.js deck per notebook, build/slides/NN_topic.slides.html beside build/slides/assets/.
# The first run needs npm (Node.js) to fetch the pinned reveal.js, MathJax and Font Awesome tarballs into
# build/cache; later runs, and opening the decks, need no network.
slides: install
	$(PYTHON) -m gan_helpers slides --out build/slides --cache build/cache

# Maintainers: rewrite the notebooks' slide metadata from their headings and slides-* tags (commit the result).
slides-tag: install
	$(PYTHON) -m gan_helpers slides --tag
