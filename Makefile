# Two entry points: `make run` (demo home) and `make test` (everything CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := $(shell grep -v '^\#' .ci/apt-packages.txt)
# What the hub itself uses at run time: spoken replies, and the built-in MQTT broker.
RUN_PACKAGES := espeak-ng mosquitto

.PHONY: run test lint typecheck system-deps run-deps apt-install clean

$(STAMP): setup.cfg pyproject.toml
	@# Debian's own python3 needs python3-venv for this; pyenv and python.org builds do not.
	test -x $(PY) || python3 -m venv $(VENV) || { rm -rf $(VENV); \
	  $(MAKE) --no-print-directory apt-install PACKAGES=python3-venv && python3 -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

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

run: run-deps $(STAMP)
	$(VENV)/bin/hearth run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: system-deps $(STAMP) lint typecheck
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache test-artifacts
