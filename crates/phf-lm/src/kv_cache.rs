//! Keys and values of the tokens already processed, per layer, so that sampling computes each new token in
//! O(T) instead of re-running the whole prefix.
//!
//! With a capacity the buffers are allocated once, at the first append, and each step writes its keys/values in
//! place; without one (or past it) they grow by concatenation, which copies the whole cache every step.

use tch::Tensor;

pub struct KvCache {
    /// Per layer: key and value buffers `(B, nh, capacity or len, hs)`.
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
    capacity: usize,
}

impl KvCache {
    /// A cache that grows by concatenation.
    pub fn new(n_layer: usize) -> KvCache {
        KvCache::with_capacity(n_layer, 0)
    }

    /// A cache preallocated for `capacity` positions (prompt plus generated tokens).
    pub fn with_capacity(n_layer: usize, capacity: usize) -> KvCache {
        KvCache {
            layers: (0..n_layer).map(|_| None).collect(),
            len: 0,
            capacity,
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
        let (past, total) = (self.len as i64, (self.len + t_new) as i64);
        let (k, v) = match self.layers[layer].take() {
            None if total as usize <= self.capacity => {
                let mut shape = k.size();
                shape[2] = self.capacity as i64;
                let kb = Tensor::empty(shape.as_slice(), (k.kind(), k.device()));
                let vb = Tensor::empty(shape.as_slice(), (v.kind(), v.device()));
                kb.narrow(2, 0, total).copy_(&k);
                vb.narrow(2, 0, total).copy_(&v);
                (kb, vb)
            }
            None => (k, v),
            Some((kb, vb)) if kb.size()[2] >= total && self.capacity > 0 => {
                kb.narrow(2, past, t_new as i64).copy_(&k);
                vb.narrow(2, past, t_new as i64).copy_(&v);
                (kb, vb)
            }
            Some((pk, pv)) => {
                let (pk, pv) = (pk.narrow(2, 0, past), pv.narrow(2, 0, past));
                (Tensor::cat(&[pk, k], 2), Tensor::cat(&[pv, v], 2))
            }
        };
        let view = (k.narrow(2, 0, total), v.narrow(2, 0, total));
        self.layers[layer] = Some((k, v));
        if layer + 1 == self.layers.len() {
            self.len += t_new;
        }
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preallocated_and_growing_caches_hold_the_same_values() {
        let (mut grow, mut fixed) = (KvCache::new(1), KvCache::with_capacity(1, 5));
        let mut spill = KvCache::with_capacity(1, 3); // too small: falls back to concatenation past 3
        for t in [2i64, 1, 1, 1] {
            let k = Tensor::randn([2, 3, t, 4], (tch::Kind::Float, tch::Device::Cpu));
            let v = Tensor::randn([2, 3, t, 4], (tch::Kind::Float, tch::Device::Cpu));
            let (gk, gv) = grow.append(0, k.copy(), v.copy());
            let (fk, fv) = fixed.append(0, k.copy(), v.copy());
            let (sk, sv) = spill.append(0, k, v);
            assert!(gk.equal(&fk) && gv.equal(&fv) && gk.equal(&sk) && gv.equal(&sv));
        }
        assert_eq!(fixed.len(), 5);
    }
}
