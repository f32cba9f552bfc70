# Every target creates and reuses .venv on its own: a fresh machine needs only
# python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := constraints-dev.txt
BACKENDS := jax tensorflow torch
DEMO_BACKEND ?= $(or $(KERAS_BACKEND),jax)

.PHONY: demo test test-jax test-tensorflow test-torch lint bench docs dist dist-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.demo-$(DEMO_BACKEND): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[demo,$(DEMO_BACKEND)]"
	touch $@

$(VENV)/.test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[dev,jax,tensorflow,torch]"
	touch $@

# The docs' figures are drawn at build time by coolkeras' own code (the demo
# trains on JAX): the docs need the demo's packages and a backend too.
$(VENV)/.docs: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[docs,demo,jax]"
	touch $@

demo: $(VENV)/.demo-$(DEMO_BACKEND)
	KERAS_BACKEND=$(DEMO_BACKEND) $(BIN)/coolkeras demo

# One pytest process per backend (Keras fixes the backend at import), then ruff.
test: $(VENV)/.test
	@status=0; summary=""; \
	for backend in $(BACKENDS); do \
	  echo "=== KERAS_BACKEND=$$backend"; \
	  KERAS_BACKEND=$$backend $(BIN)/python -m pytest -q \
	    --junit-xml=$(VENV)/junit-$$backend.xml; rc=$$?; \
	  [ $$rc -eq 0 ] || status=1; \
	  summary="$$summary\n$$backend: $$($(BIN)/python scripts/junit_summary.py $(VENV)/junit-$$backend.xml)"; \
	done; \
	echo "=== ruff"; $(BIN)/ruff check . || status=1; \
	printf "=== summary$$summary\n"; exit $$status

test-%: $(VENV)/.test
	KERAS_BACKEND=$* $(BIN)/python -m pytest -q

lint: $(VENV)/.test
	$(BIN)/ruff check .

bench: $(VENV)/.test
	@for script in bench/*.py; do \
	  echo "=== $$script"; KERAS_BACKEND=$${KERAS_BACKEND:-jax} $(BIN)/python $$script || exit 1; \
	done

# The docs site (mkdocs.yml, docs/) into site/; any warning fails the build.
docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 KERAS_BACKEND=jax $(BIN)/mkdocs build --strict

# Release checks, not part of `make test`: build sdist + wheel into dist/ and
# check their metadata; then install the wheel into a clean temporary venv and
# run the demo from outside the repository, so the source tree is not imported.
dist: $(VENV)/.test
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

dist-check: dist
	@set -e; version=$$(sed -n 's/^__version__ = "\(.*\)"/\1/p' coolkeras/_version.py); \
	wheel="$(CURDIR)/dist/coolkeras-$$version-py3-none-any.whl"; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "=== clean venv in $$tmp, installing $$wheel[jax,demo]"; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/pip" install --quiet --upgrade pip; \
	"$$tmp/venv/bin/pip" install --quiet -c "$(CURDIR)/$(CONSTRAINTS)" "$$wheel[jax,demo]"; \
	cd "$$tmp"; export KERAS_BACKEND=jax; \
	"$$tmp/venv/bin/python" -c "import coolkeras; print('imported', coolkeras.__version__, 'from', coolkeras.__file__)"; \
	"$$tmp/venv/bin/coolkeras" demo --epochs 1 --output "$$tmp/demo"; \
	ls "$$tmp/demo"; echo "=== dist-check passed: coolkeras $$version wheel installs and runs the demo"

clean:
	rm -rf $(VENV) build dist *.egg-info
