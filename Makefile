# make demo: offline quick start on the bundled sample (train, evaluate, predict).
# make test: the test suite. Both create .venv with python3 on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUN ?= runs/quickstart
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

demo: $(VENV)/.installed
	@start=$$(date +%s); set -e; \
	$(PY) train.py --config configs/quickstart.yaml training.output_dir=$(RUN); \
	$(PY) eval.py --model $(RUN); \
	$(PY) predict.py --model $(RUN) --input data/sample/inbox --output $(RUN)/predictions.jsonl; \
	echo; echo "model:       $(RUN)"; echo "report:      $(RUN)/report.md"; \
	echo "predictions: $(RUN)/predictions.jsonl"; \
	echo "wall time (install excluded): $$(( $$(date +%s) - start ))s"

test: $(VENV)/.installed
	$(PY) -m pytest
