# Every target creates and reuses .venv on its own: a fresh machine needs only
# python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := constraints-dev.txt
BACKENDS := jax tensorflow torch
DEMO_BACKEND ?= $(or $(KERAS_BACKEND),jax)

.PHONY: demo test test-jax test-tensorflow test-torch lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.demo-$(DEMO_BACKEND): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[demo,$(DEMO_BACKEND)]"
	touch $@

$(VENV)/.test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[dev,jax,tensorflow,torch]"
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

clean:
	rm -rf $(VENV) build dist *.egg-info
