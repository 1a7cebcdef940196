# Two entry points: `make run` (demo home) and `make test` (everything CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.test-installed
RUN_STAMP := $(VENV)/.run-installed
APT_PACKAGES := $(shell grep -v '^\#' .ci/apt-packages.txt)
# What the hub itself uses at run time: spoken replies, and the built-in MQTT broker.
RUN_PACKAGES := espeak-ng mosquitto

.PHONY: run test lint typecheck system-deps run-deps node-deps apt-install lock outdated clean

# Exact versions with hashes (requirements/*.txt, made by `make lock`): a fresh machine installs
# what CI tested, never whatever was released since.
RUN_LOCK := requirements/run.txt
TEST_LOCK := requirements/test.txt
UV := uv==0.13.9
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --custom-compile-command 'make lock' -q

$(PY):
	@# Debian's own python3 needs python3-venv for this; pyenv and python.org builds do not.
	python3 -m venv $(VENV) || { rm -rf $(VENV); \
	  $(MAKE) --no-print-directory apt-install PACKAGES=python3-venv && python3 -m venv $(VENV); }

$(RUN_STAMP): $(PY) $(RUN_LOCK) setup.cfg pyproject.toml
	$(PY) -m pip install -q --require-hashes --no-deps -r $(RUN_LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $@

$(STAMP): $(PY) $(TEST_LOCK) setup.cfg pyproject.toml
	$(PY) -m pip install -q --require-hashes --no-deps -r $(TEST_LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $@ $(RUN_STAMP)

system-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

run-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(RUN_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: run-deps $(RUN_STAMP)
	$(VENV)/bin/hearth run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Real MicroPython for tests/firmware, pinned by tests/firmware/node/package-lock.json.
# nodesource's nodejs carries npm; Debian's does not, so npm is installed only when missing.
node-deps:
	@command -v npm >/dev/null || $(MAKE) --no-print-directory apt-install PACKAGES=npm
	@test -f test-artifacts/node/.installed || { mkdir -p test-artifacts/node && \
	  cp tests/firmware/node/package.json tests/firmware/node/package-lock.json test-artifacts/node/ && \
	  npm ci --silent --no-audit --no-fund --prefix test-artifacts/node && \
	  touch test-artifacts/node/.installed; }

# CI=true turns any skipped test into a failure (tests/conftest.py): CI runs everything.
test: system-deps node-deps $(STAMP) lint typecheck
	$(PY) -m pytest -q

# Refresh the lock files from setup.cfg (newest versions that satisfy it).
lock: $(PY)
	$(PY) -m pip install -q '$(UV)'
	$(VENV)/bin/uv pip compile setup.cfg requirements/build.in --extra test $(LOCK_FLAGS) -o $(TEST_LOCK) $(UPGRADE)
	$(VENV)/bin/uv pip compile setup.cfg requirements/build.in -c $(TEST_LOCK) $(LOCK_FLAGS) -o $(RUN_LOCK)

# Try the newest releases in a scratch venv: print what changed, then run the suite there.
outdated: $(PY)
	$(PY) -m pip install -q '$(UV)'
	$(PY) requirements/outdated.py --uv $(VENV)/bin/uv --lock $(TEST_LOCK) $(OUTDATED_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache test-artifacts
