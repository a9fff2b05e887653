# The two entry points: `make demo` runs the main job, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Torch and torchvision must be a matching pair; other pairs fail at import.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: install demo test lint generate check-generated

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_PINS)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/python scripts/demo.py

generate: install
	scripts/gen_protos.sh

check-generated: install
	scripts/check_generated.sh

lint: install
	$(BIN)/buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install lint check-generated
	scripts/install_system_deps.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)
