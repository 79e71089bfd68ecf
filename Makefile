# The README's two commands: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-cluster test-fast lint bench bench-quick clean

$(VENV)/.run-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.run-installed
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(VENV)/.bench-installed: pyproject.toml $(VENV)/.test-installed
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@

run: $(VENV)/.run-installed
	HOST=$(HOST) PORT=$(PORT) $(PY) -m server

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check server tests bench
	$(VENV)/bin/mypy

# Lighthouse for tests/e2e/test_lighthouse.py, at the version in its lock file (npm
# comes with Node; .ci/run installs both from Debian where they are missing).
tests/lighthouse/node_modules/.installed: tests/lighthouse/package-lock.json
	npm ci --prefix tests/lighthouse --no-audit --no-fund --loglevel=error
	touch $@

test: lint tests/lighthouse/node_modules/.installed
	$(VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS)
	$(MAKE) test-cluster

# The integration and fault suites again on a local Redis Cluster of 3 masters and 3
# replicas (tests/support/cluster.py starts it from the installed Valkey). The cluster's
# own tests (failover, faults) start clusters of their own and ran above already.
test-cluster: $(VENV)/.test-installed
	TEST_REDIS_CLUSTER=1 $(VENV)/bin/pytest -p no:cacheprovider -q tests/integration \
		tests/faults --deselect tests/faults/test_cluster_failover.py \
		--deselect tests/faults/test_cluster_faults.py

# While changing pure rules, views or appliers: ruff, the unit tests (no server, no
# Redis) and the JS applier's golden fixtures under Node (run directly, not again through
# tests/unit/test_js_golden.py, which is how `make test` runs them); a few seconds.
test-fast: $(VENV)/.test-installed
	$(VENV)/bin/ruff check server tests bench
	$(VENV)/bin/pytest -p no:cacheprovider -q tests/unit --deselect tests/unit/test_js_golden.py
	node --test tests/js/*.test.mjs

bench: $(VENV)/.bench-installed
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: $(VENV)/.test-installed
	$(PY) -m bench.run --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
