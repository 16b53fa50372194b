# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8080

.PHONY: install system-deps demo test lint bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Debian packages the browser tests need (Chromium, CJK/emoji fonts): installed if missing
system-deps:
	scripts/system-deps

# two pytest-xdist workers: most of the suite's time is waiting (real processes, Telegram's pacing, long
# polls), so two at once roughly halve it, on CI's two cores as well; each worker has its own sandboxes,
# tmp dirs and PostgreSQL cluster. Plain `pytest` (one process) runs the same tests.
test: system-deps lint
	$(BIN)/pytest -n 2

demo: $(STAMP)
	$(BIN)/servicebot demo --port $(PORT)

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	SERVICEBOT_SOAK=1 $(BIN)/pytest -m soak -s tests

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
