# The README's commands. Each target sets up what it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONUNBUFFERED = 1

.PHONY: play test train evaluate bench setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[model,explainer,image-server,test]'
	touch $@

play: setup  ## the game, locally (for now: five rounds against the AI in the terminal)
	$(PY) -m model.demo

test: setup  ## the whole test suite
	$(PY) -m pytest

train: setup  ## train, export and evaluate the classifier (CPU, under an hour)
	$(PY) -m model.train

evaluate: setup  ## re-evaluate the committed export on its test split
	$(PY) -m model.evaluate

bench: setup  ## model latency benchmark
	$(PY) benchmarks/model_latency.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
