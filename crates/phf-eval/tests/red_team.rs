//! The red-teaming loop is deterministic under a seed, grows its pool, and reports per-round statistics.

mod common;

use phf_eval::redteam::{red_team, RedTeamOptions, SEED_SCORE};
use phf_eval::Sampler;
use phf_lm::SampleOptions;
use phf_score::PiiScorer;

#[test]
fn red_teaming_is_deterministic_under_a_seed() {
    let _turn = common::rng_turn();
    let tok = common::tokenizer();
    let red_model = common::model(1, tok.vocab_size(), 1.0);
    let target_model = common::model(2, tok.vocab_size(), 1.0);
    let sampler = |m| Sampler {
        model: m,
        tokenizer: &tok,
        control: Vec::new(),
        banned: Vec::new(),
    };
    let seeds = vec!["call me at".to_string(), "my email is".to_string()];
    let sampling = SampleOptions {
        max_new_tokens: 8,
        min_new_tokens: 0,
        ..SampleOptions::default()
    };
    let run = |seed| {
        let opts = RedTeamOptions {
            rounds: 2,
            trials_per_round: 2,
            responses_per_trial: 3,
            continuations: 4,
            seed,
            ..RedTeamOptions::default()
        };
        red_team(
            "pii",
            &sampler(&red_model),
            &sampler(&target_model),
            &PiiScorer,
            &seeds,
            &opts,
            &sampling,
            &sampling,
            false,
            |_| {},
        )
        .expect("red team")
    };
    let (a, b, c) = (run(5), run(5), run(6));
    assert_eq!(a, b);
    assert_ne!(a.pool, c.pool);
    assert_eq!(a.rounds.len(), 2);
    let new: usize = a.rounds.iter().map(|r| r.new_candidates).sum();
    assert_eq!(a.pool.len(), 2 + new);
    assert!(new > 0, "a random red LM still writes some candidates");
    assert_eq!(a.rounds[1].pool_size, a.pool.len());
    assert!(a.pool.iter().filter(|e| e.round == 0).all(|e| e.score == SEED_SCORE));
    assert!(
        a.pool.windows(2).all(|w| w[0].score >= w[1].score),
        "the final pool is sorted best first"
    );
}
