//! Log-likelihoods of token sequences under a model: `log p(x | prompt) = Σ_t log p(x_t | prompt, x_<t)`, in
//! batches of right-padded rows (the model is causal, so padding after a row's end changes nothing before it).

use phf_lm::Gpt;
use tch::{Kind, Tensor};

/// `log p(x | prompt)` (nats) for each sequence; `prompt` must hold at least one token (EOS starts every
/// document). Sequences longer than the context allows are cut, and the number of scored tokens is returned
/// beside each log-likelihood.
pub fn sequence_log_likelihoods(
    model: &Gpt,
    prompt: &[i64],
    sequences: &[Vec<i64>],
    batch_size: usize,
) -> Vec<(f64, usize)> {
    assert!(!prompt.is_empty(), "a prompt holds at least the EOS token");
    let room = model.config.n_ctx.saturating_sub(prompt.len()) + 1;
    let mut out = Vec::with_capacity(sequences.len());
    tch::no_grad(|| {
        for chunk in sequences.chunks(batch_size.max(1)) {
            let lens: Vec<usize> = chunk.iter().map(|s| s.len().min(room)).collect();
            let width = prompt.len() + lens.iter().copied().max().unwrap_or(0);
            // inputs: prompt + x, padded with the prompt's first token; the last position predicts nothing
            let mut rows = Vec::with_capacity(chunk.len() * width);
            for (s, &len) in chunk.iter().zip(&lens) {
                rows.extend_from_slice(prompt);
                rows.extend_from_slice(&s[..len]);
                rows.extend(std::iter::repeat_n(prompt[0], width - prompt.len() - len));
            }
            let device = model.device();
            let tokens = Tensor::from_slice(&rows)
                .view([chunk.len() as i64, width as i64])
                .to(device);
            let inputs = tokens.narrow(1, 0, width as i64 - 1);
            let targets = tokens.narrow(1, 1, width as i64 - 1);
            let logp = model.forward(&inputs, false).logits.log_softmax(-1, Kind::Float);
            let picked = logp.gather(-1, &targets.unsqueeze(-1), false).squeeze_dim(-1); // (B, W-1)
                                                                                         // the prediction of x_t sits at position P-1+t
            let mask: Vec<f32> = lens
                .iter()
                .flat_map(|&len| {
                    (0..width - 1)
                        .map(move |j| f32::from(u8::from(j + 1 >= prompt.len() && j + 1 < prompt.len() + len)))
                })
                .collect();
            let mask = Tensor::from_slice(&mask)
                .view([chunk.len() as i64, width as i64 - 1])
                .to(device);
            let sums = Vec::<f64>::try_from(
                (picked * mask)
                    .sum_dim_intlist(-1, false, Kind::Double)
                    .to(tch::Device::Cpu),
            )
            .expect("float64 vector");
            out.extend(sums.into_iter().zip(lens));
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use phf_lm::GptConfig;

    fn tiny() -> Gpt {
        tch::manual_seed(3);
        let mut c = GptConfig::preset("tiny").unwrap();
        c.vocab_size = 50;
        c.n_ctx = 16;
        Gpt::new(c, tch::Device::Cpu)
    }

    #[test]
    fn batched_and_padded_equals_one_by_one_token_by_token() {
        let model = tiny();
        let prompt = [0i64, 7];
        let seqs = vec![vec![3i64, 4, 5], vec![9], vec![1, 2, 3, 4, 5, 6]];
        let batched = sequence_log_likelihoods(&model, &prompt, &seqs, 8);
        for (s, (ll, n)) in seqs.iter().zip(&batched) {
            assert_eq!(*n, s.len());
            // the chain rule, one token at a time
            let mut want = 0.0;
            let mut context = prompt.to_vec();
            for &t in s {
                let x = Tensor::from_slice(&context).unsqueeze(0);
                let logits = model.forward(&x, false).logits.select(1, -1).squeeze();
                want += logits.log_softmax(-1, Kind::Double).double_value(&[t]);
                context.push(t);
            }
            assert!((ll - want).abs() < 1e-4, "{ll} vs {want}");
        }
        for (one, many) in sequence_log_likelihoods(&model, &prompt, &seqs, 1).iter().zip(&batched) {
            assert!((one.0 - many.0).abs() < 1e-4 && one.1 == many.1);
        }
    }

    #[test]
    fn long_sequences_are_cut_to_the_context() {
        let model = tiny();
        let seqs = vec![vec![1i64; 40]];
        let (_, n) = sequence_log_likelihoods(&model, &[0], &seqs, 4)[0];
        assert_eq!(n, 16);
    }
}
