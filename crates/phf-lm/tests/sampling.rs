//! KV-cached sampling computes what the full forward pass computes, and a seed makes it reproducible.

use phf_lm::{generate, Gpt, GptConfig, KvCache, SampleOptions};
use tch::{Device, Kind, Tensor};

/// Sampling draws from libtorch's process-wide generator: tests that seed it take turns.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_turn() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Call with the RNG turn held.
fn tiny_model() -> Gpt {
    let mut config = GptConfig::preset("tiny").unwrap();
    config.vocab_size = 97;
    config.n_ctx = 32;
    tch::manual_seed(7);
    Gpt::new(config, Device::Cpu)
}

#[test]
fn cached_logits_equal_the_full_forward_pass() {
    let _turn = rng_turn();
    let model = tiny_model();
    let tokens = Tensor::randint(97, [3, 20], (Kind::Int64, Device::Cpu));
    let full = model.forward(&tokens, false).logits; // (3, 20, V)
                                                     // growing, preallocated, and preallocated too small (falls back to growing)
    for capacity in [0, 20, 12] {
        let mut cache = KvCache::with_capacity(model.config.n_layer, capacity);
        // a prompt of 5 tokens at once, then 3 tokens at once, then one at a time: every mask path
        let mut pieces = vec![model.forward_cached(&tokens.narrow(1, 0, 5), &mut cache)];
        pieces.push(model.forward_cached(&tokens.narrow(1, 5, 3), &mut cache));
        for t in 8..20 {
            pieces.push(model.forward_cached(&tokens.narrow(1, t, 1), &mut cache));
        }
        assert_eq!(cache.len(), 20);
        let cached = Tensor::cat(&pieces, 1);
        let diff = (&cached - &full).abs().max().double_value(&[]);
        assert!(
            diff < 1e-5,
            "capacity {capacity}: cached and full logits differ by {diff}"
        );
    }
}

#[test]
fn samples_are_reproducible_under_a_seed_and_respect_lengths() {
    let _turn = rng_turn();
    let model = tiny_model();
    let opts = SampleOptions {
        num_samples: 5,
        batch_size: 2,
        max_new_tokens: 12,
        min_new_tokens: 4,
        temperature: 1.0,
        top_p: 0.95,
        banned_tokens: vec![3, 5],
        seed: 11,
        ..SampleOptions::default()
    };
    let a = generate(&model, &[0, 9], 0, &opts, |_| {});
    let b = generate(&model, &[0, 9], 0, &opts, |_| {});
    assert_eq!(a, b, "same seed, same samples");
    assert_eq!(a.len(), 5);
    for s in &a {
        assert!(s.len() >= 4 && s.len() <= 12, "length {} outside [min, max]", s.len());
        assert!(!s.contains(&3) && !s.contains(&5) && !s.contains(&0), "{s:?}");
    }
    let c = generate(&model, &[0, 9], 0, &SampleOptions { seed: 12, ..opts }, |_| {});
    assert_ne!(a, c, "another seed, other samples");
}

#[test]
fn generation_stops_at_the_context_length() {
    let _turn = rng_turn();
    let model = tiny_model();
    let opts = SampleOptions {
        num_samples: 1,
        max_new_tokens: 100,
        min_new_tokens: 100,
        ..SampleOptions::default()
    };
    let s = generate(&model, &[0; 10], 0, &opts, |_| {});
    assert_eq!(s[0].len(), 32 - 10, "10 prompt tokens leave 22 of the 32 positions");
}
