# The two commands of the archive: `make run` and `make test` (README).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3
# Debian packages: libmagic (content detection), a CJK font (PDF certificates, screenshots),
# antiword (old binary Word text), Chromium (browser tests; Playwright drives Debian's build,
# never downloads its own), Tesseract with its Chinese and English data (OCR of scans),
# OpenLDAP's slapd and its tools (directory sign-in tests start their own server).
RUN_PACKAGES  := libmagic1 fonts-wqy-microhei antiword tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng
TEST_PACKAGES := chromium postgresql-client slapd ldap-utils

.PHONY: run test lint catalogue screenshots system-packages test-packages clean-storage

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

system-packages:
	@missing=""; for p in $(RUN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

# slapd's package asks debconf questions: answered with the defaults (the tests bring their own
# configuration and never use the system's server).
test-packages: system-packages
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; fi

run: $(STAMP) system-packages
	$(BIN)/archive -c development.ini init --demo
	$(BIN)/pserve development.ini

lint: $(STAMP)
	$(BIN)/ruff check archive_app tests $(wildcard bench/*.py)
	$(BIN)/ruff format --check archive_app tests $(wildcard bench/*.py)
	$(BIN)/lint-imports

# The whole suite on SQLite, then again on PostgreSQL when ARCHIVE_TEST_POSTGRES_URL is set,
# each pass on WORKERS processes (pytest-xdist, a test file at a time per worker: a module's
# fixtures are built once; in the order tests/conftest.py gives, the longest files first,
# where xdist would reorder them by their number of tests); each worker has its own temporary
# folder, storage, SQLite files and PostgreSQL database (tests/conftest.py). One pass after
# the other keeps both cores busy to the end of each, where two passes side by side left one
# core idle while the longer finished alone.
WORKERS     ?= 2
XDIST       := -n $(WORKERS) --dist loadfile --no-loadscope-reorder
# Run on the SQLite pass only: the disk-full tests keep SQLite on a small tmpfs by design; the
# real corpus, the demo archive and the browser journeys test files, formats and pages over
# the services the functional tests run on both databases (and take minutes).
SQLITE_ONLY := tests/functional/cli/test_cli_disk_full.py tests/browser \
               tests/functional/search/test_realdocs_corpus.py tests/functional/test_demo_data.py
# The tests' folders (storage, indexes, SQLite files, Chromium's profiles) on a RAM
# filesystem where the machine has a roomy one: on this project's disk (ext4 mounted with
# `discard`), the fsyncs and unlinks of some 15,000 files cost the SQLite pass a tenth of its
# time. No test depends on the disk: the crash tests kill processes (the page cache survives
# that as the disk does) and the disk-full tests mount tmpfs filesystems of their own.
TEST_TMP    := $(shell [ -w /dev/shm ] && \
                 [ "$$(df --output=avail -k /dev/shm | tail -n 1)" -gt 4000000 ] \
                 && echo /dev/shm || echo /tmp)
SQLITE_BASETEMP := $(TEST_TMP)/archive-test-sqlite
PG_BASETEMP := $(TEST_TMP)/archive-test-postgres
# The tests start hundreds of Python processes (commands, extraction children): each would
# compile the archive's modules again where the environment says not to keep bytecode
# (PYTHONDONTWRITEBYTECODE, set on the CI machine), about 0.1 s a process. The caches go
# to __pycache__ folders, which git ignores.
test: export PYTHONDONTWRITEBYTECODE :=
test: export TMPDIR := $(TEST_TMP)
test: $(STAMP) test-packages lint
	@echo "== on SQLite"; $(BIN)/pytest -q $(XDIST) --basetemp=$(SQLITE_BASETEMP); sqlite=$$?; \
	if [ -n "$$ARCHIVE_TEST_POSTGRES_URL" ]; then \
	  echo "== on PostgreSQL (the SQLite pass alone runs $(SQLITE_ONLY))"; \
	  ARCHIVE_TEST_DATABASE=postgres $(BIN)/pytest -q -p no:cacheprovider $(XDIST) \
	    --basetemp=$(PG_BASETEMP) $(addprefix --ignore=,$(SQLITE_ONLY)); pg=$$?; \
	else echo "ARCHIVE_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; pg=0; fi; \
	[ $$sqlite -eq 0 ] && [ $$pg -eq 0 ]

# The message catalogue: every msgid in the code and templates extracted (lingua), merged
# into the Chinese .po (new ones left to translate), and the .mo compiled beside it (both
# committed; tests/unit/test_catalogue.py fails when either falls behind).
LOCALE := archive_app/locale
catalogue: $(STAMP)
	$(BIN)/pot-create -d archive --no-location -s -o $(VENV)/archive.pot \
	  $$(find archive_app -name '*.py' -o -name '*.pt' | sort)
	$(BIN)/pybabel update -i $(VENV)/archive.pot -D archive -d $(LOCALE) -l zh_CN \
	  --no-fuzzy-matching --ignore-obsolete --width 100
	$(BIN)/pybabel compile -D archive -d $(LOCALE) -l zh_CN --statistics

# The README's screenshots, taken by the browser tests (a plain `make test` keeps them in
# each test's temporary folder and leaves the work tree as it was).
screenshots: $(STAMP) test-packages
	ARCHIVE_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/browser

clean-storage:
	find storage -mindepth 1 ! -name README.md -exec rm -rf {} +
