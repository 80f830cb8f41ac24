//! Atomic file and directory writes: outputs appear whole or not at all, so a crash or an error in the middle of
//! `phf prepare` never leaves a shard that looks valid but is not.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes `path` through a temporary sibling file, synced, then renamed over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    // The pid keeps two processes writing the same file from clobbering each other's temporary.
    let tmp = with_suffix(path, &format!(".tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(DataError::io(path, e));
    }
    Ok(())
}

/// A directory being written at `<final>.tmp`; [`StagingDir::commit`] renames it to `<final>`, and dropping it
/// uncommitted deletes it.
#[derive(Debug)]
pub(crate) struct StagingDir {
    staging: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl StagingDir {
    /// Creates `<target>.tmp`, removing a leftover of a crashed earlier run.
    pub(crate) fn create(target: &Path) -> Result<Self> {
        if target.as_os_str().is_empty() || target.file_name().is_none() {
            return Err(DataError::Input {
                path: target.to_path_buf(),
                msg: "output must be a named directory".into(),
            });
        }
        let staging = with_suffix(target, ".tmp");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| DataError::io(&staging, e))?;
        }
        std::fs::create_dir_all(&staging).map_err(|e| DataError::io(&staging, e))?;
        Ok(StagingDir {
            staging,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    /// Where to write.
    pub(crate) fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the staged directory into place. An existing `target` is replaced only if it is empty or holds
    /// `marker` (i.e. is an earlier output of the same kind), so a mistyped path never deletes a user's folder.
    pub(crate) fn commit(mut self, marker: &str) -> Result<()> {
        let target = self.target.clone();
        if target.exists() {
            let replaceable = target.join(marker).is_file()
                || std::fs::read_dir(&target)
                    .map(|mut entries| entries.next().is_none())
                    .unwrap_or(false);
            if !replaceable {
                return Err(DataError::Input {
                    path: target,
                    msg: format!(
                        "exists and is not an earlier phf output (no {marker}): remove it or choose another output"
                    ),
                });
            }
            let old = with_suffix(&target, &format!(".old-{}", std::process::id()));
            std::fs::rename(&target, &old).map_err(|e| DataError::io(&target, e))?;
            std::fs::rename(&self.staging, &target).map_err(|e| DataError::io(&target, e))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.staging, &target).map_err(|e| DataError::io(&target, e))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_dir_is_removed_unless_committed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("out");
        {
            let staging = StagingDir::create(&target).expect("create");
            std::fs::write(staging.path().join("x"), "1").expect("write");
        }
        assert!(!target.exists());
        assert!(!dir.path().join("out.tmp").exists());

        let staging = StagingDir::create(&target).expect("create");
        std::fs::write(staging.path().join("marker"), "1").expect("write");
        staging.commit("marker").expect("commit");
        assert!(target.join("marker").is_file());
        assert!(!dir.path().join("out.tmp").exists());

        // An earlier output is replaced...
        let staging = StagingDir::create(&target).expect("create");
        std::fs::write(staging.path().join("marker"), "2").expect("write");
        staging.commit("marker").expect("replace");
        assert_eq!(std::fs::read_to_string(target.join("marker")).expect("read"), "2");

        // ...but a foreign folder is not.
        let foreign = dir.path().join("home");
        std::fs::create_dir(&foreign).expect("mkdir");
        std::fs::write(foreign.join("thesis.tex"), "precious").expect("write");
        let staging = StagingDir::create(&foreign).expect("create");
        let err = staging.commit("marker").expect_err("refuse").to_string();
        assert!(err.contains("not an earlier phf output"), "{err}");
        assert!(foreign.join("thesis.tex").is_file());
        assert!(!dir.path().join("home.tmp").exists());
    }

    #[test]
    fn write_atomically_leaves_only_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.json");
        write_atomically(&path, b"{}").expect("write");
        write_atomically(&path, b"[]").expect("overwrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"[]");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
