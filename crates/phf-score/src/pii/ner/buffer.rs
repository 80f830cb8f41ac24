//! Float buffers that a thread reuses from one document to the next. A document's activations run to hundreds
//! of kilobytes, past glibc's threshold for serving an allocation with its own `mmap`: allocated afresh per
//! document, every page was faulted in and zeroed by the kernel and then zeroed again by `vec!`, about a tenth of
//! the NER's time.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

/// Buffers a thread keeps for reuse; more are freed when returned.
const KEPT: usize = 8;

/// A value type with a pool of buffers per thread.
pub trait Pooled: Copy + Default + 'static {
    fn with_pool<R>(f: impl FnOnce(&RefCell<Vec<Vec<Self>>>) -> R) -> R;
}

macro_rules! pooled {
    ($($t:ty),*) => {$(
        impl Pooled for $t {
            fn with_pool<R>(f: impl FnOnce(&RefCell<Vec<Vec<Self>>>) -> R) -> R {
                thread_local! {
                    static POOL: RefCell<Vec<Vec<$t>>> = const { RefCell::new(Vec::new()) };
                }
                POOL.with(f)
            }
        }
    )*};
}
pooled!(f32, i16);

/// `len` values (floats unless said) taken from this thread's pool (or allocated) and returned to it when
/// dropped. The contents are whatever the buffer's last user left there: callers write every value they read.
pub struct Buffer<T: Pooled = f32> {
    data: Vec<T>,
    len: usize,
}

impl Buffer {
    pub fn new(len: usize) -> Self {
        Self::of_len(len)
    }
}

impl<T: Pooled> Buffer<T> {
    pub fn of_len(len: usize) -> Self {
        let mut data = T::with_pool(|pool| pool.borrow_mut().pop()).unwrap_or_default();
        if data.len() < len {
            data.resize(len, T::default());
        }
        Self { data, len }
    }
}

impl<T: Pooled> Deref for Buffer<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.data[..self.len]
    }
}

impl<T: Pooled> DerefMut for Buffer<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.data[..self.len]
    }
}

impl<T: Pooled> Drop for Buffer<T> {
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data);
        T::with_pool(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < KEPT {
                pool.push(data);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_sized_as_asked() {
        let first = {
            let mut b = Buffer::new(1000);
            b[999] = 7.0;
            b.as_ptr()
        };
        let b = Buffer::new(10);
        assert_eq!(b.len(), 10);
        assert_eq!(b.as_ptr(), first, "the returned buffer is taken again");
        drop(b);
        let grown = Buffer::new(2000);
        assert_eq!(grown.len(), 2000);
        assert_eq!(grown[999], 7.0, "contents are left as they were");
    }
}
