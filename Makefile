# AnBao: `make demo` serves a live demo event, `make test` runs the test suite.
# Both set everything up on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo serve test lint bench clean

WEB    := src/anbao/web
NODE_STAMP := $(WEB)/node_modules/.installed-stamp

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	# JuPedSim without its GUI dependencies (pyside6, vtk: 1.2 GB); it needs only numpy, shapely, deprecated
	$(BIN)/python -m pip install -q --no-deps jupedsim==1.4.2
	touch $(STAMP)

# front-end libraries (Leaflet, ECharts) from npm, exactly as locked; the app serves them, no CDN
$(NODE_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

demo: install
	$(BIN)/anbao demo

serve: install
	$(BIN)/anbao serve

test: install
	$(BIN)/python -m pytest -n auto

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(WEB)/node_modules/.bin/biome lint $(WEB)
	$(BIN)/bandit -c pyproject.toml -q -r src
	@# known vulnerabilities of the locked packages; the database is online: without it, a notice and no failure
	@out=$$($(BIN)/pip-audit -r requirements.lock --no-deps --disable-pip --progress-spinner off 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] && echo "$$out" | grep -qiE "ConnectionError|Max retries|resolve|timed out|unreachable"; then \
	  echo "NOTICE: pip-audit could not reach the vulnerability database: requirements.lock was NOT audited"; \
	elif [ $$rc -ne 0 ]; then echo "$$out"; exit $$rc; \
	elif n=$$(echo "$$out" | grep -c "could not be audited"); [ $$n -gt 0 ]; then \
	  echo "NOTICE: pip-audit could not look up $$n locked packages (vulnerability database unreachable?)"; \
	else echo "$$out" | grep -v "^WARNING"; fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules
