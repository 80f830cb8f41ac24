"""Checks that Hugging Face transformers loads a model directory written by phf (`Gpt::save`) and computes the
same logits as phf: GPT2LMHeadModel.from_pretrained(model_dir) on the tokens of `batch.safetensors` must give the
logits stored in `logits.safetensors` within 1e-4. Exits non-zero with a message otherwise.
Run by phf-lm's `transformers_loads_phf_model_files` test when a Python with transformers is available.
"""
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel


def main(model_dir: Path, batch: Path, logits: Path) -> int:
    model = GPT2LMHeadModel.from_pretrained(model_dir).eval()
    tokens = load_file(batch)["tokens"]
    expected = load_file(logits)["logits"]
    with torch.no_grad():
        got = model(input_ids=tokens).logits
    diff = (got - expected).abs().max().item()
    print(f"transformers {model.__class__.__name__} loaded {model_dir}: max |logit difference| {diff:.3g}")
    return 0 if diff < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
