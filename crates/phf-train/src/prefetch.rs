//! The input pipeline: while an update runs, a background thread reads the next batches from the shard and
//! turns them into tensors — in pinned host memory when training on a GPU, so the copy to the device is
//! asynchronous and the GPU never waits for data.
//!
//! The loader runs ahead of training, so each batch carries the loader position *after* it: a checkpoint stores
//! the position of the last batch consumed, not the last one read, and resume stays exact.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use phf_data::{Batch, Loader, LoaderPosition};
use tch::{Device, Tensor};

/// Batches read ahead of the one being trained on.
const DEPTH: usize = 2;

/// One batch, ready for the device.
pub struct Prefetched {
    /// The rows as read (for the log's batch hash).
    pub batch: Batch,
    /// `(B, T)` int64 token ids on `device`.
    pub tokens: Tensor,
    /// `(B, T)` f32 per-token misalignment scores on `device`.
    pub scores: Tensor,
}

struct Ready {
    batch: Batch,
    tokens: Tensor,
    scores: Tensor,
    position: LoaderPosition,
}

enum State {
    /// Not started: the loader can still be moved (resume, finetuning skip).
    Idle(Loader),
    Running {
        batches: Receiver<Result<Ready, String>>,
        worker: Option<JoinHandle<()>>,
    },
    /// Between the two (only while starting).
    Moving,
}

pub struct Prefetcher {
    state: State,
    device: Device,
    /// Loader position after the last batch handed out.
    position: LoaderPosition,
}

impl Prefetcher {
    pub fn new(loader: Loader, device: Device) -> Prefetcher {
        Prefetcher {
            position: loader.position(),
            state: State::Idle(loader),
            device,
        }
    }

    /// The loader, before the first batch is taken (to resume at a position or skip blocks).
    pub fn loader_mut(&mut self) -> Option<&mut Loader> {
        match &mut self.state {
            State::Idle(loader) => Some(loader),
            _ => None,
        }
    }

    /// Where the next batch handed out starts: what a checkpoint stores.
    pub fn position(&self) -> LoaderPosition {
        match &self.state {
            State::Idle(loader) => loader.position(),
            _ => self.position,
        }
    }

    /// The next batch, on the training device; an error names what failed (pinning or copying memory).
    pub fn next_batch(&mut self) -> Result<Prefetched, String> {
        if let State::Idle(_) = self.state {
            self.start();
        }
        let State::Running { batches, .. } = &self.state else {
            unreachable!("the prefetcher was just started")
        };
        let ready = batches
            .recv()
            .map_err(|_| "the input prefetch thread stopped".to_string())??;
        self.position = ready.position;
        let to_device = |t: Tensor| match self.device {
            // pinned host memory: the copy overlaps with the GPU's work
            Device::Cuda(_) => t
                .f_to_device_(self.device, t.kind(), true, false)
                .map_err(|e| format!("copying a batch to {:?}: {e}", self.device)),
            _ => Ok(t),
        };
        Ok(Prefetched {
            batch: ready.batch,
            tokens: to_device(ready.tokens)?,
            scores: to_device(ready.scores)?,
        })
    }

    fn start(&mut self) {
        let State::Idle(mut loader) = std::mem::replace(&mut self.state, State::Moving) else {
            return;
        };
        let device = self.device;
        let (send, batches) = sync_channel(DEPTH);
        let worker = std::thread::Builder::new()
            .name("phf-prefetch".into())
            .spawn(move || loop {
                let batch = loader.next_batch();
                let position = loader.position();
                let ready = host_tensors(&batch, device).map(|(tokens, scores)| Ready {
                    batch,
                    tokens,
                    scores,
                    position,
                });
                let failed = ready.is_err();
                if send.send(ready).is_err() || failed {
                    return; // the trainer is done, or has the error
                }
            })
            .expect("spawn the prefetch thread");
        self.state = State::Running {
            batches,
            worker: Some(worker),
        };
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        if let State::Running { batches, worker } = &mut self.state {
            // dropping the receiver fails the thread's next (or blocked) send, which ends it
            let (_, closed) = sync_channel(0);
            drop(std::mem::replace(batches, closed));
            if let Some(w) = worker.take() {
                let _ = w.join();
            }
        }
    }
}

/// `(B, T)` tokens and scores in host memory, pinned when they are bound for a GPU.
fn host_tensors(batch: &Batch, device: Device) -> Result<(Tensor, Tensor), String> {
    let (b, t) = (batch.batch_size as i64, batch.block_size as i64);
    let tokens = Tensor::from_slice(&batch.tokens).view([b, t]);
    let scores = Tensor::from_slice(&batch.scores).view([b, t]);
    match device {
        Device::Cuda(_) => {
            let pin = |x: Tensor| {
                x.f_pin_memory(device)
                    .map_err(|e| format!("pinning a batch in host memory: {e}"))
            };
            Ok((pin(tokens)?, pin(scores)?))
        }
        _ => Ok((tokens, scores)),
    }
}
