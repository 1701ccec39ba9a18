# The README's commands. Each target sets up what it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONUNBUFFERED = 1

.PHONY: play kiosk demo test test-fast translations train evaluate bench bench-services bench-game bench-resilience bench-load bench-show model-server explainer \
        image-server setup system-deps lint docs clean wheels compose-check

# The German texts (gettext, Babel): the .po lives in the repository, the .mo is built here.
CATALOG := dashboard/i18n/de/LC_MESSAGES/messages
setup: $(VENV)/.installed $(CATALOG).mo

$(CATALOG).mo: $(CATALOG).po $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d dashboard/i18n -D messages

translations: setup  ## after changing a visible text: extract them all, update the catalogs
	$(VENV)/bin/pybabel -q extract -F dashboard/i18n/babel.cfg --no-location --sort-output \
	  --project=beat-the-ai -o dashboard/i18n/messages.pot .
	$(VENV)/bin/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i dashboard/i18n/messages.pot \
	  -d dashboard/i18n -D messages

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[model,explainer,image-server,dashboard,stack,test]'
	touch $@

# Debian packages the tests drive for real: nginx (the image server's Docker config), Chromium
# (the browser tests, through Playwright: never `playwright install`), tesseract (the OCR
# that keeps giveaway photos out of the pool), PostgreSQL (the statistics tests' own server),
# Redis (the shared game store: `make play` with PLAY_WORKERS > 1, and its tests) and Prometheus
# (its promtool checks deploy/prometheus.yml).
SYSTEM_PACKAGES := nginx-light chromium tesseract-ocr postgresql redis-server prometheus
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (their tests will be skipped)"; fi; \
	fi

play: setup  ## the whole game locally under supervisord: what dies or hangs is restarted; Ctrl-C stops all
	$(PY) -m stack

kiosk: setup  ## as `make play`, for the fair's big screen: the game and its attract screen only, no menu
	DASHBOARD_KIOSK=1 PLAY_CONSOLE_PORT=$${PLAY_CONSOLE_PORT:-8052} $(PY) -m stack

demo: setup  ## the AI's side of five rounds, in the terminal
	$(PY) -m model.demo

# The suite runs on TEST_WORKERS processes (pytest-xdist), each test module on one of them,
# heaviest first (tests/conftest.py orders them);
# every worker starts its own services on ports of its own (devtools/ports.py).
# Two on this 2-core machine: a third made the same run take 13 min 22 s instead of 8 min 49 s,
# its processes spending 60 % more CPU time fighting for the cores (docs/testing.md).
TEST_WORKERS ?= 2
FAST := not browser and not stack and not slow

test: setup system-deps  ## lint, then the whole test suite
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-fast: setup  ## lint, then the tests without a browser, the launcher or slow services (< 2 min)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "$(FAST)"

lint: setup
	$(VENV)/bin/ruff check .

docs: setup  ## docs/settings.md, generated from the services' settings classes
	$(PY) -m devtools.settings_docs

train: setup  ## train, export and evaluate the classifier (CPU, under an hour)
	$(PY) -m model.train

evaluate: setup  ## re-evaluate the committed export on its test split
	$(PY) -m model.evaluate

bench: setup  ## model latency benchmark
	$(PY) benchmarks/model_latency.py

bench-services: setup  ## back-end services benchmark (bytes per photo, :predict, /explain)
	$(PY) benchmarks/services.py

bench-game: setup system-deps  ## game preparation: parallel vs sequential, "Let's play" → photo
	$(PY) benchmarks/game.py

bench-load: setup system-deps  ## 150-player burst and steady 300, for 1 and 4 dashboard workers and with Redis (quiet machine, ~10 min)
	$(PY) benchmarks/load.py --json .cache/load.json

bench-show: setup system-deps  ## a crowd show: 200 phones answering in one 20 s window, PLAY_WORKERS=4 (quiet machine, ~10 min)
	$(PY) benchmarks/show_load.py --json .cache/show_load.json

bench-resilience: setup  ## each service's restart after SIGKILL/SIGSTOP; home page, back-ends frozen
	$(PY) benchmarks/resilience.py

model-server: setup  ## TF Serving's REST API on 127.0.0.1:8501 (gRPC :8500), the committed model
	$(PY) -m model.serving

explainer: setup  ## Grad-CAM overlays on 127.0.0.1:5001 (needs the model server on :8501)
	$(PY) -m explainer

image-server: setup  ## the photo pool on 127.0.0.1:8081 (prepared from the model's test split first)
	$(PY) -m image_server.prepare
	$(PY) -m image_server

# docker-compose.yml for real, without Docker: Podman, stand-in base images built from Debian
# (kept for the next run), the project's images from the wheel set, `--scale dashboard=2`, one
# game through the proxy, a replica restarted, the model killed; then all of it removed. Root,
# minutes, not in `make test`; the last line is its JSON summary (docs/docker.md).
wheels: setup  ## the wheel set the Dockerfiles install from (.cache/wheels), and the stand-in images
	bash deploy/standins/build.sh

compose-check: wheels  ## docker compose up --scale dashboard=2 with Podman, a game played through the proxy (minutes)
	$(PY) -m devtools.compose_check

clean:
	rm -rf $(VENV) .cache .pytest_cache
