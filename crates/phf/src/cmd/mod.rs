//! One module per subcommand; each parses its arguments (clap derive) and calls the library crates.

pub mod bench;
pub mod bench_overlap;
pub mod corpus;
pub mod corpus_fetch;
pub mod demo;
pub mod eval;
pub mod fetch;
pub mod grid;
mod grid_kept;
pub mod model;
pub mod prepare;
mod progress;
pub mod report;
pub mod sample;
pub mod score;
pub mod summary;
pub mod tokenizer;
pub mod train;
