//! Batched sampling with a KV cache: temperature, top-k, nucleus (top-p), a minimum length before which EOS is
//! banned, banned token ids (control tokens, SPEC §3) and a seed that makes every run reproducible.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::draw::{draw_rows, Filter};
use crate::kv_cache::KvCache;
use crate::model::Gpt;

/// Sampling settings; the defaults are SPEC §5's unconditional-sample settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SampleOptions {
    pub num_samples: usize,
    /// Sequences generated together (one KV cache).
    pub batch_size: usize,
    /// Tokens generated after the prompt, at most (also bounded by the model's context).
    pub max_new_tokens: usize,
    /// EOS is banned until this many tokens have been generated.
    pub min_new_tokens: usize,
    /// 0 means greedy decoding.
    pub temperature: f64,
    /// Nucleus sampling mass; 1.0 turns it off.
    pub top_p: f64,
    /// Keep only the k most likely tokens; 0 turns it off.
    pub top_k: usize,
    /// Token ids that are never generated.
    pub banned_tokens: Vec<i64>,
    pub seed: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            num_samples: 16,
            batch_size: 64,
            max_new_tokens: 128,
            min_new_tokens: 10,
            temperature: 0.7,
            top_p: 0.9,
            top_k: 0,
            banned_tokens: Vec::new(),
            seed: 42,
        }
    }
}

impl SampleOptions {
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 {
            return Err("batch_size must be positive".into());
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(format!("top_p ({}) must be in (0, 1]", self.top_p));
        }
        if self.temperature < 0.0 || !self.temperature.is_finite() {
            return Err(format!("temperature ({}) must be ≥ 0", self.temperature));
        }
        if self.min_new_tokens > self.max_new_tokens {
            return Err(format!(
                "min_new_tokens ({}) exceeds max_new_tokens ({})",
                self.min_new_tokens, self.max_new_tokens
            ));
        }
        Ok(())
    }
}

/// Draws `opts.num_samples` continuations of `prompt`; each is returned without the prompt and cut before its
/// first EOS. `on_batch` is called with the number of samples finished so far (for progress bars).
pub fn generate(
    model: &Gpt,
    prompt: &[i64],
    eos: i64,
    opts: &SampleOptions,
    mut on_batch: impl FnMut(usize),
) -> Vec<Vec<i64>> {
    assert!(
        !prompt.is_empty(),
        "the prompt must hold at least one token (GPT-2 starts from EOS)"
    );
    tch::manual_seed(opts.seed as i64);
    let mut samples = Vec::with_capacity(opts.num_samples);
    for batch in 0.. {
        if samples.len() >= opts.num_samples {
            break;
        }
        let b = opts.batch_size.min(opts.num_samples - samples.len());
        // each batch draws from its own stream of the seed
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(batch);
        samples.extend(generate_batch(model, prompt, eos, b, opts, &mut rng));
        on_batch(samples.len());
    }
    samples
}

