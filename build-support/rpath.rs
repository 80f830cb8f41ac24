// Shared build script for every crate whose binaries or tests link libtorch (included by each crate's build.rs).
// `pub` so that a build script with more to do can include it in a module and call `rpath::main()`.
//
// torch-sys (`links = "tch"`) exports its libtorch lib dir as DEP_TCH_LIBTORCH_LIB to crates that depend on it
// directly. Embedding it as an rpath lets `phf` and the tests run without LD_LIBRARY_PATH. libtorch_cuda.so is
// not linked here: a CPU-only install lacks its cuBLAS/cuDNN/NCCL dependencies, so phf-lm dlopens it at
// start-up instead (see phf-lm's device.rs).
pub fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        let lib = std::fs::canonicalize(&lib).unwrap_or_else(|_| lib.into());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
