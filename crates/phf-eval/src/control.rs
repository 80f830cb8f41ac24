//! Conditional generation (SPEC §3): a model trained with control tokens is prompted with `EOS <|aligned|>`
//! (or any combination of attribute tokens, e.g. `<|toxicity:aligned|><|pii:aligned|>`), control tokens are
//! banned from its continuations (PEP8 bans only `<|misaligned|>`, so `<|aligned|>` may start each line), and
//! they are stripped from the returned text before scoring.

use clap::ValueEnum;
use phf_data::Tokenizer;

use crate::EvalError;

/// Which control tokens the sampler may not generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BanControl {
    /// Every control token (toxicity, PII).
    All,
    /// Only the misaligned ones (PEP8).
    Misaligned,
    /// None.
    None,
}

/// A tokenizer's control tokens: every special token of the form `<|aligned|>`, `<|misaligned|>`,
/// `<|ATTRIBUTE:aligned|>` or `<|ATTRIBUTE:misaligned|>`.
pub struct ControlTokens {
    /// (id, name without the `<|`/`|>`), e.g. (8192, "aligned").
    tokens: Vec<(u32, String)>,
}

impl ControlTokens {
    pub fn of(tokenizer: &Tokenizer) -> ControlTokens {
        let tokens = (0..tokenizer.vocab_size() as u32)
            .filter_map(|id| {
                let token = tokenizer.id_to_token(id)?;
                let name = token.strip_prefix("<|")?.strip_suffix("|>")?;
                let label = name.rsplit(':').next()?;
                matches!(label, "aligned" | "misaligned").then(|| (id, name.to_string()))
            })
            .collect();
        ControlTokens { tokens }
    }

    /// The control tokens as written in the vocabulary (`<|aligned|>`, ...), in id order.
    pub fn tokens(&self) -> Vec<String> {
        self.tokens.iter().map(|(_, name)| format!("<|{name}|>")).collect()
    }

    /// The ids of `--control` names (`aligned`, `toxicity:aligned`, ...), in order, for the prompt.
    pub fn prompt_ids(&self, names: &[String]) -> Result<Vec<u32>, EvalError> {
        names
            .iter()
            .map(|name| match self.tokens.iter().find(|(_, n)| n == name) {
                Some((id, _)) => Ok(*id),
                None if self.tokens.is_empty() => Err(EvalError::Invalid(format!(
                    "--control {name}: this tokenizer has no control tokens; the model was not trained with \
                     conditional training (phf prepare --transform conditional)"
                ))),
                None => Err(EvalError::Invalid(format!(
                    "--control {name}: no such control token; this tokenizer has {}",
                    self.tokens
                        .iter()
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            })
            .collect()
    }

    /// The ids the sampler must not generate.
    pub fn banned(&self, ban: BanControl) -> Vec<i64> {
        self.tokens
            .iter()
            .filter(|(_, name)| match ban {
                BanControl::All => true,
                BanControl::Misaligned => name.ends_with("misaligned"),
                BanControl::None => false,
            })
            .map(|(id, _)| i64::from(*id))
            .collect()
    }

    /// Whether the tokenizer has any control token (the model was trained conditionally).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Removes control tokens from generated ids (before decoding and scoring).
    pub fn strip(&self, ids: &[i64]) -> Vec<u32> {
        ids.iter()
            .filter(|&&t| !self.tokens.iter().any(|(id, _)| i64::from(*id) == t))
            .map(|&t| t as u32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer() -> Tokenizer {
        let text = "the cat sat on the mat. the dog sat on the log.".to_string();
        let mut tok = Tokenizer::train_bpe(std::iter::repeat_n(text, 4), 280).unwrap();
        tok.add_special_tokens(&["<|aligned|>", "<|misaligned|>", "<|pii:aligned|>"]);
        tok
    }

    #[test]
    fn finds_bans_and_strips_control_tokens() {
        let tok = tokenizer();
        let control = ControlTokens::of(&tok);
        let aligned = tok.token_id("<|aligned|>").unwrap();
        let misaligned = tok.token_id("<|misaligned|>").unwrap();
        assert_eq!(control.prompt_ids(&["aligned".into()]).unwrap(), vec![aligned]);
        assert_eq!(control.banned(BanControl::All).len(), 3);
        assert_eq!(control.banned(BanControl::Misaligned), vec![i64::from(misaligned)]);
        assert_eq!(control.strip(&[5, i64::from(aligned), 6]), vec![5, 6]);
        let err = control
            .prompt_ids(&["toxicity:aligned".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("aligned, misaligned, pii:aligned"), "{err}");
    }

    #[test]
    fn a_model_without_control_tokens_says_so() {
        let tok = Tokenizer::train_bpe(std::iter::repeat_n("plain text only".to_string(), 3), 270).unwrap();
        let err = ControlTokens::of(&tok)
            .prompt_ids(&["aligned".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not trained with conditional training"), "{err}");
    }
}
