//! The finetuning regime: a PHF objective started from an MLE checkpoint continues the same data stream, grows
//! the vocabulary for control tokens and adds a value head, trains only the rest of the shared token budget, and
//! refuses checkpoints of another architecture or tokenizer.

mod common;

use std::path::Path;

use common::{opts, pack, setup, trajectory, TRAINING};
use phf_data::Tokenizer;
use phf_train::{train, ObjectiveSection, TrainConfig};

fn mle_half(base: &TrainConfig, dir: &Path) -> (TrainConfig, Vec<(u64, f64, String)>) {
    let mut mle = base.clone();
    mle.model.dropout = Some(0.0);
    let straight = dir.join("mle_straight");
    train(&mle, &opts(&straight, false)).unwrap();
    let mut half = mle.clone();
    half.training.max_steps = 10;
    train(&half, &opts(&dir.join("mle_half"), false)).unwrap();
    (mle, trajectory(&straight))
}

#[test]
fn finetuning_continues_the_stream_with_a_fresh_objective() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let (mle, straight) = mle_half(&setup(tmp.path()), tmp.path());

    let mut awr = mle.clone();
    awr.objective =
        serde_json::from_value::<ObjectiveSection>(serde_json::json!({"name": "awr", "alpha": 0.5, "beta": 1.0}))
            .unwrap();
    awr.training.init_from = Some(tmp.path().join("mle_half"));
    let run = tmp.path().join("awr_finetune");
    let summary = train(&awr, &opts(&run, false)).unwrap();
    assert_eq!(
        summary.steps, 10,
        "the shared budget of 20 updates leaves 10 after the checkpoint's 10"
    );
    assert_eq!(
        summary.tokens_seen,
        straight.len() as u64 * 256,
        "tokens count from the checkpoint's"
    );

    let fine = trajectory(&run);
    assert_eq!(
        fine[0].2, straight[10].2,
        "the first finetuning batch is the 11th of the MLE stream"
    );
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(run.join("log.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let lm_loss = first["lm_loss"].as_f64().unwrap();
    assert!(
        (lm_loss - straight[10].1).abs() < 1e-5,
        "starts from the checkpoint's weights: {lm_loss} vs {}",
        straight[10].1
    );
    assert!(phf_lm::Gpt::load_config(&summary.checkpoint).unwrap().value_head);
}

#[test]
fn finetuning_grows_the_vocabulary_for_control_tokens() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let (mle, _) = mle_half(&setup(tmp.path()), tmp.path());
    // the conditional run's tokenizer: the MLE tokenizer plus two control tokens, and data packed with it
    let mut tok = Tokenizer::load(&mle.data.tokenizer).unwrap();
    let old_vocab = tok.vocab_size();
    tok.add_special_tokens(&["<|aligned|>", "<|misaligned|>"]);
    let tok_path = tmp.path().join("conditional_tokenizer.json");
    tok.save(&tok_path).unwrap();
    pack(tmp.path(), &tok, "cond_data");

    let mut cond = mle.clone();
    cond.objective.name = "conditional".into();
    cond.data.tokenizer = tok_path;
    cond.data.train = tmp.path().join("cond_data/train");
    cond.data.valid = Some(tmp.path().join("cond_data/valid"));
    cond.training.init_from = Some(tmp.path().join("mle_half"));
    let summary = train(&cond, &opts(&tmp.path().join("cond"), false)).unwrap();
    let model = phf_lm::Gpt::load(&summary.checkpoint, tch::Device::Cpu).unwrap();
    assert_eq!(model.config.vocab_size, old_vocab + 2);
}

#[test]
fn checkpoints_of_another_shape_or_tokenizer_or_budget_are_refused() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let (mle, _) = mle_half(&setup(tmp.path()), tmp.path());
    let from = |c: &TrainConfig| {
        let mut c = c.clone();
        c.training.init_from = Some(tmp.path().join("mle_half"));
        train(&c, &opts(&tmp.path().join("refused"), false))
            .unwrap_err()
            .to_string()
    };
    let mut wider = mle.clone();
    wider.model.n_embd = Some(64);
    let err = from(&wider);
    assert!(err.contains("training.init_from") && err.contains("n_embd"), "{err}");

    let mut small_budget = mle.clone();
    small_budget.training.total_tokens = 1000;
    let err = from(&small_budget);
    assert!(
        err.contains("training.total_tokens") && err.contains("already saw"),
        "{err}"
    );

    // a tokenizer trained on other text (as many tokens as the checkpoint's), with data prepared by it
    // (the same documents upper-cased: as many merges, other tokens)
    let corpus = std::fs::read_to_string(tmp.path().join("docs.jsonl")).unwrap();
    let other = Tokenizer::train_bpe(corpus.lines().map(|l| l.to_uppercase()), 300).unwrap();
    assert!(other.vocab_size() >= 300, "{}", other.vocab_size());
    let other_path = tmp.path().join("other.json");
    other.save(&other_path).unwrap();
    pack(tmp.path(), &other, "other_data");
    let mut other_tok = mle.clone();
    other_tok.data.tokenizer = other_path;
    other_tok.data.train = tmp.path().join("other_data/train");
    other_tok.data.valid = None;
    let err = from(&other_tok);
    assert!(err.contains("another tokenizer"), "{err}");
    assert!(!tmp.path().join("refused/checkpoints").exists());
}
