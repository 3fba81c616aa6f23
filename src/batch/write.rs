//! Writing rescore output: standard output line by line, or a file that appears only whole.
//!
//! A file is written to a temporary file beside the target (`.NAME.partial-PID-N`, hidden, so
//! nothing mistakes it for output), flushed, fsynced and renamed over the target only when the
//! run is complete. A failed run drops the [`AtomicFile`], which removes the temporary file;
//! SIGINT, SIGTERM and SIGHUP run a handler that removes it too, then die of the signal as
//! usual. Only SIGKILL (or a power cut) can leave a temporary file behind, and never the target.
//! Through a symbolic link, the linked file is the one replaced.
//!
//! A path that exists and is neither a regular file nor a directory (`/dev/stdout`,
//! `/dev/null`, a FIFO) is written in place like standard output: renaming over it would
//! replace the device or pipe with a regular file.
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
    /// A path that is not a regular file (a FIFO, `/dev/stdout`, `/dev/null`): written in
    /// place and flushed per chunk like standard output. Renaming a file over it would replace
    /// the device or pipe instead of writing to it.
    Stream(BufWriter<File>),
}

impl Sink {
    pub fn stdout() -> Sink {
        Sink::Stdout(io::stdout())
    }

    /// `-` is standard output; an existing path that is not a regular file or directory is
    /// written in place; anything else is an [`AtomicFile`].
    pub fn create(path: &Path) -> io::Result<Sink> {
        if path.as_os_str() == "-" {
            return Ok(Sink::stdout());
        }
        match fs::metadata(path) {
            Ok(m) if !m.is_file() && !m.is_dir() => {
                let f = OpenOptions::new().write(true).open(path)?;
                Ok(Sink::Stream(BufWriter::with_capacity(FILE_BUFFER, f)))
            }
            _ => AtomicFile::create(path).map(Sink::File),
        }
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.write_all(bytes),
            Sink::File(f) => f.write_all(bytes),
            Sink::Stream(w) => w.write_all(bytes),
        }
    }

    /// The end of a chunk: standard output is flushed so a reader downstream sees it now.
    pub fn end_chunk(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(_) => Ok(()),
            Sink::Stream(w) => w.flush(),
        }
    }

    /// Everything was written: flush standard output, or put the file in place.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut s) => s.flush(),
            Sink::File(f) => f.commit(),
            Sink::Stream(mut w) => w.flush(),
        }
    }
}

/// A file that appears at its path only when [`AtomicFile::commit`] is called.
pub struct AtomicFile {
    target: PathBuf,
    dir: PathBuf,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
    slot: Option<usize>,
}

impl AtomicFile {
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        // Through a symbolic link, replace the file it points to, not the link.
        let is_link = fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink());
        let resolved;
        let target = match fs::canonicalize(target) {
            Ok(p) if is_link => {
                resolved = p;
                resolved.as_path()
            }
            _ => target,
        };
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
            dir,
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

    /// Flushes, fsyncs and renames the temporary file over the target. When any step fails
    /// (a full disk shows at the final flush), the temporary file is removed.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("open until committed");
        let put_in_place = || -> io::Result<()> {
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&self.temp, &self.target)
        };
        if let Err(e) = put_in_place() {
            let _ = fs::remove_file(&self.temp);
            if let Some(slot) = self.slot.take() {
                signals::unregister(slot);
            }
            return Err(e);
        }
        // The rename is durable once the directory is synced; not every file system allows
        // opening a directory, and the data is safe either way, so a failure here is ignored.
        let _ = File::open(&self.dir).and_then(|d| d.sync_all());
        if let Some(slot) = self.slot.take() {
            signals::unregister(slot);
        }
        Ok(())
    }
}

/// Temporary files a killed run left beside `target` (`.NAME.partial-PID-N` whose process is
/// gone): only SIGKILL or a power cut leaves them. Reported, not removed: they are the user's
/// to inspect.
pub fn stale_partials(target: &Path) -> Vec<PathBuf> {
    let Some(name) = target.file_name() else {
        return Vec::new();
    };
    let prefix = format!(".{}.partial-", name.to_string_lossy());
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stale: Vec<PathBuf> = entries
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let pid: u32 = file
                .strip_prefix(&prefix)?
                .split('-')
                .next()?
                .parse()
                .ok()?;
            (!process_alive(pid)).then(|| e.path())
        })
        .collect();
    stale.sort();
    stale
}

/// Is a process with this id running (a partial file of a run still going is not stale)?
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
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

    #[cfg(unix)]
    #[test]
    fn through_a_symlink_the_linked_file_is_replaced_not_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jsonl");
        let link = dir.path().join("link.jsonl");
        fs::write(&real, b"old\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut f = AtomicFile::create(&link).unwrap();
        f.write_all(b"new\n").unwrap();
        f.commit().unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_in_place_not_replaced() {
        use std::io::Read;
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut s = String::new();
                File::open(fifo).unwrap().read_to_string(&mut s).unwrap();
                s
            })
        };
        let mut sink = Sink::create(&fifo).unwrap();
        assert!(matches!(sink, Sink::Stream(_)));
        sink.write_all(b"line\n").unwrap();
        sink.end_chunk().unwrap();
        sink.commit().unwrap();
        assert_eq!(reader.join().unwrap(), "line\n");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

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
