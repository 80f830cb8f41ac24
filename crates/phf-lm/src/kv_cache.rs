//! Keys and values of the tokens already processed, per layer, so that sampling computes each new token in
//! O(T) instead of re-running the whole prefix.

use tch::Tensor;

pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    pub fn new(n_layer: usize) -> KvCache {
        KvCache {
            layers: (0..n_layer).map(|_| None).collect(),
            len: 0,
        }
    }

    /// Number of positions cached.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the new keys/values `(B, nh, T_new, hs)` of `layer` and returns all of them `(B, nh, len, hs)`.
    /// The cached length advances once the last layer has appended.
    pub(crate) fn append(&mut self, layer: usize, k: Tensor, v: Tensor) -> (Tensor, Tensor) {
        let t_new = k.size()[2] as usize;
        let (k, v) = match self.layers[layer].take() {
            Some((pk, pv)) => (Tensor::cat(&[pk, k], 2), Tensor::cat(&[pv, v], 2)),
            None => (k, v),
        };
        self.layers[layer] = Some((k.shallow_clone(), v.shallow_clone()));
        if layer + 1 == self.layers.len() {
            self.len += t_new;
        }
        (k, v)
    }
}
