# Knowledge Sidecar: everything a fresh machine needs is installed by these targets.
#   make run    web app + worker on SQLite with demo data (http://127.0.0.1:$${PORT:-8000})
#   make test   every test (installs the venv and Debian's chromium when missing)
#   make bench  the suggestion benchmark (../shared/bench) on the dev sets
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
BENCH := ../shared/bench/run.py
BENCH_SETS := allegro-faq-pl stackfaq-en banking77-en
BENCH_SCALES ?= 10000 100000

.PHONY: install run test lint bench chromium clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

run: install
	@bash dev/run.sh

lint: install
	$(VENV)/bin/ruff check .

test: install chromium lint
	$(PY) -m pytest -q

bench: install
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	@for s in $(BENCH_SETS); do echo "== $$s"; $(PY) $(BENCH) --serve --dataset $$s || exit 1; done
	@for n in $(BENCH_SCALES); do echo "== stackfaq-en --scale $$n"; \
	  $(PY) $(BENCH) --serve --dataset stackfaq-en --scale $$n --limit 300 || exit 1; done

clean:
	rm -rf $(VENV) var dist *.egg-info
