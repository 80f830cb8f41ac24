//! The fp32 matmul precision switch PyTorch has (`torch.set_float32_matmul_precision`) and tch lacks.

use std::ffi::{c_char, c_int, CString};

use crate::process_group::take_message;
use crate::DistError;

extern "C" {
    fn phf_set_float32_matmul_precision(precision: *const c_char, err: *mut *mut c_char) -> c_int;
    fn phf_float32_matmul_precision() -> c_int;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatmulPrecision {
    /// Exact fp32 (PyTorch's default).
    Highest,
    /// fp32 matmuls may run on TF32 tensor cores (10-bit mantissa inputs, fp32 accumulation) on Ampere and later.
    High,
}

/// libtorch's current fp32 matmul precision (`medium`, bf16 inputs, is reported as `High`: phf never sets it).
pub fn float32_matmul_precision() -> MatmulPrecision {
    // SAFETY: reads a field of libtorch's global context.
    match unsafe { phf_float32_matmul_precision() } {
        0 => MatmulPrecision::Highest,
        _ => MatmulPrecision::High,
    }
}

/// Sets libtorch's fp32 matmul precision for the whole process. Only CUDA matmuls are affected in practice.
pub fn set_float32_matmul_precision(precision: MatmulPrecision) -> Result<(), DistError> {
    let name = match precision {
        MatmulPrecision::Highest => "highest",
        MatmulPrecision::High => "high",
    };
    let name = CString::new(name).expect("static name has no NUL");
    let mut err = std::ptr::null_mut();
    // SAFETY: valid C string and out-pointer; the shim catches C++ exceptions.
    let rc = unsafe { phf_set_float32_matmul_precision(name.as_ptr(), &mut err) };
    if rc == 0 {
        Ok(())
    } else {
        Err(DistError::Torch(take_message(err)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_reaches_libtorch_and_back() {
        assert_eq!(
            float32_matmul_precision(),
            MatmulPrecision::Highest,
            "PyTorch's default"
        );
        set_float32_matmul_precision(MatmulPrecision::High).unwrap();
        assert_eq!(float32_matmul_precision(), MatmulPrecision::High);
        set_float32_matmul_precision(MatmulPrecision::Highest).unwrap();
        assert_eq!(float32_matmul_precision(), MatmulPrecision::Highest);
    }
}
