"""Reference numbers for phf-train's objective parity test.

Computes every objective's loss and its gradient with respect to the logits (and, for AWR, the values) on fixed
random inputs, following the formulas of the reference implementation (`apo/objectives.py` of
tomekkorbak/pretraining-with-human-feedback; SPEC §3), written out here in plain PyTorch:
  inputs.safetensors   logits (B, T, V), tokens (B, T), token_scores (B, T), values (B, T)
  expected.safetensors `<case>.loss`, `<case>.grad_logits`, `<case>.grad_values` (AWR)
  cases.json           each case's `[objective]` section as phf reads it
Run: ~/.cache/phf/pyref-2.11.0/bin/python scripts/reference/objectives_parity.py crates/phf-train/tests/fixtures/objectives
"""
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

B, T, V = 3, 8, 11


def shifted(logits, tokens, token_scores):
    """Logits of positions 0..T-2, their labels 1..T-1, and the labels' own scores (SPEC §3)."""
    return logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), token_scores[:, 1:].reshape(-1)


def mle(logits, tokens, token_scores, values):
    x, y, _ = shifted(logits, tokens, token_scores)
    return F.cross_entropy(x, y)


def unlikelihood(threshold, alpha):
    def loss(logits, tokens, token_scores, values):
        x, y, s = shifted(logits, tokens, token_scores)
        aligned = (s <= threshold).float() if threshold is not None else 1 - s  # soft mode: a = 1 - s
        log_p = F.log_softmax(x, dim=-1).gather(1, y.view(-1, 1)).view(-1)
        log_one_minus_p = torch.clamp(1.0 - log_p.exp(), min=1e-20).log()
        return (-(aligned * log_p) - alpha * (1.0 - aligned) * log_one_minus_p).mean()
    return loss


def weighted(alpha, beta, baseline=None, normalize=False, clip=1000.0):
    """AWR; with baseline given (and alpha = 1) the values are that constant: RWR."""
    def loss(logits, tokens, token_scores, values):
        x, y, s = shifted(logits, tokens, token_scores)
        v = values[:, :-1].reshape(-1) if baseline is None else torch.full_like(s, baseline)
        reward = -s
        advantage = reward - v.detach()
        if normalize:
            advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-10)
        w = torch.clamp(torch.exp(advantage / beta), min=0, max=clip)
        weighted_lm = (F.cross_entropy(x, y, reduction="none") * w).mean()
        return alpha * weighted_lm + (1 - alpha) * F.mse_loss(v, reward) if baseline is None else weighted_lm
    return loss


CASES = {
    "mle": ({"name": "mle"}, mle),
    "unlikelihood_hard": ({"name": "unlikelihood", "threshold": 0.3, "alpha": 1.0}, unlikelihood(0.3, 1.0)),
    "unlikelihood_soft": ({"name": "unlikelihood", "mode": "soft", "alpha": 0.01}, unlikelihood(None, 0.01)),
    "rwr": ({"name": "rwr", "beta": 10.0}, weighted(1.0, 10.0, baseline=0.0)),
    "rwr_sharp": ({"name": "rwr", "beta": 0.1}, weighted(1.0, 0.1, baseline=0.0)),
    "rwr_reference_baseline": ({"name": "rwr", "beta": 10.0, "baseline": -0.5}, weighted(1.0, 10.0, baseline=-0.5)),
    "awr": ({"name": "awr", "alpha": 0.5, "beta": 10.0}, weighted(0.5, 10.0)),
    "awr_clipped": ({"name": "awr", "alpha": 0.05, "beta": 0.1}, weighted(0.05, 0.1)),
    "awr_normalized": ({"name": "awr", "alpha": 0.5, "beta": 1.0, "normalize_advantage": True},
                       weighted(0.5, 1.0, normalize=True)),
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(B, T, V, generator=g, dtype=torch.float64) * 2
    tokens = torch.randint(0, V, (B, T), generator=g)
    # scores: exact zeros, small values, and some above the threshold, as a scorer's output looks
    token_scores = torch.rand(B, T, generator=g, dtype=torch.float64) ** 3
    token_scores[torch.rand(B, T, generator=g) < 0.3] = 0.0
    values = -torch.sigmoid(torch.randn(B, T, generator=g, dtype=torch.float64))
    inputs = {"logits": logits, "tokens": tokens, "token_scores": token_scores, "values": values}
    save_file({k: (v.float() if v.is_floating_point() else v) for k, v in inputs.items()}, out / "inputs.safetensors")

    expected, cases = {}, {}
    for name, (section, fn) in CASES.items():
        # float64 reference from the float32 inputs phf reads
        lg = logits.float().double().requires_grad_()
        vs = values.float().double().requires_grad_()
        loss = fn(lg, tokens, token_scores.float().double(), vs)
        loss.backward()
        expected[f"{name}.loss"] = loss.detach().reshape(1).float()
        expected[f"{name}.grad_logits"] = lg.grad.float()
        if section["name"] == "awr":
            expected[f"{name}.grad_values"] = vs.grad.float()
        cases[name] = section
        print(f"{name}: loss {loss.item():.6f}")
    save_file(expected, out / "expected.safetensors")
    (out / "cases.json").write_text(json.dumps(cases, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "crates/phf-train/tests/fixtures/objectives"))
