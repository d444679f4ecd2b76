//! Files Couplet keeps personal data or secrets in are readable by their owner only: the data
//! directory and every directory under it `0700`, every file `0600`.
//!
//! Three layers: the `couplet` binary sets its umask to `077` at start-up
//! ([`private_umask`]), so every file it creates later (the sled segments and snapshots of the
//! projection and the embedded log, the credential store) is private from birth; the
//! projection and the log chmod their tree when they are opened ([`restrict_tree`]), which
//! also tightens a data directory an older version created `0755`/`0644`; and files written
//! on purpose (the credential store, a key file) are created `0600` ([`write_private`]).

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};

/// The mode of a private directory.
pub const DIR_MODE: u32 = 0o700;
/// The mode of a private file.
pub const FILE_MODE: u32 = 0o600;

/// Sets the process umask to `077` (no group or other bits on anything it creates).
/// Called once by the binary's `main`; libraries and tests rely on [`restrict_tree`].
pub fn private_umask() {
    #[cfg(unix)]
    {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    }
}

/// Creates `dir` (and its missing parents) `0700`; an existing `dir` is set to `0700`.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(DIR_MODE);
    b.create(dir)?;
    #[cfg(unix)]
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
    Ok(())
}

/// Takes the group and other bits off `root` and everything under it (directories `0700`,
/// files `0600` at most). Symbolic links are not followed.
pub fn restrict_tree(root: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let meta = fs::symlink_metadata(root)?;
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(root, fs::Permissions::from_mode(mode & 0o700))?;
        }
        if meta.is_dir() {
            for entry in fs::read_dir(root)? {
                restrict_tree(&entry?.path())?;
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to `file` atomically (a temporary file `0600` in the same directory, then
/// renamed over it), so a reader never sees half a file and the file is never readable by
/// others, not even for a moment.
pub fn write_private(file: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(FILE_MODE);
    let written = (|| {
        let mut f = o.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, file)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// The mode bits of `path` that let others than its owner read or write it (`0` when
/// private, or on a system without Unix modes).
pub fn loose_bits(path: &Path) -> io::Result<u32> {
    #[cfg(unix)]
    {
        Ok(fs::metadata(path)?.permissions().mode() & 0o077)
    }
    #[cfg(not(unix))]
    {
        fs::metadata(path).map(|_| 0)
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_become_0700_and_files_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("a/data");
        create_private_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        let sub = data.join("log");
        fs::create_dir(&sub).unwrap();
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
        let f = sub.join("db");
        fs::write(&f, b"x").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(loose_bits(&f).unwrap(), 0o044);
        restrict_tree(&data).unwrap();
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&f), 0o600);
        assert_eq!(loose_bits(&f).unwrap(), 0);

        let w = data.join("store.enc");
        write_private(&w, b"one").unwrap();
        write_private(&w, b"two").unwrap();
        assert_eq!(fs::read(&w).unwrap(), b"two");
        assert_eq!(mode(&w), 0o600);
        assert_eq!(
            fs::read_dir(&data).unwrap().count(),
            2,
            "no temporary file left"
        );
    }

    /// Every directory under `root` is 0700 and every file 0600; returns the files seen.
    fn assert_private(root: &Path) -> usize {
        let mut files = 0;
        for entry in fs::read_dir(root).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                files += assert_private(&p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
                files += 1;
            }
        }
        files
    }

    #[tokio::test]
    async fn the_projection_and_the_embedded_log_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&tmp.path().join("projection")).unwrap();
        let bus = crate::bus::EmbeddedBus::open(&tmp.path().join("log")).unwrap();
        for dir in ["projection", "log"] {
            let d = tmp.path().join(dir);
            assert_eq!(mode(&d), 0o700);
            assert!(assert_private(&d) > 0, "sled wrote files in {dir}");
        }
        drop((store, bus));
    }
}
