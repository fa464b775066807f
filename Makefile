# Two commands for a newcomer: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
KB := $(VENV)/bin/kb
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test lint format eval bench corpus clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

demo: install
	$(KB) build
	@for q in "indicators of labour exploitation" "идентификация жертв" "129-1" "adam söwdasy"; do \
		echo; echo "==> kb search \"$$q\" --limit 3"; $(KB) search "$$q" --limit 3; \
	done

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

eval: install
	$(VENV)/bin/python -m tests.relevance.evaluate

corpus: install
	$(VENV)/bin/python corpus/make_corpus.py

clean:
	rm -rf $(VENV) $(TOOLS) data .pytest_cache