fn generate_batch(
    model: &Gpt,
    prompt: &[i64],
    eos: i64,
    b: usize,
    opts: &SampleOptions,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<i64>> {
    tch::no_grad(|| {
        let device = model.device();
        let room = model.config.n_ctx.saturating_sub(prompt.len());
        let max_new = opts.max_new_tokens.min(room);
        let mut cache = KvCache::with_capacity(model.config.n_layer, prompt.len() + max_new);
        let input = Tensor::from_slice(prompt).to(device).unsqueeze(0).repeat([b as i64, 1]); // (B, P)
        let mut logits = model.forward_cached(&input, &mut cache).select(1, -1); // (B, V)
        let banned = Tensor::from_slice(&opts.banned_tokens).to(device);
        let mut finished = Tensor::zeros([b as i64], (Kind::Bool, device));
        let mut generated: Vec<Tensor> = Vec::with_capacity(max_new);
        for step in 0..max_new {
            let next = pick_next(&logits, &banned, eos, step < opts.min_new_tokens, opts, rng); // (B,)
            let next = next.where_self(&finished.logical_not(), &Tensor::from(eos).to(device));
            finished = finished.logical_or(&next.eq(eos));
            generated.push(next.shallow_clone());
            if step + 1 == max_new || bool::try_from(finished.all()).unwrap_or(false) {
                break;
            }
            logits = model.forward_cached(&next.unsqueeze(1), &mut cache).select(1, -1);
        }
        if generated.is_empty() {
            return vec![Vec::new(); b];
        }
        let tokens = Tensor::stack(&generated, 1).to(tch::Device::Cpu); // (B, new)
        let rows: Vec<Vec<i64>> = Vec::<Vec<i64>>::try_from(tokens).expect("int64 token matrix");
        rows.into_iter()
            .map(|row| row.into_iter().take_while(|&t| t != eos).collect())
            .collect()
    })
}

/// Applies bans, temperature, top-k and top-p to `(B, V)` logits and draws one token per row: row by row in
/// [`crate::draw`] on the CPU, with libtorch's operations on an accelerator.
fn pick_next(
    logits: &Tensor,
    banned: &Tensor,
    eos: i64,
    ban_eos: bool,
    opts: &SampleOptions,
    rng: &mut ChaCha8Rng,
) -> Tensor {
    let logits = banned_and_tempered(logits, banned, eos, ban_eos, opts);
    if opts.temperature == 0.0 {
        return logits.argmax(-1, false);
    }
    if logits.device() != Device::Cpu {
        return filter_and_race(logits, opts);
    }
    let probs = logits.softmax(-1, Kind::Float);
    let vocab = probs.size()[1] as usize;
    let probs = Vec::<f32>::try_from(probs.reshape([-1])).expect("float probabilities");
    let top_k = if opts.top_k < vocab { opts.top_k } else { 0 };
    let filter = Filter {
        top_k,
        top_p: opts.top_p,
    };
    Tensor::from_slice(&draw_rows(&probs, vocab, filter, rng))
}

/// The logits with banned tokens (and EOS before the minimum length) at -inf, divided by the temperature
/// (unless it is 0, greedy decoding).
fn banned_and_tempered(logits: &Tensor, banned: &Tensor, eos: i64, ban_eos: bool, opts: &SampleOptions) -> Tensor {
    let mut logits = logits.to_kind(Kind::Float);
    if banned.numel() > 0 {
        logits = logits.index_fill(1, banned, f64::NEG_INFINITY);
    }
    if ban_eos {
        logits = logits.index_fill(1, &Tensor::from_slice(&[eos]).to(logits.device()), f64::NEG_INFINITY);
    }
    if opts.temperature == 0.0 {
        return logits;
    }
    logits.divide_scalar(opts.temperature)
}

/// Top-k and top-p with libtorch's operations, then a draw from the global generator: for tensors on an
/// accelerator, where copying every step's probabilities to the CPU would stall it.
fn filter_and_race(mut logits: Tensor, opts: &SampleOptions) -> Tensor {
    if opts.top_k > 0 && (opts.top_k as i64) < logits.size()[1] {
        let (top, _) = logits.topk(opts.top_k as i64, -1, true, true);
        let kth = top.select(1, opts.top_k as i64 - 1).unsqueeze(1);
        logits = logits.masked_fill(&logits.lt_tensor(&kth), f64::NEG_INFINITY);
    }
    if opts.top_p < 1.0 {
        let probs = logits.softmax(-1, Kind::Float);
        let (cutoff, k) = nucleus_cutoff(&probs, opts.top_p, 64);
        if k < logits.size()[1] {
            // every row's nucleus is among its k most likely tokens: draw among those k only, not the vocabulary
            let (top, ids) = logits.topk(k, -1, true, true); // (B, k)
            let dropped = probs.gather(1, &ids, false).lt_tensor(&cutoff);
            let choice = race(&top.masked_fill(&dropped, f64::NEG_INFINITY)); // (B,)
            return ids.gather(1, &choice.unsqueeze(1), false).squeeze_dim(1);
        }
        logits = logits.masked_fill(&probs.lt_tensor(&cutoff), f64::NEG_INFINITY);
    }
    race(&logits)
}

/// A draw from softmax(logits) per row, by the exponential race: argmax_i p_i / E_i with E_i ~ Exp(1) is a draw
/// from p (the Gumbel-max trick in another form). On logits it is argmax(logits - ln E) with E = -ln U, U uniform:
/// no softmax normalisation, no cumulative sums, and uniform draws are several times cheaper than libtorch's
/// `exponential_` or `multinomial` on CPU.
fn race(logits: &Tensor) -> Tensor {
    let mut uniform = logits.empty_like();
    let _ = uniform.uniform_(f64::MIN_POSITIVE, 1.0);
    (logits - uniform.log().neg().log()).argmax(-1, false)
}

/// Nucleus (top-p) filtering as Hugging Face's `TopPLogitsWarper`: keep a token when the probability mass of
/// the tokens more likely than it is below `top_p`. Rather than sorting the whole vocabulary every step, sort
/// only the k most likely tokens, and grow k only for the rows whose top k do not yet hold `top_p` of the mass (a
/// handful of tokens for a trained model's confident rows; many for its flat rows, which no longer make every
/// other row of a large batch pay for them).
#[cfg(test)]
fn nucleus(logits: &Tensor, top_p: f64) -> Tensor {
    let probs = logits.softmax(-1, Kind::Float);
    let (cutoff, _) = nucleus_cutoff(&probs, top_p, 64);
    // everything less likely than the smallest kept probability of its row goes
    logits.masked_fill(&probs.lt_tensor(&cutoff), f64::NEG_INFINITY)
}

/// The smallest kept probability of each row of `probs` `(B, V)`, as `(B, 1)`, looking at the `k` most likely
/// tokens first; and how many of the most likely tokens hold every row's nucleus.
fn nucleus_cutoff(probs: &Tensor, top_p: f64, k: i64) -> (Tensor, i64) {
    let vocab = probs.size()[1];
    let k = k.min(vocab);
    let (top, _) = probs.topk(k, -1, true, true); // (B, k), descending
    let mass_above = top.cumsum(-1, Kind::Float) - &top;
    let cutoff = top
        .masked_fill(&mass_above.ge(top_p), f64::INFINITY)
        .amin([-1].as_slice(), true); // (B, 1)
    if k == vocab {
        return (cutoff, k);
    }
    let held = top.sum_dim_intlist(-1, false, Kind::Float); // (B,)
    let short = held.lt(top_p).nonzero().squeeze_dim(1); // rows whose top k hold too little
    if short.numel() == 0 {
        return (cutoff, k);
    }
    // the top k hold `least` of the mass in the poorest row: guess how many more are needed; past a quarter of
    // the vocabulary a full sort is cheaper than another round
    let least = held.index_select(0, &short).min().double_value(&[]);
    let guess = (k as f64 * 2.0 * top_p / least.max(1e-9)).ceil() as i64;
    let next = if guess > vocab / 4 { vocab } else { guess.max(2 * k) };
    let (sub, k_sub) = nucleus_cutoff(&probs.index_select(0, &short), top_p, next);
    (cutoff.index_copy(0, &short, &sub), k_sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws by both paths: row by row on the CPU, and with libtorch's operations (the accelerator path).
    fn both_paths(logits: &Tensor, banned: &[i64], eos: i64, ban_eos: bool, o: &SampleOptions) -> [Vec<i64>; 2] {
        let banned = Tensor::from_slice(banned);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let rows = pick_next(logits, &banned, eos, ban_eos, o, &mut rng);
        let tempered = banned_and_tempered(logits, &banned, eos, ban_eos, o);
        let torch = filter_and_race(tempered, o);
        [rows, torch].map(|t| Vec::<i64>::try_from(t).unwrap())
    }

    fn opts() -> SampleOptions {
        SampleOptions {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            ..SampleOptions::default()
        }
    }

    #[test]
    fn top_k_keeps_only_the_k_most_likely_tokens() {
        tch::manual_seed(0);
        let logits = Tensor::from_slice(&[0.0f32, 5.0, 4.0, -1.0, 3.0])
            .unsqueeze(0)
            .repeat([256, 1]);
        let o = SampleOptions { top_k: 2, ..opts() };
        for picks in both_paths(&logits, &[], 9, false, &o) {
            assert!(picks.iter().all(|&t| t == 1 || t == 2), "{picks:?}");
            assert!(picks.contains(&1) && picks.contains(&2));
        }
    }

    #[test]
    fn top_p_keeps_the_smallest_set_reaching_the_mass() {
        tch::manual_seed(0);
        // probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps the first two only
        let p = [0.5f32, 0.3, 0.15, 0.05].map(f32::ln);
        let logits = Tensor::from_slice(&p).unsqueeze(0).repeat([512, 1]);
        let o = SampleOptions { top_p: 0.7, ..opts() };
        for picks in both_paths(&logits, &[], 9, false, &o) {
            assert!(picks.iter().all(|&t| t == 0 || t == 1), "{picks:?}");
        }
    }

    #[test]
    fn nucleus_keeps_the_same_tokens_as_a_full_sort() {
        tch::manual_seed(1);
        for scale in [0.5, 3.0, 12.0] {
            // flat to peaked distributions over a 4096-token vocabulary, 8 rows
            let logits = Tensor::randn([8, 4096], (Kind::Float, tch::Device::Cpu)) * scale;
            for top_p in [0.5, 0.9, 0.99] {
                let fast = nucleus(&logits, top_p).isfinite();
                let (sorted, order) = logits.sort(-1, true);
                let probs = sorted.softmax(-1, Kind::Float);
                let drop_sorted = (probs.cumsum(-1, Kind::Float) - &probs).ge(top_p);
                let slow = drop_sorted.scatter(1, &order, &drop_sorted).logical_not();
                assert!(fast.equal(&slow), "scale {scale}, top_p {top_p}");
                // the CPU path's kept set, row by row, is the same
                let probs = Vec::<f32>::try_from(logits.softmax(-1, Kind::Float).reshape([-1])).unwrap();
                for (r, row) in probs.chunks_exact(4096).enumerate() {
                    let rows = crate::draw::kept_tokens(row, Filter { top_k: 0, top_p });
                    let want: Vec<i64> = Vec::try_from(slow.get(r as i64).nonzero().squeeze_dim(1)).unwrap();
                    assert_eq!(rows, want, "scale {scale}, top_p {top_p}, row {r}");
                }
            }
        }
    }

    #[test]
    fn drawing_within_the_top_k_keeps_the_nucleus_distribution() {
        tch::manual_seed(4);
        // one peaked row of a 1000-token vocabulary, repeated: the nucleus of 0.5 is a few tokens, drawn from the
        // top k rather than the whole vocabulary
        let row = Tensor::randn([1, 1000], (Kind::Float, tch::Device::Cpu)) * 3.0;
        let logits = row.repeat([20000, 1]);
        let o = SampleOptions { top_p: 0.5, ..opts() };
        let picks = filter_and_race(logits, &o);
        let kept = nucleus(&row, 0.5).isfinite().squeeze(); // (V,) the full-sort nucleus
        let probs = row.softmax(-1, Kind::Double).squeeze();
        let mass = probs.masked_select(&kept).sum(Kind::Double).double_value(&[]);
        let counts = picks.bincount::<Tensor>(None, 1000);
        for t in 0..1000i64 {
            let share = counts.int64_value(&[t]) as f64 / 20000.0;
            let want = if kept.int64_value(&[t]) != 0 {
                probs.double_value(&[t]) / mass
            } else {
                0.0
            };
            assert!(
                (share - want).abs() < 0.02,
                "token {t}: drawn {share}, nucleus probability {want}"
            );
        }
    }

    #[test]
    fn the_exponential_race_draws_from_the_softmax() {
        tch::manual_seed(2);
        let p = [0.6f32, 0.3, 0.1];
        let logits = Tensor::from_slice(&p.map(f32::ln)).unsqueeze(0).repeat([20000, 1]);
        let draws = filter_and_race(logits, &opts());
        let counts = Vec::<i64>::try_from(draws.bincount::<Tensor>(None, 3)).unwrap();
        for (c, want) in counts.iter().zip(p) {
            let share = *c as f64 / 20000.0;
            // 5 standard errors of a share near 0.5 over 20,000 draws is about 0.018
            assert!(
                (share - want as f64).abs() < 0.02,
                "share {share} vs probability {want}"
            );
        }
    }

    #[test]
    fn banned_tokens_and_early_eos_are_never_drawn() {
        tch::manual_seed(0);
        let logits = Tensor::from_slice(&[3.0f32, 3.0, 3.0, 0.0])
            .unsqueeze(0)
            .repeat([256, 1]);
        for picks in both_paths(&logits, &[1], 0, true, &opts()) {
            assert!(picks.iter().all(|&t| t == 2 || t == 3), "{picks:?}");
        }
    }
}
