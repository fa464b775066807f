# Two commands for a newcomer: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
KB := $(VENV)/bin/kb
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install ensure-chromium axe demo test lint format eval eval-extraction bench corpus clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE set (as on the shared machines) Python
# would otherwise compile every module of every process again (`kb search` 1.1 s instead of 0.4).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --compile-bytecode --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

demo: install
	$(KB) build
	@for q in "indicators of labour exploitation" "идентификация жертв" "129-1" "adam söwdasy"; do \
		echo; echo "==> kb search \"$$q\" --limit 3"; $(KB) search "$$q" --limit 3; \
	done

# The browser tests drive Debian's Chromium (never a downloaded one). Installed here when
# missing and we are root; otherwise those tests skip and say why.
ensure-chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
		else echo "chromium is not installed and we are not root: the browser tests will be skipped"; fi; }

# axe-core for the browser tests' accessibility checks is checked in (tests/browser/axe/,
# MPL-2.0, with its licence) so that a clone needs no network; this fetches it again from
# the npm registry: `make axe AXE_VERSION=4.14.1`.
AXE_VERSION ?= 4.14.1
axe:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
		tar -xzf axe-core-$(AXE_VERSION).tgz && \
		cp package/axe.min.js package/LICENSE package/LICENSE-3RD-PARTY.txt $(CURDIR)/tests/browser/axe/ && \
		rm -rf $$tmp && echo "axe-core $(AXE_VERSION) in tests/browser/axe/"

test: install ensure-chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

eval: install
	$(VENV)/bin/python -m tests.relevance.evaluate
	$(VENV)/bin/python -m bench.extraction

# Main-content extraction on ../shared/extraction-bench (skipped with a message when absent):
# prints `extraction: F1=… P=… R=…`, as a folder build and with the pages grouped by site.
eval-extraction: install
	$(VENV)/bin/python -m bench.extraction

# Benchmarks at one corpus size (generated and cached under bench/work), beside the
# baselines (SQLite FTS5, poppler's pdftotext): `make bench`, `make bench SIZE=10000`.
# Writes bench/results.md and bench/results.json. BENCH_ARGS=--prefect-runners adds the
# Prefect task-runner experiment (slow: it starts several Prefect servers).
SIZE ?= 1000
BENCH_ARGS ?=
bench: install
	@command -v pdftotext >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get install -y poppler-utils || { apt-get update && apt-get install -y poppler-utils; }; \
		else echo "pdftotext is not installed and we are not root: the poppler baseline is skipped"; fi; }
	$(VENV)/bin/python -m bench.run --size $(SIZE) $(BENCH_ARGS)

corpus: install
	$(VENV)/bin/python corpus/make_corpus.py

clean:
	rm -rf $(VENV) $(TOOLS) data .pytest_cache
