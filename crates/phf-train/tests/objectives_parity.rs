//! Every objective's loss and its gradients with respect to the logits (and AWR's values) against the PyTorch
//! numbers of `scripts/reference/objectives_parity.py` (the reference implementation's formulas), within 1e-5
//! (relative to the magnitude for values above 1).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use phf_train::{ObjectiveInput, ObjectiveSection};
use tch::Tensor;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/objectives")
        .join(name)
}

fn read(name: &str) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(fixture(name)).unwrap().into_iter().collect()
}

fn assert_close(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.size(), want.size(), "{what}: shape");
    let scale = want.abs().max().double_value(&[]).max(1.0);
    let diff = (got - want).abs().max().double_value(&[]);
    assert!(
        diff <= 1e-5 * scale,
        "{what}: differs from PyTorch by {diff:.3e} (scale {scale:.3})"
    );
}

#[test]
fn objectives_match_the_pytorch_reference() {
    let inputs = read("inputs.safetensors");
    let expected = read("expected.safetensors");
    let cases: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("cases.json")).unwrap()).unwrap();
    assert!(cases.len() >= 9);
    for (case, section) in cases {
        let section: ObjectiveSection = serde_json::from_value(section).unwrap();
        let objective = section.build().unwrap();
        let logits = inputs["logits"].copy().set_requires_grad(true);
        let values = inputs["values"].copy().set_requires_grad(true);
        let input = ObjectiveInput {
            logits: &logits,
            tokens: &inputs["tokens"],
            token_scores: &inputs["token_scores"],
            values: objective.needs_value_head().then_some(&values),
        };
        let out = objective.loss(&input);
        assert_close(
            &format!("{case}: loss"),
            &out.loss.reshape([1]),
            &expected[&format!("{case}.loss")],
        );
        out.loss.backward();
        assert_close(
            &format!("{case}: d loss / d logits"),
            &logits.grad(),
            &expected[&format!("{case}.grad_logits")],
        );
        if let Some(want) = expected.get(&format!("{case}.grad_values")) {
            assert_close(&format!("{case}: d loss / d values"), &values.grad(), want);
        }
        let names: Vec<&str> = out.components.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"lm_loss"), "{case} logs lm_loss: {names:?}");
        eprintln!("{case}: loss {:.6} matches", out.loss.double_value(&[]));
    }
}
