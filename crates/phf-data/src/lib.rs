//! phf-data: corpora, tokenizer, packing into scored token blocks, shards and the shuffling loader.
//!
//! This crate is the `prepare` stage of DESIGN.md and the data side of `train`:
//! [`CorpusReader`] streams scored [`Document`]s from JSONL/text/mail inputs, [`Packer`] turns them into
//! fixed-length blocks of token ids with per-token scores (SPEC §2), [`Transformer`] applies the objective-specific
//! transform (filtering, conditional control tokens; SPEC §3), [`ShardWriter`] stores the blocks and
//! [`prepare()`] runs the whole stage; [`Loader`] then serves shuffled, resumable, data-parallel batches.
//! No tensor library is involved: batches are plain `Vec`s.

// Module docs link the private parts they describe: `cargo doc --document-private-items` resolves them.
#![allow(rustdoc::private_intra_doc_links)]

pub mod corpus;
pub mod document;
pub mod error;
mod fsutil;
pub mod inputs;
pub mod jsonl;
pub mod loader;
pub mod mail;
pub mod pack;
pub mod prepare;
pub mod reader;
pub mod score_summary;
pub mod shard;
pub mod shard_parts;
pub mod shard_writer;
pub mod threshold;
pub mod tokenizer;
pub mod transform;

#[cfg(test)]
pub(crate) mod testutil;

pub use document::Document;
pub use error::{DataError, Result};
pub use inputs::{resolve_inputs, InputFile, InputFormat};
pub use loader::{Batch, Loader, LoaderPosition, SequentialBatches};
pub use pack::{pack_all, Block, Packer};
pub use prepare::{
    prepare, prepare_part, prepare_with_transform, train_tokenizer, PrepareOptions, PrepareReport, SplitReport,
};
pub use reader::{CorpusReader, ReadStats};
pub use shard::{Provenance, Shard, ShardHeader, TokenDtype};
pub use shard_parts::CorpusPart;
pub use shard_writer::{ShardSpec, ShardWriter};
pub use threshold::Threshold;
pub use tokenizer::{Tokenizer, EOS_TOKEN};
pub use transform::{AttributeSpec, TransformKind, TransformOptions, TransformRecord, Transformer};

#[cfg(test)]
mod thread_safety {
    /// The training crates share a tokenizer and shards across threads and move loaders into data workers.
    #[test]
    fn shared_types_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<crate::Tokenizer>();
        send_sync::<crate::Shard>();
        send::<crate::Loader>();
        send::<crate::CorpusReader>();
    }
}
