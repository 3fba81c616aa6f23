//! Writing rescore output: standard output line by line, or a file that appears only whole.
//!
//! A file is written to a temporary file beside the target (`.NAME.partial-PID-N`, hidden, so
//! nothing mistakes it for output), flushed, fsynced and renamed over the target only when the
//! run is complete. A failed run drops the [`AtomicFile`], which removes the temporary file;
//! SIGINT, SIGTERM and SIGHUP run a handler that removes it too, then die of the signal as
//! usual. Only SIGKILL (or a power cut) can leave a temporary file behind, and never the target.
//!
//! Standard output is flushed after every chunk, so smishd works as a streaming worker in a
//! pipe (Spark's `RDD.pipe`); what reached standard output before a failure stays there, and
//! the exit status says the run failed.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const FILE_BUFFER: usize = 1 << 20;

/// Where a stream of output lines goes.
pub enum Sink {
    Stdout(io::Stdout),
    File(AtomicFile),
}

impl Sink {
    pub fn stdout() -> Sink {
        Sink::Stdout(io::stdout())
    }

    /// `-` is standard output; anything else an [`AtomicFile`].
    pub fn create(path: &Path) -> io::Result<Sink> {
        if path.as_os_str() == "-" {
            Ok(Sink::stdout())
        } else {
            AtomicFile::create(path).map(Sink::File)
        }
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.write_all(bytes),
            Sink::File(f) => f.write_all(bytes),
        }
    }

    /// The end of a chunk: standard output is flushed so a reader downstream sees it now.
    pub fn end_chunk(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(_) => Ok(()),
        }
    }

    /// Everything was written: flush standard output, or put the file in place.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut s) => s.flush(),
            Sink::File(f) => f.commit(),
        }
    }
}

/// A file that appears at its path only when [`AtomicFile::commit`] is called.
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
    slot: Option<usize>,
}

impl AtomicFile {
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if target.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path is a directory",
            ));
        }
        let temp = dir.join(format!(
            ".{}.partial-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        let slot = signals::register(&temp);
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
            file: Some(BufWriter::with_capacity(FILE_BUFFER, file)),
            slot,
        })
    }

    /// The temporary file being written (for tests and messages).
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file
            .as_mut()
            .expect("open until committed")
            .write_all(bytes)
    }

    /// Flushes, fsyncs and renames the temporary file over the target.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("open until committed");
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.temp, &self.target)?;
        // The rename is durable once the directory is synced; not every file system allows
        // opening a directory, and the data is safe either way, so a failure here is ignored.
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        if let Some(slot) = self.slot.take() {
            signals::unregister(slot);
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            // Not committed: the run failed. Close, then remove what was written.
            self.file.take();
            if let Some(slot) = self.slot.take() {
                signals::unregister(slot);
            }
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Removing temporary files when the process is told to stop.
///
/// The handler may run at any moment on any thread, so it only does what is safe in a signal
/// handler: it reads paths from a fixed table of atomic pointers, `unlink`s them, restores the
/// default action and re-raises the signal. The path strings are leaked on purpose: a handler
/// may still be reading one when its file is unregistered, so they are never freed (a few
/// bytes per output file per process).
#[cfg(unix)]
mod signals {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::ptr::null_mut;
    use std::sync::atomic::AtomicPtr;
    use std::sync::Once;

    const SLOTS: usize = 16;
    static PATHS: [AtomicPtr<libc::c_char>; SLOTS] = [const { AtomicPtr::new(null_mut()) }; SLOTS];
    static INSTALL: Once = Once::new();

    extern "C" fn on_signal(sig: libc::c_int) {
        for slot in &PATHS {
            let p = slot.swap(null_mut(), Ordering::SeqCst);
            if !p.is_null() {
                // SAFETY: p is a leaked, NUL-terminated CString; unlink is async-signal-safe.
                unsafe { libc::unlink(p) };
            }
        }
        // SAFETY: signal and raise are async-signal-safe; the default action ends the process
        // with the status of this signal once the handler returns.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }

    /// Registers a temporary file to remove on SIGINT/SIGTERM/SIGHUP; `None` when the table is
    /// full (the file is then only removed on an orderly failure).
    pub fn register(path: &Path) -> Option<usize> {
        INSTALL.call_once(|| {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: installs a handler that only calls async-signal-safe functions.
                unsafe {
                    libc::signal(
                        sig,
                        on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
                    )
                };
            }
        });
        let c = CString::new(path.as_os_str().as_bytes()).ok()?;
        let p = c.into_raw();
        for (i, slot) in PATHS.iter().enumerate() {
            if slot
                .compare_exchange(null_mut(), p, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Some(i);
            }
        }
        // SAFETY: p came from into_raw above and was never shared.
        drop(unsafe { CString::from_raw(p) });
        None
    }

    pub fn unregister(slot: usize) {
        // Leaked on purpose, see the module docs.
        PATHS[slot].swap(null_mut(), Ordering::SeqCst);
    }
}

#[cfg(not(unix))]
mod signals {
    use super::*;

    pub fn register(_path: &Path) -> Option<usize> {
        let _ = CString::default();
        None
    }

    pub fn unregister(_slot: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_appears_only_on_commit_and_a_dropped_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"{}\n").unwrap();
        let temp = f.temp_path().to_path_buf();
        assert!(temp.exists() && !target.exists());
        f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"{}\n");
        assert!(!temp.exists());

        let other = dir.path().join("other.jsonl");
        let mut g = AtomicFile::create(&other).unwrap();
        g.write_all(b"half").unwrap();
        let temp = g.temp_path().to_path_buf();
        drop(g);
        assert!(!temp.exists() && !other.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
