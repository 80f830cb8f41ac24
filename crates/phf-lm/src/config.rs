//! The GPT-2 architecture's hyperparameters, with the presets of DESIGN.md (Scales).

use serde::{Deserialize, Serialize};

/// Everything that fixes the shape of a GPT-2 model. Saved beside every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GptConfig {
    /// Rows of the (tied) token embedding, control tokens included.
    pub vocab_size: usize,
    /// Context length: the number of learned position embeddings.
    pub n_ctx: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// GPT-2 uses one dropout rate for embeddings, attention and residual paths (0.1 in the paper).
    pub dropout: f64,
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Standard deviation of GPT-2's normal initialisation.
    #[serde(default = "default_init_std")]
    pub init_std: f64,
    /// Adds AWR's value head (SPEC §3).
    #[serde(default)]
    pub value_head: bool,
}

fn default_layer_norm_eps() -> f64 {
    1e-5
}
fn default_init_std() -> f64 {
    0.02
}

/// Named sizes: `tiny` for tests and CI, `small` for CPU runs, `gpt2` for the paper's GPT-2 small.
pub const PRESETS: [&str; 3] = ["tiny", "small", "gpt2"];

impl GptConfig {
    /// A preset by name; `vocab_size` is the preset's default and is usually replaced by the tokenizer's.
    pub fn preset(name: &str) -> Option<GptConfig> {
        let (vocab_size, n_ctx, n_embd, n_layer, n_head, dropout) = match name {
            // ~0.9M parameters: seconds per run.
            "tiny" => (4096, 128, 128, 2, 4, 0.0),
            // ~6.9M parameters: the demo and grid on a laptop CPU.
            "small" => (8192, 256, 256, 6, 8, 0.1),
            // GPT-2 small (124M) with the GPT-2 vocabulary plus two control tokens (SPEC §4).
            "gpt2" => (50259, 1024, 768, 12, 12, 0.1),
            _ => return None,
        };
        Some(GptConfig {
            vocab_size,
            n_ctx,
            n_embd,
            n_layer,
            n_head,
            dropout,
            layer_norm_eps: default_layer_norm_eps(),
            init_std: default_init_std(),
            value_head: false,
        })
    }

    /// Checks the shape constraints a user could break through a config file.
    pub fn validate(&self) -> Result<(), String> {
        if self.n_head == 0 || !self.n_embd.is_multiple_of(self.n_head) {
            return Err(format!(
                "model.n_embd ({}) must be a multiple of model.n_head ({})",
                self.n_embd, self.n_head
            ));
        }
        if self.vocab_size == 0 || self.n_ctx == 0 || self.n_layer == 0 {
            return Err("model.vocab_size, model.n_ctx and model.n_layer must be positive".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("model.dropout ({}) must be in [0, 1)", self.dropout));
        }
        Ok(())
    }

    /// Number of parameters (tied embedding counted once; value head included when present).
    pub fn num_params(&self) -> usize {
        let d = self.n_embd;
        let per_layer = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
        self.vocab_size * d + self.n_ctx * d + self.n_layer * per_layer + 2 * d + usize::from(self.value_head) * d
    }

    /// Forward+backward FLOPs per trained token: 6N + 12·L·d·T (the attention term of the PaLM appendix),
    /// N counting the non-embedding weights plus the output projection.
    pub fn flops_per_token(&self) -> f64 {
        let n = (self.num_params() - self.n_ctx * self.n_embd) as f64;
        6.0 * n + 12.0 * (self.n_layer * self.n_embd * self.n_ctx) as f64
    }

    /// Reads a Hugging Face `GPT2Config` (`config.json` of a GPT-2 model from the hub or `save_pretrained`).
    pub fn from_hf_json(json: &serde_json::Value) -> Result<GptConfig, String> {
        if json["model_type"].as_str() != Some("gpt2") {
            return Err(
                "neither a phf model (no `phf` key) nor a Hugging Face GPT-2 config (`model_type` \
                        is not \"gpt2\")"
                    .into(),
            );
        }
        let int = |keys: &[&str]| -> Result<usize, String> {
            keys.iter()
                .find_map(|k| json[*k].as_u64())
                .map(|v| v as usize)
                .ok_or_else(|| format!("key `{}` is missing or not an integer", keys[0]))
        };
        let float = |key: &str, default: f64| json[key].as_f64().unwrap_or(default);
        if json["n_inner"]
            .as_u64()
            .is_some_and(|n| n as usize != 4 * int(&["n_embd"]).unwrap_or(0))
        {
            return Err("`n_inner` other than 4·n_embd is not supported".into());
        }
        let config = GptConfig {
            vocab_size: int(&["vocab_size"])?,
            n_ctx: int(&["n_positions", "n_ctx"])?,
            n_embd: int(&["n_embd"])?,
            n_layer: int(&["n_layer"])?,
            n_head: int(&["n_head"])?,
            dropout: float("resid_pdrop", 0.1),
            layer_norm_eps: float("layer_norm_epsilon", default_layer_norm_eps()),
            init_std: float("initializer_range", default_init_std()),
            value_head: false,
        };
        config.validate()?;
        Ok(config)
    }

    /// The Hugging Face `GPT2Config` equivalent, so `transformers` can load phf weights.
    pub fn to_hf_json(&self, eos_token_id: u32) -> serde_json::Value {
        serde_json::json!({
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "vocab_size": self.vocab_size,
            "n_positions": self.n_ctx,
            "n_ctx": self.n_ctx,
            "n_embd": self.n_embd,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_inner": null,
            "activation_function": "gelu_new",
            "resid_pdrop": self.dropout,
            "embd_pdrop": self.dropout,
            "attn_pdrop": self.dropout,
            "layer_norm_epsilon": self.layer_norm_eps,
            "initializer_range": self.init_std,
            "bos_token_id": eos_token_id,
            "eos_token_id": eos_token_id,
            "tie_word_embeddings": true,
            "torch_dtype": "float32",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_documented_sizes() {
        let tiny = GptConfig::preset("tiny").unwrap().num_params();
        let small = GptConfig::preset("small").unwrap().num_params();
        let gpt2 = GptConfig::preset("gpt2").unwrap();
        assert!((800_000..1_200_000).contains(&tiny), "tiny has {tiny}");
        assert!((5_000_000..10_000_000).contains(&small), "small has {small}");
        // GPT-2 small is 124,439,808 parameters with 50,257 tokens; two control tokens add 2·768.
        assert_eq!(gpt2.num_params(), 124_439_808 + 2 * 768);
    }

    #[test]
    fn reads_its_own_hf_config_back() {
        let c = GptConfig::preset("small").unwrap();
        assert_eq!(GptConfig::from_hf_json(&c.to_hf_json(0)).unwrap(), c);
        let err = GptConfig::from_hf_json(&serde_json::json!({"model_type": "llama"})).unwrap_err();
        assert!(err.contains("model_type"), "{err}");
    }

    #[test]
    fn rejects_heads_that_do_not_divide_the_width() {
        let mut c = GptConfig::preset("tiny").unwrap();
        c.n_head = 3;
        assert!(c.validate().unwrap_err().contains("model.n_head"));
    }
}
