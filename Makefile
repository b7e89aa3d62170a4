# `make report` and `make test` set everything up on a fresh machine:
# Debian packages (TeX Live, poppler, Fashion-MNIST) when missing, a .venv with the pinned requirements.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
APT_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-latex-extra latexmk lmodern poppler-utils dataset-fashion-mnist
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PROFILE ?= quick
ANSWERS ?=

.PHONY: all setup sysdeps report test bench hardening clean

all: test

setup: sysdeps $(STAMP)

sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

report: setup
	$(PY) main.py build-report --profile $(PROFILE) $(if $(ANSWERS),--answers $(ANSWERS))

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) -m bench.run

hardening: setup
	$(PY) -m bench.hardening

clean:
	rm -rf build .pytest_cache
