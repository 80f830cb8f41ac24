//! phf-train: the objectives of the paper behind one [`Objective`] interface, AdamW with a linear schedule, and
//! the training loop with logs, validation, atomic checkpoints and exact resume.

pub mod checkpoint;
pub mod config;
pub mod finetune;
pub mod light_eval;
pub mod log;
pub mod objective;
pub mod objectives;
pub mod optim;
pub mod prefetch;
pub mod presets;
pub mod trainer;

pub use config::TrainConfig;
pub use objective::{Mle, Objective, ObjectiveInput, ObjectiveOutput};
pub use objectives::ObjectiveSection;
pub use phf_dist::{DataParallel, SyncMode};
pub use trainer::{check_world_size, train, TrainError, TrainOptions, TrainSummary};
