//! Device selection (`cpu`, `cuda`, `cuda:N`) and the start-up probe that makes CUDA available to one binary
//! that also runs on CPU-only installs.
//!
//! rustc links with `--as-needed`, which drops `libtorch_cuda.so` because no Rust symbol refers to it, and then
//! libtorch silently reports no CUDA (tch issues #980, #291). Linking it `--no-as-needed` instead would make the
//! binary fail to start on a CPU-only install, where cuBLAS/cuDNN/NCCL are absent. So we `dlopen` it at start-up
//! (RTLD_NOW | RTLD_GLOBAL: its static initialisers register the CUDA backend with libtorch) and carry on on CPU
//! when that fails.

use std::ffi::CString;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use tch::Device;

/// What the start-up probe found.
#[derive(Debug, Clone)]
pub struct CudaProbe {
    pub loaded: bool,
    pub device_count: usize,
    /// Why CUDA is unavailable, in words, when it is.
    pub reason: Option<String>,
}

static PROBE: OnceLock<CudaProbe> = OnceLock::new();

/// Loads `libtorch_cuda.so` once per process (idempotent) and reports what was found.
pub fn probe_cuda() -> &'static CudaProbe {
    PROBE.get_or_init(|| {
        let name = CString::new("libtorch_cuda.so").expect("static name has no NUL");
        // SAFETY: dlopen with a valid C string; the handle is intentionally leaked for the process lifetime.
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns a thread-local C string or null.
            let err = unsafe { libc::dlerror() };
            let reason = if err.is_null() {
                "libtorch_cuda.so could not be loaded".to_string()
            } else {
                // SAFETY: non-null dlerror result is a valid NUL-terminated string.
                unsafe { std::ffi::CStr::from_ptr(err) }.to_string_lossy().into_owned()
            };
            return CudaProbe {
                loaded: false,
                device_count: 0,
                reason: Some(reason),
            };
        }
        let device_count = tch::Cuda::device_count().max(0) as usize;
        let reason = (device_count == 0).then(|| "libtorch_cuda.so loaded but no CUDA device is visible".into());
        CudaProbe {
            loaded: true,
            device_count,
            reason,
        }
    })
}

/// A device named the way PyTorch names them: `cpu`, `cuda` (= `cuda:0`) or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceSpec {
    Cpu,
    Cuda(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{0}`: use `cpu`, `cuda` or `cuda:N` (N = GPU index)")]
    Unknown(String),
    #[error(
        "device `{spec}` was asked for, but CUDA is unavailable ({reason}): run on the CPU (`--device cpu`; \
         for `phf train`, `--set training.device=cpu` or `training.device = \"cpu\"` in its config)"
    )]
    NoCuda { spec: String, reason: String },
    #[error("device `cuda:{index}` was asked for, but only {count} CUDA device(s) are visible")]
    NoSuchGpu { index: usize, count: usize },
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| DeviceError::Unknown(s.to_string())),
        }
    }
}

impl TryFrom<String> for DeviceSpec {
    type Error = DeviceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DeviceSpec> for String {
    fn from(d: DeviceSpec) -> String {
        d.to_string()
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl DeviceSpec {
    /// Resolves to a tch device, probing CUDA first; errors (never silently falls back) when a GPU was asked for
    /// and is not there.
    pub fn resolve(self) -> Result<Device, DeviceError> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Cuda(index) => {
                let probe = probe_cuda();
                if probe.device_count == 0 {
                    let reason = probe.reason.clone().unwrap_or_default();
                    return Err(DeviceError::NoCuda {
                        spec: self.to_string(),
                        reason,
                    });
                }
                if index >= probe.device_count {
                    return Err(DeviceError::NoSuchGpu {
                        index,
                        count: probe.device_count,
                    });
                }
                Ok(Device::Cuda(index))
            }
        }
    }
}

/// One line for logs: which device is used and what the CUDA probe found.
pub fn describe(device: Device) -> String {
    let probe = probe_cuda();
    let cuda = match &probe.reason {
        None => format!("CUDA: {} device(s)", probe.device_count),
        Some(r) => format!("CUDA unavailable: {r}"),
    };
    match device {
        Device::Cuda(i) => format!("device cuda:{i} ({cuda})"),
        _ => format!("device cpu, {} threads ({cuda})", tch::get_num_threads()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pytorch_device_names() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(3));
        let err = "gpu0".parse::<DeviceSpec>().unwrap_err().to_string();
        assert!(err.contains("`gpu0`") && err.contains("cuda:N"), "{err}");
    }

    #[test]
    fn cuda_on_a_cpu_machine_is_a_clear_error_not_a_fallback() {
        if probe_cuda().device_count > 0 {
            return; // a GPU machine: nothing to check here
        }
        let err = DeviceSpec::Cuda(0).resolve().unwrap_err().to_string();
        assert!(err.contains("--device cpu"), "{err}");
    }
}
