"""PyTorch reference for `phf bench sample`: Hugging Face `generate` with its KV cache on the same GPT-2 preset,
sampling (temperature 0.7, top-p 0.9) exactly --new-tokens tokens for each of --batch-size sequences from an
EOS prompt. Prints one JSON line.
"""
import argparse
import json
import resource
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from train_pytorch import PRESETS


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="small")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--device", default="cpu")
    p.add_argument("--model", help="a phf model directory (config.json + model.safetensors) instead of random weights")
    a = p.parse_args()
    vocab, n_ctx, n_embd, n_layer, n_head, dropout = PRESETS[a.preset]
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=vocab, n_positions=n_ctx, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
                        bos_token_id=0, eos_token_id=0, pad_token_id=0, activation_function="gelu_new",
                        attn_implementation="sdpa")
    model = GPT2LMHeadModel.from_pretrained(a.model) if a.model else GPT2LMHeadModel(config)
    model = model.to(a.device).eval()
    model.generation_config.pad_token_id = model.config.eos_token_id
    prompt = torch.full((a.batch_size, 1), model.config.eos_token_id, dtype=torch.long, device=a.device)
    kwargs = dict(do_sample=True, temperature=0.7, top_p=0.9, top_k=0, use_cache=True,
                  attention_mask=torch.ones_like(prompt))
    with torch.no_grad():
        model.generate(prompt, max_new_tokens=8, min_new_tokens=8, **kwargs)  # warm-up
        start = time.perf_counter()
        out = model.generate(prompt, max_new_tokens=a.new_tokens, min_new_tokens=a.new_tokens, **kwargs)
        seconds = time.perf_counter() - start
    generated = (out.shape[1] - 1) * a.batch_size
    print(json.dumps({
        "impl": "pytorch-hf-generate", "bench": "sample", "preset": a.preset, "model": a.model, "batch_size": a.batch_size,
        "tokens_per_s": generated / seconds, "seconds": seconds, "threads": torch.get_num_threads(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
