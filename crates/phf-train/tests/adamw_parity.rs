//! The 5 AdamW steps of `scripts/reference/gpt_parity.py` (torch.optim.AdamW, weight decay on matrices only,
//! clip_grad_norm_ 1.0) on phf-lm's parity fixture: the losses must match PyTorch's within 1e-4, with the for-loop
//! update and with the fused one.

use std::path::{Path, PathBuf};

use phf_lm::{Gpt, GptConfig};
use phf_train::optim::{AdamW, AdamWConfig, Implementation};
use phf_train::{Mle, Objective, ObjectiveInput};
use tch::{Device, Tensor};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../phf-lm/tests/fixtures/gpt_parity")
}

#[test]
fn five_adamw_steps_match_pytorch() {
    five_steps(Implementation::ForLoop);
}

/// The fused kernels (what CUDA runs) on the same fixture.
#[test]
fn five_fused_adamw_steps_match_pytorch() {
    five_steps(Implementation::Fused);
}

fn five_steps(implementation: Implementation) {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("expected.json")).unwrap()).unwrap();
    let a = &meta["adamw"];
    let f = |k: &str| a[k].as_f64().unwrap();
    let config: GptConfig = serde_json::from_value(meta["config"].clone()).unwrap();
    let model = Gpt::new(config, Device::Cpu);
    model.load_weights(&fixture_dir().join("weights.safetensors")).unwrap();
    let tokens = Tensor::read_safetensors(fixture_dir().join("batch.safetensors"))
        .unwrap()
        .remove(0)
        .1;
    let scores = tokens.zeros_like().to_kind(tch::Kind::Float);
    let adamw = AdamWConfig {
        lr: f("lr"),
        beta1: f("beta1"),
        beta2: f("beta2"),
        eps: f("eps"),
        weight_decay: f("weight_decay"),
    };
    let mut opt = AdamW::new(model.vs.variables(), adamw).with_implementation(implementation);
    let expected: Vec<f64> = meta["adamw_losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (step, want) in expected.iter().enumerate() {
        opt.zero_grad().unwrap();
        let out = model.forward(&tokens, true);
        let input = ObjectiveInput {
            logits: &out.logits,
            tokens: &tokens,
            token_scores: &scores,
            values: None,
        };
        let loss = Mle.loss(&input).loss;
        let got = loss.double_value(&[]);
        eprintln!(
            "AdamW ({implementation:?}) step {step}: loss {got:.6}, PyTorch {want:.6}, |diff| {:.3e}",
            (got - want).abs()
        );
        assert!((got - want).abs() < 1e-4, "step {step}: loss {got}, PyTorch {want}");
        loss.backward();
        let norm = opt.update(f("lr"), f("grad_clip")).unwrap().double_value(&[]);
        assert!(norm.is_finite() && norm > 0.0, "step {step}: gradient norm {norm}");
    }
}
