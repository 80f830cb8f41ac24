//! GPT-2 (Radford et al. 2019) as in the paper's experiments (SPEC §4): learned positions, pre-LayerNorm blocks,
//! tanh-GELU MLP, tied input/output embeddings, dropout, causal attention through libtorch's fused
//! `scaled_dot_product_attention`; plus AWR's optional value head (SPEC §3).
//!
//! Parameter names and layouts are Hugging Face `GPT2LMHeadModel`'s (`transformer.h.0.attn.c_attn.weight`, ...;
//! its `Conv1D` stores weights as `[in, out]`), so a phf checkpoint is a loadable HF GPT-2.

use tch::{nn, Device, Kind, Tensor};

use crate::config::GptConfig;
use crate::kv_cache::KvCache;

/// `Bf16` runs matmuls and attention in bfloat16 with fp32 weights, residual stream, LayerNorm and loss: the
/// same split as CUDA autocast, made explicit so that it also works (and is testable) on CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Bf16,
}

impl Precision {
    /// bf16 on CUDA (SPEC §4: mixed precision), exact fp32 on CPU.
    pub fn default_for(device: Device) -> Precision {
        if device.is_cuda() {
            Precision::Bf16
        } else {
            Precision::Fp32
        }
    }
    fn kind(self) -> Kind {
        match self {
            Precision::Fp32 => Kind::Float,
            Precision::Bf16 => Kind::BFloat16,
        }
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

/// HF `Conv1D`: `y = x · W + b` with `W` of shape `[in, out]`.
struct Conv1D {
    weight: Tensor,
    bias: Tensor,
}

struct Block {
    ln_1: LayerNorm,
    c_attn: Conv1D,
    attn_c_proj: Conv1D,
    ln_2: LayerNorm,
    c_fc: Conv1D,
    mlp_c_proj: Conv1D,
}

/// What a forward pass returns: next-token logits (fp32) and, with a value head, AWR's values `V ∈ (-1, 0)`.
pub struct ForwardOutput {
    /// `(B, T, vocab)`
    pub logits: Tensor,
    /// `(B, T)`, present when the model has a value head.
    pub values: Option<Tensor>,
}

pub struct Gpt {
    pub config: GptConfig,
    pub vs: nn::VarStore,
    wte: Tensor,
    wpe: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    value_head: Option<Tensor>,
    detach_value_input: bool,
    precision: Precision,
}

impl LayerNorm {
    fn new(p: nn::Path, d: i64) -> Self {
        LayerNorm {
            weight: p.ones("weight", &[d]),
            bias: p.zeros("bias", &[d]),
        }
    }
    fn forward(&self, x: &Tensor, eps: f64) -> Tensor {
        x.layer_norm([x.size()[x.dim() - 1]], Some(&self.weight), Some(&self.bias), eps, true)
    }
}

impl Conv1D {
    fn new(p: nn::Path, d_in: i64, d_out: i64, std: f64) -> Self {
        Conv1D {
            weight: p.var("weight", &[d_in, d_out], nn::Init::Randn { mean: 0.0, stdev: std }),
            bias: p.zeros("bias", &[d_out]),
        }
    }
    fn forward(&self, x: &Tensor, precision: Precision) -> Tensor {
        let mut shape = x.size();
        let d_in = shape.pop().expect("Conv1D input has a feature dimension");
        let x2 = x.reshape([-1, d_in]); // (B·T, in)
        let y = match precision {
            Precision::Fp32 => self.bias.addmm(&x2, &self.weight),
            Precision::Bf16 => {
                let k = precision.kind();
                self.bias.to_kind(k).addmm(&x2.to_kind(k), &self.weight.to_kind(k))
            }
        };
        shape.push(y.size()[1]);
        y.reshape(shape.as_slice()) // (B, T, out)
    }
}

impl Gpt {
    /// A freshly initialised model (GPT-2 initialisation: N(0, 0.02) weights, residual projections scaled by
    /// 1/√(2·n_layer), zero biases, unit LayerNorms; a zero value head). Seed with `tch::manual_seed` first.
    pub fn new(config: GptConfig, device: Device) -> Gpt {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let (d, std) = (config.n_embd as i64, config.init_std);
        let proj_std = std / (2.0 * config.n_layer as f64).sqrt();
        let t = root.sub("transformer");
        let randn = |std| nn::Init::Randn { mean: 0.0, stdev: std };
        let wte = t.sub("wte").var("weight", &[config.vocab_size as i64, d], randn(std));
        let wpe = t.sub("wpe").var("weight", &[config.n_ctx as i64, d], randn(std));
        let blocks = (0..config.n_layer)
            .map(|i| {
                let h = t.sub("h").sub(i);
                Block {
                    ln_1: LayerNorm::new(h.sub("ln_1"), d),
                    c_attn: Conv1D::new(h.sub("attn").sub("c_attn"), d, 3 * d, std),
                    attn_c_proj: Conv1D::new(h.sub("attn").sub("c_proj"), d, d, proj_std),
                    ln_2: LayerNorm::new(h.sub("ln_2"), d),
                    c_fc: Conv1D::new(h.sub("mlp").sub("c_fc"), d, 4 * d, std),
                    mlp_c_proj: Conv1D::new(h.sub("mlp").sub("c_proj"), 4 * d, d, proj_std),
                }
            })
            .collect();
        let ln_f = LayerNorm::new(t.sub("ln_f"), d);
        let value_head = config
            .value_head
            .then(|| root.sub("value_head").zeros("weight", &[d, 1]));
        Gpt {
            config,
            vs,
            wte,
            wpe,
            blocks,
            ln_f,
            value_head,
            detach_value_input: false,
            precision: Precision::default_for(device),
        }
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn set_precision(&mut self, precision: Precision) {
        self.precision = precision;
    }

    /// Feed the value head a detached hidden state, so that AWR's value loss trains the head only.
    pub fn set_detach_value_input(&mut self, detach: bool) {
        self.detach_value_input = detach;
    }

    /// The token embedding (also the output projection: GPT-2 ties them).
    pub fn token_embedding(&self) -> &Tensor {
        &self.wte
    }

    /// Training/evaluation forward pass over whole blocks. `tokens`: `(B, T)` int64, `T ≤ n_ctx`.
    pub fn forward(&self, tokens: &Tensor, train: bool) -> ForwardOutput {
        let hidden = self.hidden_states(tokens, 0, None, train);
        let values = self.value_head.as_ref().map(|w| {
            // V = -sigmoid(h·w) ∈ (-1, 0), matching rewards r = -s ≤ 0 (SPEC §3, AWR)
            let input = if self.detach_value_input {
                hidden.detach()
            } else {
                hidden.shallow_clone()
            };
            input.matmul(w).squeeze_dim(-1).sigmoid().neg() // (B, T)
        });
        ForwardOutput {
            logits: self.lm_head(&hidden),
            values,
        }
    }

    /// Incremental forward for sampling: `tokens` are the `(B, T_new)` tokens after those already in `cache`;
    /// returns their logits `(B, T_new, vocab)` and appends their keys/values to the cache.
    pub fn forward_cached(&self, tokens: &Tensor, cache: &mut KvCache) -> Tensor {
        let past = cache.len();
        let hidden = self.hidden_states(tokens, past, Some(cache), false);
        self.lm_head(&hidden)
    }

    fn lm_head(&self, hidden: &Tensor) -> Tensor {
        let logits = match self.precision {
            Precision::Fp32 => hidden.matmul(&self.wte.tr()),
            Precision::Bf16 => {
                let k = self.precision.kind();
                hidden.to_kind(k).matmul(&self.wte.to_kind(k).tr())
            }
        };
        logits.to_kind(Kind::Float) // (B, T, vocab)
    }

    // `x = x + a`, not `x += a`: tch's `+=` is an in-place add, which would overwrite the activations that
    // LayerNorm saved for the backward pass.
    #[allow(clippy::assign_op_pattern)]
    fn hidden_states(&self, tokens: &Tensor, past: usize, mut cache: Option<&mut KvCache>, train: bool) -> Tensor {
        let (_, t) = tokens.size2().expect("tokens are (B, T)");
        assert!(
            past as i64 + t <= self.config.n_ctx as i64,
            "sequence of {} tokens exceeds the context length {}",
            past as i64 + t,
            self.config.n_ctx
        );
        let positions = Tensor::arange_start(past as i64, past as i64 + t, (Kind::Int64, tokens.device()));
        let p = self.config.dropout;
        let mut x = (embed(&self.wte, tokens) + embed(&self.wpe, &positions)).dropout(p, train);
        for (layer, block) in self.blocks.iter().enumerate() {
            let a = self.attention(
                block,
                &block.ln_1.forward(&x, self.config.layer_norm_eps),
                layer,
                &mut cache,
                train,
            );
            x = x + a;
            let h = block
                .c_fc
                .forward(&block.ln_2.forward(&x, self.config.layer_norm_eps), self.precision);
            let m = block
                .mlp_c_proj
                .forward(&h.gelu("tanh"), self.precision)
                .dropout(p, train);
            x = x + m;
        }
        self.ln_f.forward(&x, self.config.layer_norm_eps) // (B, T, d)
    }

    fn attention(
        &self,
        block: &Block,
        x: &Tensor,
        layer: usize,
        cache: &mut Option<&mut KvCache>,
        train: bool,
    ) -> Tensor {
        let (b, t, d) = x.size3().expect("hidden states are (B, T, d)");
        let nh = self.config.n_head as i64;
        let qkv = block.c_attn.forward(x, self.precision); // (B, T, 3d)
        let qkv = qkv.view([b, t, 3, nh, d / nh]).permute([2, 0, 3, 1, 4]); // (3, B, nh, T, hs)
        let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
        let (k, v, past) = match cache.as_deref_mut() {
            Some(c) => {
                let past = c.len() as i64;
                let (k, v) = c.append(layer, k, v); // (B, nh, past + T, hs)
                (k, v, past)
            }
            None => (k, v, 0),
        };
        let dropout = if train { self.config.dropout } else { 0.0 };
        let y = if past == 0 {
            Tensor::scaled_dot_product_attention(&q, &k, &v, None::<Tensor>, dropout, true, None, false)
        } else if t == 1 {
            // one new query after the cache sees every position: no mask at all
            Tensor::scaled_dot_product_attention(&q, &k, &v, None::<Tensor>, dropout, false, None, false)
        } else {
            // With a cache the new queries sit at positions past..past+T: SDPA's `is_causal` mask is aligned to
            // the top-left corner, so give the bottom-right-aligned mask explicitly.
            let opts = (Kind::Int64, x.device());
            let rows = Tensor::arange_start(past, past + t, opts).unsqueeze(1);
            let cols = Tensor::arange(past + t, opts).unsqueeze(0);
            let mask = cols.le_tensor(&rows); // (T, past + T), true = may attend
            Tensor::scaled_dot_product_attention(&q, &k, &v, Some(mask), dropout, false, None, false)
        }; // (B, nh, T, hs)
        let y = y.transpose(1, 2).contiguous().view([b, t, d]);
        block
            .attn_c_proj
            .forward(&y, self.precision)
            .dropout(self.config.dropout, train)
    }
}

/// Row lookup in an embedding table (no padding index, dense gradient).
fn embed(table: &Tensor, ids: &Tensor) -> Tensor {
    Tensor::embedding(table, ids, -1, false, false)
}
