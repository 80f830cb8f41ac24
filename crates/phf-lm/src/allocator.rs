//! glibc's allocator settings for training on CPU.
//!
//! A training step allocates and frees the same large buffers every time (the `(B, T, vocab)` logits and their
//! gradient are 134 MB each at the `small` preset's batch). glibc serves allocations above its mmap threshold
//! (at most 32 MB by default) with fresh `mmap`s, so every step page-faults and zero-fills them again: measured
//! here, about 15% of a `small` training step. Raising the threshold keeps those buffers in the heap for reuse:
//! `phf bench train --preset small --batch-size 16 --steps 8`, median of 3 runs interleaved with the same command
//! under `MALLOC_MMAP_THRESHOLD_=33554432` (glibc's default; phf then leaves it alone), 2,113 → 2,493 tokens/s,
//! peak memory 2.5 → 3.1 GB (still below PyTorch's 4.0 GB).

/// Bytes below which allocations come from the heap rather than fresh mappings.
const MMAP_THRESHOLD: i32 = 1 << 30;

/// Free bytes at the top of the heap above which glibc gives memory back to the system. Setting the mmap
/// threshold fixes this one at its 128 KB default, so every step's buffers were returned and faulted in again:
/// sampling 512 × 128 tokens from `small` on one thread spent 1.56 s in the kernel, 0.76 s with this (the
/// command is in docs/BENCHMARKS.md, "Evaluation speed").
const TRIM_THRESHOLD: i32 = 1 << 30;

/// Applies the settings (once, at start-up, before large allocations); returns whether glibc accepted them.
/// A user's own `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_` takes precedence.
pub fn tune_for_training() -> bool {
    let set = |variable: &str, parameter: i32, value: i32| {
        // SAFETY: mallopt only changes allocator parameters; it is called before other threads allocate.
        std::env::var_os(variable).is_none() && unsafe { libc::mallopt(parameter, value) == 1 }
    };
    let mmap = set("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    let trim = set("MALLOC_TRIM_THRESHOLD_", libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    mmap && trim
}
