//! The README's example run config is one a user copies: it must load, with its commented-out keys too.

use std::path::Path;

use phf_train::config::TrainConfig;

/// The ```toml block under README.md's "Training config", without its indentation.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let start = readme
        .find("**Training config**")
        .expect("README has a Training config entry");
    let body = &readme[start..];
    let open = body.find("```toml\n").expect("a toml block follows") + "```toml\n".len();
    let close = body[open..].find("```").expect("the block closes") + open;
    body[open..close]
        .lines()
        .map(|l| l.trim_start())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_example_config_loads() {
    let block = readme_block();
    let config = TrainConfig::from_toml(&block, &[], Path::new("README.md")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.model.preset, "small");

    // `# key = value` lines are options shown switched off: switched on, they must load as well
    let on: Vec<String> = block
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.split_once('=').is_some_and(|(k, _)| !k.trim().contains(' ')) => rest.to_string(),
            _ => l.to_string(),
        })
        .collect();
    assert!(on.join("\n") != block, "the block shows no commented-out option");
    TrainConfig::from_toml(&on.join("\n"), &[], Path::new("README.md")).unwrap_or_else(|e| panic!("{e}"));
}
