//! phf-lm: the GPT-2 language model of the paper's experiments on libtorch (through tch), AWR's value head,
//! KV-cached sampling, and model files that Hugging Face `transformers` can load.

pub mod allocator;
pub mod config;
pub mod device;
mod draw;
pub mod kv_cache;
pub mod model;
pub mod sample;
pub mod weights;

pub use config::GptConfig;
pub use device::DeviceSpec;
pub use kv_cache::KvCache;
pub use model::{ForwardOutput, Gpt, Precision};
pub use sample::{generate, SampleOptions};
pub use weights::WeightsError;
