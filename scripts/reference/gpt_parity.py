"""Reference numbers for phf-lm's numeric parity test (llm.c's test_gpt2 in spirit).

Builds a tiny GPT-2 with Hugging Face transformers' GPT2LMHeadModel (the implementation the paper trained),
fixes its weights and one batch, and writes what phf must reproduce:
  weights.safetensors  the initial parameters (HF names; the tied lm_head omitted)
  batch.safetensors    input token ids (B, T)
  expected.safetensors logits, loss, and the gradient of every parameter (`grad.<name>`)
  expected.json        the model config (phf's GptConfig), AdamW settings, and the losses of 5 AdamW steps on that batch
Run: ~/.cache/phf/pyref-2.11.0/bin/python scripts/reference/gpt_parity.py crates/phf-lm/tests/fixtures/gpt_parity
(`make pyref` creates that venv: torch 2.11.0 and transformers.)
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

CONFIG = dict(vocab_size=64, n_ctx=16, n_embd=32, n_layer=2, n_head=4)
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, grad_clip=1.0, steps=5)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    hf_config = GPT2Config(
        vocab_size=CONFIG["vocab_size"], n_positions=CONFIG["n_ctx"], n_embd=CONFIG["n_embd"],
        n_layer=CONFIG["n_layer"], n_head=CONFIG["n_head"], resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        activation_function="gelu_new", layer_norm_epsilon=1e-5, bos_token_id=0, eos_token_id=0,
    )
    model = GPT2LMHeadModel(hf_config).float()
    model.train()  # dropout is 0: train and eval agree
    params = {n: p for n, p in model.named_parameters()}  # tied lm_head.weight is listed once, as wte
    save_file({n: p.detach().clone().contiguous() for n, p in params.items()}, out / "weights.safetensors")

    tokens = torch.randint(0, CONFIG["vocab_size"], (3, CONFIG["n_ctx"]), generator=torch.Generator().manual_seed(1))
    save_file({"tokens": tokens}, out / "batch.safetensors")

    result = model(input_ids=tokens, labels=tokens)  # mean cross-entropy over B×(T-1) next tokens
    result.loss.backward()
    expected = {"logits": result.logits.detach().contiguous(), "loss": result.loss.detach().reshape(1)}
    expected.update({f"grad.{n}": p.grad.detach().clone().contiguous() for n, p in params.items()})
    save_file(expected, out / "expected.safetensors")

    # 5 AdamW steps: decay on matrices only (SPEC §4), global-norm clipping, constant learning rate.
    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": ADAMW["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]), eps=ADAMW["eps"], foreach=False,
    )
    losses = []
    model.zero_grad()
    for _ in range(ADAMW["steps"]):
        loss = model(input_ids=tokens, labels=tokens).loss
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), ADAMW["grad_clip"])
        opt.step()
        opt.zero_grad()
    # the same model as phf-lm's GptConfig, so the Rust tests deserialise it as is
    gpt_config = dict(CONFIG, dropout=0.0, layer_norm_eps=1e-5, init_std=0.02, value_head=False)
    meta = {"config": gpt_config, "adamw": ADAMW, "adamw_losses": losses, "torch": torch.__version__}
    (out / "expected.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out}: loss {result.loss.item():.6f}, AdamW losses {[round(l, 6) for l in losses]}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "crates/phf-lm/tests/fixtures/gpt_parity"))
