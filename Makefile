# Two commands: `make run` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NAME ?=

.PHONY: run test fuzz bench lint format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/xinfang run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The contract tests at length: every operation as every role, many examples per operation (tests/contract/).
fuzz: $(STAMP)
	XINFANG_FUZZ=long $(BIN)/python -m pytest tests/contract --timeout 0 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m tests.bench $(NAME)

lint: $(STAMP)
	$(BIN)/ruff check service tenants analytics tests
	$(BIN)/ruff format --check service tenants analytics tests
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format service tenants analytics tests
	$(BIN)/ruff check --fix service tenants analytics tests

clean:
	rm -rf $(VENV) .xinfang
