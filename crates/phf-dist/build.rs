// Compiles the C++ shim in csrc/ against libtorch's headers (c10d's are in the torch wheel) and Gloo's (from
// Debian's libgloo-dev, unpacked by scripts/setup-gloo.sh). Only libtorch is linked: Gloo itself is inside
// libtorch_cpu.so, and NCCL is looked up at run time (csrc/nccl.cpp), so neither CUDA nor NCCL is needed here.
mod rpath {
    include!("../../build-support/rpath.rs");
}

use std::path::PathBuf;

fn main() {
    rpath::main();
    build_shim();
}

fn libtorch_root() -> PathBuf {
    // torch-sys exports `.../torch/lib`; its parent holds `include/`
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys exports DEP_TCH_LIBTORCH_LIB");
    let lib = std::fs::canonicalize(&lib).unwrap_or_else(|_| lib.into());
    lib.parent().expect("libtorch's lib dir has a parent").to_path_buf()
}

fn gloo_include() -> PathBuf {
    println!("cargo:rerun-if-env-changed=PHF_GLOO_INCLUDE");
    println!("cargo:rerun-if-env-changed=PHF_CACHE");
    if let Ok(dir) = std::env::var("PHF_GLOO_INCLUDE") {
        return dir.into();
    }
    let cache = std::env::var("PHF_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/phf"));
    cache.join("gloo-headers/usr/include")
}

fn build_shim() {
    let torch = libtorch_root();
    let gloo = gloo_include();
    if !gloo.join("gloo/algorithm.h").is_file() {
        panic!(
            "\n\nphf-dist needs Gloo's C++ headers, not found in {}.\nRun `scripts/setup-gloo.sh` (part of `make \
             setup`; it unpacks Debian's libgloo-dev into ~/.cache/phf/gloo-headers without root), or point \
             PHF_GLOO_INCLUDE at a directory holding gloo/algorithm.h.\n\n",
            gloo.display()
        );
    }
    const SOURCES: [&str; 5] = [
        "csrc/c10d_shim.cpp",
        "csrc/gloo.cpp",
        "csrc/multi_tensor.cpp",
        "csrc/nccl.cpp",
        "csrc/reducer.cpp",
    ];
    for file in SOURCES.iter().chain(&["csrc/group.hpp"]) {
        println!("cargo:rerun-if-changed={file}");
    }
    cc::Build::new()
        .cpp(true)
        .files(SOURCES)
        .include(torch.join("include"))
        .include(torch.join("include/torch/csrc/api/include"))
        .include(&gloo)
        .flag("-std=c++17")
        .define("USE_C10D_GLOO", None)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-deprecated-declarations")
        .compile("phf_c10d");
    // the shim calls into libtorch_cpu and c10 directly (torch-sys links them too; repeated here for link order)
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-link-lib=dylib=dl"); // dlopen/dlsym of libnccl.so.2 (part of libc since glibc 2.34)
}
