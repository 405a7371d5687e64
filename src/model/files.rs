//! The files gauntlet reads and writes. Reading what a user hands it (scenarios, quirks files,
//! results): regular files only, up to a stated size, as UTF-8, with the position of the first
//! byte that is not. Writing: a folder checked writable before a run starts, and files replaced
//! whole (a temporary file renamed), so that a reader never sees half a results.json.
//!
//! Without a cap, `validate /dev/zero` or a `results.json` symlinked to it under `reports/` grows
//! until the machine gives out; the cap is read through `take`, never trusted from metadata, so a
//! file that grows while it is read is still bounded.

use std::io::Read;
use std::path::Path;

/// Largest scenario file (bytes): far above any hand-written or imported scenario.
pub const SCENARIO_CAP: u64 = 4 << 20;
/// Largest quirks file (bytes).
pub const QUIRKS_CAP: u64 = 1 << 20;
/// Largest results.json (bytes): a day-long two-path run with slices stays well below.
pub const RESULTS_CAP: u64 = 256 << 20;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The operating system refused.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A directory, device, FIFO or socket.
    #[error("cannot read {path}: it is {kind}, not a regular file")]
    Special {
        /// The path.
        path: String,
        /// What it is.
        kind: &'static str,
    },
    /// Past the cap.
    #[error("cannot read {path}: it is larger than {} MiB, the limit for {what}", cap >> 20)]
    TooLarge {
        /// The path.
        path: String,
        /// What the file was meant to be.
        what: &'static str,
        /// The cap in bytes.
        cap: u64,
    },
    /// Not UTF-8; the position is 1-based, the column counted in characters.
    #[error("{path}:{line}:{col}: the byte 0x{byte:02x} is not UTF-8 (save the file as UTF-8)")]
    NotUtf8 {
        /// The path.
        path: String,
        /// Line of the first bad byte.
        line: usize,
        /// Column of the first bad byte.
        col: usize,
        /// The byte.
        byte: u8,
        /// The text up to the bad byte, for rendering the line.
        valid: String,
    },
}

/// What kind of file `t` is, when it is not a regular file.
fn special_kind(t: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Reads the regular file at `path` (symlinks followed) as UTF-8, refusing it past `cap` bytes.
pub fn read_text(path: &Path, what: &'static str, cap: u64) -> Result<String, InputError> {
    let shown = || path.display().to_string();
    let io = |source| InputError::Io {
        path: shown(),
        source,
    };
    // Opening a FIFO for reading blocks until a writer comes: look before opening.
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(kind) = special_kind(meta.file_type()) {
        return Err(InputError::Special {
            path: shown(),
            kind,
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The opened file is checked again: the path may have been swapped after the first look.
    if let Some(kind) = special_kind(file.metadata().map_err(io)?.file_type()) {
        return Err(InputError::Special {
            path: shown(),
            kind,
        });
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(InputError::TooLarge {
            path: shown(),
            what,
            cap,
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let valid = String::from_utf8_lossy(&bytes[..at]).into_owned();
        let line = valid.matches('\n').count() + 1;
        let col = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        InputError::NotUtf8 {
            path: shown(),
            line,
            col,
            byte: bytes[at],
            valid,
        }
    })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates `dir` and proves it writable by writing and removing a file in it: run before the
/// load, so that an unwritable `--out` fails at once rather than after the whole run.
pub fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".gauntlet-write-check.{}", std::process::id()));
    std::fs::write(&probe, b"gauntlet")?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_and_directories_and_caps_size() {
        assert!(matches!(
            read_text(Path::new("/dev/zero"), "a scenario", 10),
            Err(InputError::Special {
                kind: "a device",
                ..
            })
        ));
        assert!(matches!(
            read_text(Path::new("/"), "a scenario", 10),
            Err(InputError::Special {
                kind: "a directory",
                ..
            })
        ));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "0123456789A").unwrap();
        assert!(matches!(
            read_text(&p, "a scenario", 10),
            Err(InputError::TooLarge { cap: 10, .. })
        ));
        assert_eq!(read_text(&p, "a scenario", 11).unwrap(), "0123456789A");
    }

    #[test]
    fn names_the_position_of_a_byte_that_is_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"a: 1\nb\xc3\xa9: \xff2\n").unwrap();
        match read_text(&p, "a scenario", 100) {
            Err(InputError::NotUtf8 {
                line, col, byte, ..
            }) => {
                assert_eq!((line, col, byte), (2, 5, 0xff))
            }
            other => panic!("{other:?}"),
        }
    }
}
