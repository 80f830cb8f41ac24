# phf — the two commands a fresh machine needs are `make demo` and `make test`; each does any missing setup.
#
# libtorch (from the PyPI torch wheel) and cargo's target dir live in a per-user cache outside the repository,
# so fresh clones and CI reuse them. One build profile serves tests, the demo and benchmarks (see Cargo.toml).

CACHE ?= $(HOME)/.cache/phf
export LIBTORCH := $(CACHE)/libtorch-2.11.0/torch
export CARGO_TARGET_DIR ?= $(CACHE)/target
PHF := $(CARGO_TARGET_DIR)/debug/phf
PYREF := $(CACHE)/pyref-2.11.0
PYTHON ?= python3

.PHONY: setup build demo test lint bench pyref fixtures gpu-bench-binary

## setup: install libtorch and Gloo's headers (for phf-dist's c10d shim) into the cache, export spaCy
## en_core_web_sm's NER for the PII scorer's names and organisations (idempotent), and link libtorch as .libtorch
## for plain `cargo` use
setup:
	@scripts/setup-libtorch.sh
	@scripts/setup-gloo.sh
	@scripts/score/setup-ner.sh
	@ln -sfn "$(CACHE)/libtorch-2.11.0" .libtorch

build: setup
	cargo build -p phf

## demo: the main job — fetch and score a real corpus, train small MLE and conditional models, evaluate, report
demo: build
	@scripts/score/setup-toxicity.sh
	$(PHF) demo

## test: every test of the workspace
test: setup
	cargo test --workspace

## lint: formatting, clippy and rustdoc, every warning an error
lint: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

## pyref: a full PyTorch 2.11 + transformers venv for reference fixtures and side-by-side benchmarks (~5 GB)
pyref:
	@if [ -x "$(PYREF)/bin/python" ] && "$(PYREF)/bin/python" -c "import torch, transformers" 2>/dev/null; then \
		echo "reference venv $(PYREF) already installed (nothing to do)"; \
	else \
		$(PYTHON) -m venv "$(PYREF)" && "$(PYREF)/bin/pip" install --quiet torch==2.11.0 transformers safetensors numpy; \
	fi

## fixtures: regenerate the GPT-2 and AdamW parity fixtures (PyTorch reference numbers; the objectives'
## fixtures come from scripts/reference/objectives_parity.py)
fixtures: pyref
	"$(PYREF)/bin/python" scripts/reference/gpt_parity.py crates/phf-lm/tests/fixtures/gpt_parity

## bench: phf vs PyTorch eager, side by side in one run (training tokens/s, sampling tokens/s, peak memory);
## sampling is also measured on the demo's trained model when runs/demo exists (or MODEL=<run or model dir>)
MODEL ?= $(if $(wildcard runs/demo/toxicity/runs/mle-pretrain/checkpoints/latest),runs/demo/toxicity/runs/mle-pretrain,)
bench: build pyref
	scripts/bench/run.sh "$(PHF)" "$(PYREF)/bin/python" $(MODEL)

## gpu-bench-binary: a stripped release build of phf for scripts/bench/gpu.sh on a GPU machine with torch 2.11
## (copy or carry target/gpu-bench/ there; see docs/SCALING.md)
gpu-bench-binary: setup
	cargo build --release -p phf
	mkdir -p target/gpu-bench
	strip -o target/gpu-bench/phf "$(CARGO_TARGET_DIR)/release/phf"
	@ls -lh target/gpu-bench/phf
