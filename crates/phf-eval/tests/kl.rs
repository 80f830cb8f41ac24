//! The KL estimator against the exact KL, computed by enumerating every outcome of 2-token sampling; a model
//! against itself; and growth as the evaluated model's weights are perturbed.

mod common;

use phf_eval::kl::{draw_reference_samples, kl_from_reference, reference_sample_options, KlMode, Scored};
use phf_lm::Gpt;
use tch::{Kind, Tensor};

/// Exact `KL(p_ref ‖ p_model)` over the outcomes of sampling at most 2 tokens after EOS: `[] + EOS`,
/// `[a] + EOS` and `[a, b]` (cut at the limit, no EOS).
fn exact_kl(reference: &Gpt, model: &Gpt, eos: i64, vocab: i64) -> f64 {
    let logp = |m: &Gpt| {
        let first = m
            .forward(&Tensor::from_slice(&[eos]).unsqueeze(0), false)
            .logits
            .select(1, 0)
            .squeeze();
        let first = first.log_softmax(-1, Kind::Double); // (V,)
        let pairs = Tensor::stack(
            &[
                Tensor::full([vocab], eos, (Kind::Int64, tch::Device::Cpu)),
                Tensor::arange(vocab, (Kind::Int64, tch::Device::Cpu)),
            ],
            1,
        );
        let second = m
            .forward(&pairs, false)
            .logits
            .select(1, 1)
            .log_softmax(-1, Kind::Double); // (V, V)
        (first, second)
    };
    let (rf, rs) = logp(reference);
    let (mf, ms) = logp(model);
    let e = eos;
    let mut kl = 0.0;
    // [] then EOS
    let (r, m) = (rf.double_value(&[e]), mf.double_value(&[e]));
    kl += r.exp() * (r - m);
    for a in (0..vocab).filter(|&a| a != e) {
        let (ra, ma) = (rf.double_value(&[a]), mf.double_value(&[a]));
        // [a] then EOS
        let (r, m) = (ra + rs.double_value(&[a, e]), ma + ms.double_value(&[a, e]));
        kl += r.exp() * (r - m);
        // [a, b], b not EOS
        let not_eos = Tensor::arange(vocab, (Kind::Int64, tch::Device::Cpu)).ne(e);
        let r_ab = (rs.get(a).masked_select(&not_eos) + ra).to_kind(Kind::Double);
        let m_ab = (ms.get(a).masked_select(&not_eos) + ma).to_kind(Kind::Double);
        kl += (r_ab.exp() * (&r_ab - &m_ab)).sum(Kind::Double).double_value(&[]);
    }
    kl
}

#[test]
fn the_estimate_agrees_with_the_exact_kl_within_its_error() {
    let _turn = common::rng_turn();
    let tok = common::tokenizer();
    let vocab = tok.vocab_size();
    let reference = common::model(1, vocab, 20.0);
    let model = common::model(2, vocab, 20.0);
    let eos = i64::from(tok.eos_id());
    let exact = exact_kl(&reference, &model, eos, vocab as i64);
    let opts = reference_sample_options(3000, 2, 7, Vec::new());
    let samples = draw_reference_samples(&reference, &tok, &opts, |_| {});
    let side = |m| Scored {
        model: m,
        tokenizer: &tok,
        prompt: vec![eos],
    };
    let est = kl_from_reference(&side(&reference), &side(&model), &samples, 256);
    assert_eq!(est.mode, KlMode::Tokens);
    assert!(exact > 0.05, "the two random models should differ: exact KL {exact}");
    assert!(
        (est.kl - exact).abs() < 4.0 * est.std_error,
        "estimate {} ± {} vs exact {exact}",
        est.kl,
        est.std_error
    );
}

#[test]
fn a_model_against_itself_is_zero_and_perturbation_grows_the_kl() {
    let _turn = common::rng_turn();
    let tok = common::tokenizer();
    let vocab = tok.vocab_size();
    let reference = common::model(3, vocab, 10.0);
    let eos = i64::from(tok.eos_id());
    let samples = draw_reference_samples(
        &reference,
        &tok,
        &reference_sample_options(400, 16, 1, Vec::new()),
        |_| {},
    );
    let side = |m| Scored {
        model: m,
        tokenizer: &tok,
        prompt: vec![eos],
    };
    let same = kl_from_reference(&side(&reference), &side(&reference), &samples, 64);
    assert!(same.kl.abs() < 1e-9, "{}", same.kl);
    let mut last = 0.0;
    for noise in [0.02, 0.1, 0.5] {
        let perturbed = common::model(3, vocab, 10.0);
        tch::manual_seed(99);
        tch::no_grad(|| {
            for (_, mut w) in perturbed.vs.variables() {
                let n = w.randn_like() * noise;
                let _ = w.g_add_(&n);
            }
        });
        let evaluated = Scored {
            model: &perturbed,
            tokenizer: &tok,
            prompt: vec![eos],
        };
        let kl = kl_from_reference(&side(&reference), &evaluated, &samples, 64);
        assert!(
            kl.kl > last + 2.0 * kl.std_error,
            "noise {noise}: KL {} ± {} after {last}",
            kl.kl,
            kl.std_error
        );
        last = kl.kl;
    }
}

#[test]
fn different_tokenizers_compare_text() {
    let _turn = common::rng_turn();
    let tok = common::tokenizer();
    let other = phf_data::Tokenizer::train_bpe(std::iter::repeat_n("entirely other words here".to_string(), 4), 280)
        .expect("tokenizer");
    let reference = common::model(4, tok.vocab_size(), 10.0);
    let model = common::model(5, other.vocab_size(), 10.0);
    let samples = draw_reference_samples(
        &reference,
        &tok,
        &reference_sample_options(16, 8, 1, Vec::new()),
        |_| {},
    );
    let est = kl_from_reference(
        &Scored {
            model: &reference,
            tokenizer: &tok,
            prompt: vec![i64::from(tok.eos_id())],
        },
        &Scored {
            model: &model,
            tokenizer: &other,
            prompt: vec![i64::from(other.eos_id())],
        },
        &samples,
        8,
    );
    assert_eq!(est.mode, KlMode::Text);
    assert!(est.kl.is_finite() && est.num_samples == 16);
}
