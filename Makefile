# Two commands a new user needs: `make demo` and `make test`. Each sets itself up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLEET ?= config/fleet.yaml
OUT ?= out

# jsii (the bridge between Python and aws-cdk-lib's JavaScript) prints a banner on every start
# when Node.js is past its end of life. Node 20 works with this aws-cdk-lib; silence the banner
# for that major version only, so a different old Node still warns.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 20
CDK := npx --no-install cdk

.PHONY: setup synth demo test test-unit test-infra test-e2e format-check lint bench deploy destroy \
	clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# Synth runs every gate: cdk-nag's AwsSolutions checks inside the synth (any unacknowledged
# finding stops it) and cfn-lint on every template. No AWS credentials needed.
synth: setup
	rm -rf cdk.out
	$(CDK) synth --quiet -c fleet=$(FLEET) >/dev/null
	$(PY) -m stacks.cfn_lint cdk.out --fleet $(FLEET)

# What would be deployed, after every gate passed.
demo: synth
	$(PY) -m stacks.summary --fleet $(FLEET) --gates-passed
	@# Then the whole control plane on an embedded AWS (moto on loopback), in simulated time.
	$(PY) -m demo --config $(FLEET) --out $(OUT)/demo

# Needs AWS credentials and a bootstrapped account/region (`npx cdk bootstrap`), see README.
deploy: synth
	$(CDK) deploy --all --app cdk.out --require-approval broadening

destroy: setup
	$(CDK) destroy --all -c fleet=$(FLEET)

format-check: setup
	$(PY) -m ruff format --check .

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

# Test tiers, each runnable alone; together they are every test, each once (by pytest marker):
# unit: the decision core, handlers on in-process moto, config, simulator, local AWS, structure;
# infra: the CDK templates (marker `synth`, a synth costs seconds); e2e: the demo's whole story
# on moto's server (marker `e2e`).
test-unit: setup
	$(PY) -m pytest -q -m "not synth and not e2e"

test-infra: setup
	$(PY) -m pytest -q -m synth

test-e2e: setup
	$(PY) -m pytest -q -m e2e

# What CI runs (.ci/run): formatting, lint, types, then every tier.
test: setup format-check lint test-unit test-infra test-e2e

# Benchmarks (speed goals live here, never in timed tests): each prints its figures and writes
# benchmarks/results/<name>.json.
bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf cdk.out $(OUT) .pytest_cache .mypy_cache .ruff_cache
