# Two commands do all the set-up on a fresh machine (see README):
#   make forecast   - the main job: a forecast on the shipped parameters
#   make test       - the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
ARGS   ?=

$(STAMP): pyproject.toml
	@# The browser test drives Debian's Chromium (Playwright's own download cannot work here): installed
	@# when we are root with apt-get; otherwise the test says loudly that it did not run.
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test..."; \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
			|| echo "warning: chromium could not be installed: the browser test will be skipped"; \
	elif [ ! -x /usr/bin/chromium ]; then \
		echo "note: /usr/bin/chromium is missing and cannot be installed here (not root, or no apt-get): the browser test will be skipped"; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@echo "compiling the engine (once; cached in workbench/__pycache__)..."
	$(VENV)/bin/python -c "from workbench.experiments.replications import warm_up; print(f'  {warm_up():.0f} s')"
	touch $(STAMP)

.PHONY: setup forecast test test-fast durations lint docs baseline bench backtest findings fuzz sbc record-recovery prior-check start-consistency start-check lab app briefing
setup: $(STAMP)

forecast: $(STAMP)
	$(VENV)/bin/workbench forecast $(ARGS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest

# The inner loop: every test measured under half a second (tests/durations.json), none that starts a
# process; a test of it that takes over 5 s fails (tests/fast_lane.py).  Under a minute on 2 cores.
test-fast: $(STAMP)
	WORKBENCH_FAST_LANE=1 $(VENV)/bin/python -m pytest -m "not slow and not subprocess" -q

# Measure every test's duration again (the whole suite), which chooses the fast lane.
durations: $(STAMP)
	WORKBENCH_RECORD_DURATIONS=1 $(VENV)/bin/python -m pytest -q

# The documentation site (tutorial, how-to guides, reference generated from the code, explanations) in results/site/.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir results/site

# Lint, format, the import contract and types (also part of make test).
lint: $(STAMP)
	$(VENV)/bin/ruff check workbench workbench_start tests benchmarks
	$(VENV)/bin/ruff format --check workbench workbench_start tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Regenerate the regression baseline after a deliberate change of the model's behaviour.
baseline: $(STAMP)
	$(VENV)/bin/python tests/regression.py --update

# The evidence the findings publish with: the hindcast and the rolling-origin refits (one per snapshot
# date but the last, about 12 minutes on 2 cores), written to calibration/backtest/ with the
# observations' checksums.  Rerun after the observations or the model change; then make findings.
backtest: $(STAMP)
	$(VENV)/bin/workbench backtest --output calibration/backtest $(ARGS)

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench.py --write $(ARGS)

# The long fuzzing mode (not in CI): 10,000 generated inputs per loader, with hypothesis's counts.
fuzz: $(STAMP)
	WORKBENCH_FUZZ_EXAMPLES=10000 $(VENV)/bin/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider --hypothesis-show-statistics

# Simulation-based calibration (not in CI): 20 truths from the priors, each fitted (about 15 minutes on 2 cores).
sbc: $(STAMP)
	$(VENV)/bin/workbench sbc $(ARGS)

# Recovery of the record's fit: synthetic records of every structure, each fitted under all eight
# (selection of each question's true answer, coverage of the true parameters; about 10 minutes).
# ARGS="--mcmc 600" also draws each true posterior by Metropolis, to tell the sampler from the likelihood.
record-recovery: $(STAMP)
	$(VENV)/bin/workbench record-recovery --output results/record-recovery.csv $(ARGS)

# What the priors imply before any fit, beside the shipped posterior (results/prior-check/; ARGS="--draws 4000").
prior-check: $(STAMP)
	$(VENV)/bin/workbench prior-check $(ARGS)

# Does the report-state start continue like the runs from 2020 that match the report (6,000 draws, a few minutes)?
start-consistency: $(STAMP)
	$(VENV)/bin/workbench start-consistency $(ARGS)

# Recompute every number the README and docs/explanation/findings.md show (after a recalibration or a model change).
findings: $(STAMP)
	$(VENV)/bin/workbench findings $(ARGS)

# JupyterLab with the notebooks, and the scenario explorer served as an app (Voilà).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

# A closed browser tab leaves its kernel and workers (about 650 MB) behind: kernels without a
# connection are shut down after 10 idle minutes, checked every minute.
CULL := --MappingKernelManager.cull_idle_timeout=600 --MappingKernelManager.cull_interval=60 --MappingKernelManager.cull_connected=False
app: $(STAMP)
	$(VENV)/bin/voila notebooks/explorer.ipynb --port=8866 --Voila.ip=127.0.0.1 $(CULL)

# The briefing notebook for delegations, executed and exported to HTML without its code (results/briefing.html).
briefing: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --to html --execute --no-input notebooks/briefing.ipynb --output-dir results

start-check: $(STAMP)
	$(VENV)/bin/workbench start-check $(ARGS)
