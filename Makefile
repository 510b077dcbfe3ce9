# hrdp: the two commands the README opens with, and their helpers.
#   make demo   create .venv and classify sample_mail/ with the bundled zone (no network)
#   make test   provision what the tests need (Debian packages as root), then lint and test
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
CORPUS  ?= $(abspath ../shared/corpus)
APT_PKGS := unbound spamassassin spamc rspamd

.PHONY: demo test provision lint check-docs docs clean

$(BIN)/python:
	@$(PY) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    rm -rf $(VENV); apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq python3-venv >/dev/null && $(PY) -m venv $(VENV); \
	  else echo "python3 -m venv failed: install python3-venv" >&2; exit 1; fi; }

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,dask]'
	@touch $@

demo: $(VENV)/.installed
	@$(BIN)/hrdp classify --dns-zone sample_mail/zone.db sample_mail/; status=$$?; \
	  echo "hrdp exit status $$status (3 = some messages could not be read or fully checked)" >&2; \
	  [ $$status -le 4 ]

# Debian packages the tests use as real components (a DNS server for the DNS tests).
provision:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run make test as root, or install them)" >&2; fi; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check hrdp tests bench
	$(BIN)/mypy

test: provision $(VENV)/.installed lint
	HRDP_CORPUS=$${HRDP_CORPUS:-$$( [ -d $(CORPUS) ] && echo $(CORPUS) )} $(BIN)/pytest -q

# Regenerate docs/usage.md from --help (tests/test_docs.py fails when it drifts).
docs: $(VENV)/.installed
	$(BIN)/python -m tests.gen_usage > docs/usage.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
