"""PyTorch eager reference for `phf bench train`: the same GPT-2 (Hugging Face GPT2LMHeadModel, SDPA attention),
the same batch shape, AdamW and clipping, timed the same way. Prints one JSON line.
Usage: python train_pytorch.py --preset small --batch-size 16 --steps 20 --warmup 3 [--threads N]
"""
import argparse
import json
import resource
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

PRESETS = {  # (vocab, n_ctx, n_embd, n_layer, n_head, dropout): phf-lm's config.rs presets
    "tiny": (4096, 128, 128, 2, 4, 0.0),
    "small": (8192, 256, 256, 6, 8, 0.1),
    "gpt2": (50259, 1024, 768, 12, 12, 0.1),
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="small")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--compile", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device.startswith("cuda"):
        torch.set_float32_matmul_precision("high")  # TF32 for fp32 matmuls, as phf sets on CUDA
    vocab, n_ctx, n_embd, n_layer, n_head, dropout = PRESETS[a.preset]
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=vocab, n_positions=n_ctx, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
                        resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout, bos_token_id=0, eos_token_id=0,
                        activation_function="gelu_new", attn_implementation="sdpa")
    model = GPT2LMHeadModel(config).to(a.device).train()
    step_fn = torch.compile(model) if a.compile else model
    decay = [q for q in model.parameters() if q.dim() >= 2]
    rest = [q for q in model.parameters() if q.dim() < 2]
    # fused on CUDA, the for-loop on CPU: the AdamW phf runs on each device
    fused = a.device.startswith("cuda")
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=5e-4,
                            foreach=False, fused=fused)
    tokens = torch.randint(0, vocab, (a.batch_size, n_ctx), device=a.device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.device.startswith("cuda"))

    def step():
        with autocast:
            loss = step_fn(input_ids=tokens, labels=tokens).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(a.warmup):
        step()
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    loss.item()
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "impl": "pytorch-compile" if a.compile else "pytorch-eager", "preset": a.preset, "device": a.device,
        "batch_size": a.batch_size, "optimizer": "fused" if fused else "for-loop",
        "tokens_per_s": a.steps * a.batch_size * n_ctx / seconds, "seconds": seconds, "steps": a.steps,
        "threads": torch.get_num_threads(), "peak_rss_mb": peak_rss_mb, "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
