"""Expected GPU time and cost of the paper's full grid (SPEC §4, §7), from the model's FLOPs per token.

The grid: 3 tasks (toxicity, PII, PEP8) × 6 objectives (MLE, filtering, conditional, unlikelihood, RWR, AWR)
pretrained on 3.3e9 tokens each, plus the finetuning regime: the 5 PHF objectives × 3 tasks finetuned from the MLE
checkpoint at ~1.66e9 tokens for the remaining ~1.64e9 tokens, and the 330M-token finetuning variant. The MLE runs'
mid-way checkpoints are the finetuning starting points, so the regime costs no extra pretraining.
Training only: evaluation (4,096 samples per model, scorers, red-teaming) is a few GPU-minutes per model.

FLOPs per token = 6N + 12·L·d·T (forward + backward; N = parameters without the position embedding, T = 1024),
as phf-lm's GptConfig::flops_per_token and `phf train`'s MFU use.
Usage: python3 scripts/bench/grid_cost.py [--mfu 0.45] [--peak-tflops 989] [--usd-per-gpu-hour 3.0] [--gpus 8]
"""
import argparse

VOCAB, N_CTX, D, LAYERS = 50_259, 1024, 768, 12  # the gpt2 preset: GPT-2 small + 2 control tokens


def flops_per_token() -> float:
    per_layer = 2 * 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * 4 * D + 4 * D) + (4 * D * D + D)
    params = VOCAB * D + N_CTX * D + LAYERS * per_layer + 2 * D
    return 6 * (params - N_CTX * D) + 12 * LAYERS * D * N_CTX


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mfu", type=float, nargs="+", default=[0.30, 0.45])
    p.add_argument("--peak-tflops", type=float, default=989.0, help="H100/H200 SXM dense bf16")
    p.add_argument("--usd-per-gpu-hour", type=float, default=3.0)
    p.add_argument("--gpus", type=int, default=8, help="GPUs working through the grid together")
    a = p.parse_args()
    runs = [
        ("pretraining: 3 tasks × 6 objectives × 3.3B tokens", 18, 3.3e9),
        ("finetuning: 3 tasks × 5 objectives × 1.64B tokens", 15, 1.64e9),
        ("finetuning variant: 3 tasks × 5 objectives × 330M tokens", 15, 0.33e9),
    ]
    f = flops_per_token()
    total_tokens = sum(n * t for _, n, t in runs)
    print(f"FLOPs per token (gpt2 preset, T = {N_CTX}): {f:.4g}; one 3.3B-token run: {3.3e9 * f:.3g} FLOPs")
    print(f"grid: {sum(n for _, n, _ in runs)} runs, {total_tokens / 1e9:.1f}B tokens, {total_tokens * f:.3g} FLOPs\n")
    print(f"| MFU | one 3.3B run, 1 GPU | grid, GPU-hours | grid on {a.gpus} GPUs (wall) | cost at "
          f"${a.usd_per_gpu_hour:g}/GPU-hour |")
    print("|---|---|---|---|---|")
    for mfu in a.mfu:
        rate = mfu * a.peak_tflops * 1e12  # FLOP/s per GPU
        run_h = 3.3e9 * f / rate / 3600
        grid_h = total_tokens * f / rate / 3600
        print(f"| {mfu:.0%} | {run_h:.2f} h | {grid_h:.0f} | {grid_h / a.gpus:.1f} h | "
              f"${grid_h * a.usd_per_gpu_hour:,.0f} |")


if __name__ == "__main__":
    main()
