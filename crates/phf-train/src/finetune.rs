//! The finetuning regime (SPEC §4): start from an MLE checkpoint instead of random weights — the vocabulary
//! grown for control tokens with SPEC §3's initialisation, a value head added where the objective needs one —
//! skip the tokens the checkpoint already saw in the data stream, and train the rest of a token budget shared
//! with pretraining (so 1.66B MLE tokens + 1.64B PHF tokens compare with 3.3B PHF tokens), with a fresh
//! optimizer and schedule.

use std::path::{Path, PathBuf};

use phf_data::Tokenizer;
use phf_lm::{Gpt, GptConfig};
use tch::Device;

use crate::checkpoint;
use crate::config::TrainConfig;
use crate::trainer::TrainError;

/// The starting point of a finetuning run.
pub struct InitFrom {
    pub model: Gpt,
    /// Tokens the checkpoint was trained on: skipped in the data stream and counted against the budget.
    pub tokens_seen: u64,
    pub dir: PathBuf,
}

/// Loads `path` (a run directory, its latest checkpoint, or a checkpoint directory) as the start of a run whose
/// model shape is `target` and whose tokenizer is `tokenizer`; refuses another architecture or tokenizer.
pub fn init_from(
    path: &Path,
    target: &GptConfig,
    tokenizer: &Tokenizer,
    device: Device,
) -> Result<InitFrom, TrainError> {
    let invalid = |m: String| TrainError::Invalid(format!("training.init_from = {}: {m}", path.display()));
    let dir = if path.join(phf_lm::weights::WEIGHTS_FILE).exists() {
        path.to_path_buf()
    } else {
        checkpoint::latest(path)?.ok_or_else(|| invalid("neither a checkpoint nor a run with checkpoints".into()))?
    };
    let base = Gpt::load_config(&dir).map_err(checkpoint::CheckpointError::from)?;
    let shape = |c: &GptConfig| (c.n_ctx, c.n_embd, c.n_layer, c.n_head);
    if shape(&base) != shape(target) {
        return Err(invalid(format!(
            "its model is n_ctx/n_embd/n_layer/n_head = {:?}, this run's is {:?}: use the same [model] as the \
             checkpoint's run",
            shape(&base),
            shape(target)
        )));
    }
    let vocab = tokenizer.vocab_size();
    if vocab < base.vocab_size {
        return Err(invalid(format!(
            "it has {} embedding rows, more than this run's tokenizer ({vocab} tokens): use the checkpoint's \
             tokenizer (extended with control tokens for conditional training)",
            base.vocab_size
        )));
    }
    check_same_tokenizer(&dir, tokenizer, base.vocab_size).map_err(invalid)?;
    let state = checkpoint::read_state(&dir)?;
    let mut model = Gpt::load(&dir, device).map_err(checkpoint::CheckpointError::from)?;
    if vocab > base.vocab_size || target.value_head != base.value_head {
        model = model.with_extra_tokens(vocab - base.vocab_size, target.value_head);
    }
    model.config.dropout = target.dropout;
    Ok(InitFrom {
        model,
        tokens_seen: state.tokens_seen,
        dir,
    })
}

/// The checkpoint's own tokenizer (named in its run.toml) must agree with this run's on its first `rows` ids:
/// the run may only add tokens (control tokens) after them.
fn check_same_tokenizer(dir: &Path, tokenizer: &Tokenizer, rows: usize) -> Result<(), String> {
    let text = checkpoint::config_text(dir).map_err(|e| e.to_string())?;
    let config =
        TrainConfig::from_toml(&text, &[], &dir.join(checkpoint::RUN_CONFIG_FILE)).map_err(|e| e.to_string())?;
    let theirs = Tokenizer::load(&config.data.tokenizer).map_err(|e| format!("its tokenizer: {e}"))?;
    match (0..rows as u32).find(|&id| theirs.id_to_token(id) != tokenizer.id_to_token(id)) {
        None => Ok(()),
        Some(id) => Err(format!(
            "it was trained with another tokenizer ({}): token {id} is {:?} there and {:?} here; prepare this \
             run's data with that tokenizer",
            config.data.tokenizer.display(),
            theirs.id_to_token(id),
            tokenizer.id_to_token(id)
        )),
    }
}
