//! Numeric parity with PyTorch (llm.c's test_gpt2 in spirit): the tiny GPT-2 of
//! `scripts/reference/gpt_parity.py` (Hugging Face GPT2LMHeadModel, torch 2.11.0) with the same weights and
//! batch must give the same logits, loss and parameter gradients within 1e-4 (fp32).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use phf_lm::{Gpt, GptConfig};
use tch::{Device, Kind, Reduction, Tensor};

const TOLERANCE: f64 = 1e-4;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpt_parity")
}

fn read(name: &str) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(fixture_dir().join(name))
        .unwrap()
        .into_iter()
        .collect()
}

/// The fixture's model, loaded with the reference weights.
fn reference_model() -> Gpt {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("expected.json")).unwrap()).unwrap();
    let config: GptConfig = serde_json::from_value(meta["config"].clone()).unwrap();
    let model = Gpt::new(config, Device::Cpu);
    model.load_weights(&fixture_dir().join("weights.safetensors")).unwrap();
    model
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

#[test]
fn logits_loss_and_gradients_match_pytorch() {
    let model = reference_model();
    let tokens = read("batch.safetensors").remove("tokens").unwrap();
    let expected = read("expected.safetensors");
    let out = model.forward(&tokens, true);
    let diff = max_abs_diff(&out.logits, &expected["logits"]);
    eprintln!("max |logits - PyTorch| = {diff:.3e}");
    assert!(diff < TOLERANCE, "logits differ by {diff}");

    let (b, t, v) = out.logits.size3().unwrap();
    let loss = out
        .logits
        .narrow(1, 0, t - 1)
        .reshape([b * (t - 1), v])
        .cross_entropy_loss::<Tensor>(
            &tokens.narrow(1, 1, t - 1).reshape([-1]),
            None,
            Reduction::Mean,
            -100,
            0.0,
        );
    let diff = (loss.double_value(&[]) - expected["loss"].double_value(&[0])).abs();
    eprintln!("|loss - PyTorch| = {diff:.3e}");
    assert!(diff < TOLERANCE, "loss differs by {diff}");

    loss.backward();
    let vars = model.vs.variables();
    assert_eq!(
        vars.len(),
        expected.len() - 2,
        "every parameter has a reference gradient"
    );
    let mut worst = 0f64;
    for (name, var) in vars {
        let reference = &expected[&format!("grad.{name}")];
        let diff = max_abs_diff(&var.grad(), reference);
        assert!(diff < TOLERANCE, "gradient of {name} differs by {diff}");
        worst = worst.max(diff);
    }
    eprintln!("max |gradient - PyTorch| over all parameters = {worst:.3e}");
}

#[test]
fn bf16_compute_stays_close_to_fp32() {
    let mut model = reference_model();
    let tokens = read("batch.safetensors").remove("tokens").unwrap();
    let fp32 = model.forward(&tokens, false).logits;
    model.set_precision(phf_lm::Precision::Bf16);
    let bf16 = model.forward(&tokens, false).logits;
    assert_eq!(bf16.kind(), Kind::Float, "logits are returned in fp32");
    let diff = max_abs_diff(&fp32, &bf16);
    assert!(diff > 0.0 && diff < 0.1, "bf16 logits differ from fp32 by {diff}");
}

/// A Python with transformers: `$PHF_PYTHON`, or the reference venv `make pyref` creates.
fn python_with_transformers() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PHF_PYTHON").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/phf/pyref-2.11.0/bin/python")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import transformers"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn transformers_loads_phf_model_files() {
    let Some(python) = python_with_transformers() else {
        eprintln!("skipped: no Python with transformers (set PHF_PYTHON or run `make pyref`)");
        return;
    };
    let model = reference_model();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path(), 0).unwrap();
    let tokens = read("batch.safetensors").remove("tokens").unwrap();
    let logits = model.forward(&tokens, false).logits;
    Tensor::write_safetensors(&[("logits", &logits)], dir.path().join("logits.safetensors")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/reference/check_hf_load.py");
    let out = Command::new(python)
        .arg(script)
        .arg(dir.path())
        .arg(fixture_dir().join("batch.safetensors"))
        .arg(dir.path().join("logits.safetensors"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "transformers could not load phf's files:\n{text}");
}

#[test]
fn save_and_load_round_trip_and_shape_errors() {
    let model = reference_model();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path(), 0).unwrap();
    let loaded = Gpt::load(dir.path(), Device::Cpu).unwrap();
    let tokens = read("batch.safetensors").remove("tokens").unwrap();
    let diff = max_abs_diff(
        &model.forward(&tokens, false).logits,
        &loaded.forward(&tokens, false).logits,
    );
    assert_eq!(diff, 0.0);

    let mut other = model.config.clone();
    other.n_embd = 64;
    let err = Gpt::new(other, Device::Cpu)
        .load_weights(&dir.path().join("model.safetensors"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("shape") && msg.contains("model.safetensors"), "{msg}");
}

/// A Hugging Face GPT-2 folder as the hub ships it: `config.json` without phf's key, tensors named without the
/// `transformer.` prefix, extra buffers (the attention masks of old checkpoints).
#[test]
fn hugging_face_gpt2_folders_load() {
    let model = reference_model();
    let dir = tempfile::tempdir().unwrap();
    let hf_config = model.config.to_hf_json(0);
    std::fs::write(dir.path().join("config.json"), hf_config.to_string()).unwrap();
    let mut named: Vec<(String, Tensor)> = model
        .vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n.strip_prefix("transformer.").unwrap_or(&n).to_string(), t))
        .collect();
    named.push((
        "h.0.attn.bias".into(),
        Tensor::ones([1, 1, 4, 4], (Kind::Float, Device::Cpu)),
    ));
    Tensor::write_safetensors(&named, dir.path().join("model.safetensors")).unwrap();
    let loaded = Gpt::load(dir.path(), Device::Cpu).unwrap();
    assert_eq!(loaded.config, model.config);
    let tokens = read("batch.safetensors").remove("tokens").unwrap();
    let diff = max_abs_diff(
        &model.forward(&tokens, false).logits,
        &loaded.forward(&tokens, false).logits,
    );
    assert_eq!(diff, 0.0);
}

#[test]
fn control_token_rows_start_at_the_mean_embedding() {
    let model = reference_model();
    tch::manual_seed(3);
    let grown = model.with_extra_tokens(2, true);
    assert_eq!(grown.config.vocab_size, model.config.vocab_size + 2);
    let old = model.token_embedding();
    let new = grown.token_embedding();
    let v = model.config.vocab_size as i64;
    assert_eq!(max_abs_diff(&new.narrow(0, 0, v), old), 0.0, "existing rows are kept");
    let mean = old.mean_dim(0, true, Kind::Float);
    let offset = (new.narrow(0, v, 2) - mean).abs().max().double_value(&[]);
    assert!(
        offset > 0.0 && offset < 0.06,
        "new rows are the mean plus 0.01·N(0,1): offset {offset}"
    );
    let tokens = read("batch.safetensors").remove("tokens").unwrap();
    let values = grown.forward(&tokens, false).values.unwrap();
    let v0 = values.abs().max().double_value(&[]);
    assert!(
        (v0 - 0.5).abs() < 1e-6,
        "a zero-initialised value head gives V = -sigmoid(0) = -0.5"
    );
}
