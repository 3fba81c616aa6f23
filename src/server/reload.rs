//! Hot reload: on SIGHUP, and when the rule directory or model file changes, build a new engine
//! off the request path (`spawn_blocking`) and swap it in atomically.
//!
//! A build that fails (a broken rule file, an unreadable model) leaves the serving engine in
//! place; the error is logged and counted in `smishd_reload_failures_total`. Reloads run one at
//! a time, from this one task.
//!
//! File changes are found by polling a fingerprint (name, size, mtime and inode of every file
//! in the rule directory, its `domains/` folder and the model file) rather than with a file-watch
//! crate: one poll is a few dozen `stat` calls, and polling behaves the same on every file system,
//! including bind mounts and config-map volumes where inotify events go missing. A change is
//! acted on once the fingerprint has held still for one poll, so an editor or deploy tool that
//! writes a file in several steps triggers one reload of the finished file.
//!
//! A Kubernetes ConfigMap volume is updated by a symlink swap: each file is a link through
//! `..data` to a timestamped directory, and the kubelet writes a new directory and then renames
//! a new `..data` over the old one. The fingerprint follows the links, so it sees the new files;
//! the inode tells them apart even when size and mtime happen to match the old ones.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::{EngineSource, Shared};

/// What triggers a reload.
#[derive(Clone, Copy, Debug)]
pub struct Triggers {
    /// Poll interval for file changes; `None` turns polling off.
    pub poll: Option<Duration>,
    pub sighup: bool,
}

/// The state of the files an engine is built from. Equal fingerprints: nothing changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint(Vec<Entry>);

/// One file: its path as named, and the size, mtime and inode of what it resolves to.
type Entry = (String, u64, Option<SystemTime>, u64);

/// Takes the fingerprint of `source`'s files. Compiled-in parts have none.
pub fn fingerprint(source: &EngineSource) -> Fingerprint {
    let mut entries = Vec::new();
    if let Some(dir) = &source.rules {
        add_dir(dir, &mut entries);
        add_dir(&dir.join("domains"), &mut entries);
    }
    if let Some(model) = &source.model {
        add_file(model, &mut entries);
    }
    entries.sort();
    Fingerprint(entries)
}

fn add_dir(dir: &Path, out: &mut Vec<Entry>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        out.push((dir.display().to_string(), u64::MAX, None, 0));
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        if path.is_file() {
            add_file(&path, out);
        }
    }
}

fn add_file(path: &Path, out: &mut Vec<Entry>) {
    use std::os::unix::fs::MetadataExt;
    let name = path.display().to_string();
    // `metadata` follows symbolic links: a ConfigMap's files are links into its `..data`.
    match std::fs::metadata(path) {
        Ok(m) => out.push((name, m.len(), m.modified().ok(), m.ino())),
        Err(_) => out.push((name, u64::MAX, None, 0)),
    }
}

/// Watches for reload triggers until `stop` turns true.
pub async fn watch(
    shared: Arc<Shared>,
    source: EngineSource,
    triggers: Triggers,
    mut loaded_from: Fingerprint,
    mut stop: super::Shutdown,
) {
    let mut hangup = if triggers.sighup {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; reload on file change only");
                None
            }
        }
    } else {
        None
    };
    let mut ticker = triggers.poll.map(|p| {
        let mut t = tokio::time::interval(p);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    // The fingerprint seen at the previous poll: a change must hold still for one poll.
    let mut last_seen = loaded_from.clone();
    loop {
        let reason = tokio::select! {
            _ = stop.wait() => return,
            Some(()) = async {
                match hangup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            } => "sighup",
            _ = async {
                match ticker.as_mut() {
                    Some(t) => t.tick().await,
                    None => std::future::pending().await,
                }
            } => {
                // A few stat calls: cheap enough to run inline on the runtime.
                let now = fingerprint(&source);
                let settled = now == last_seen;
                last_seen = now;
                if !settled || last_seen == loaded_from {
                    continue;
                }
                "file change"
            }
        };
        // Whether the build succeeds or not, these files have been tried: a broken set is not
        // retried every poll, only when it changes again (or on SIGHUP).
        loaded_from = fingerprint(&source);
        reload(&shared, &source, reason).await;
        last_seen = loaded_from.clone();
    }
}

/// A multi-line error (a rule set reports every problem, one a line) as one log line.
fn one_line(error: &str) -> String {
    error
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Builds a new engine from `source` and swaps it in. Returns whether it took effect.
pub async fn reload(shared: &Shared, source: &EngineSource, reason: &str) -> bool {
    let started = Instant::now();
    let built = tokio::task::spawn_blocking({
        let source = source.clone();
        move || source.build()
    })
    .await;
    match built {
        Ok(Ok(engine)) => {
            let (ruleset, model) = (
                engine.ruleset_version().to_string(),
                engine.model_version().to_string(),
            );
            // Counted before the swap: whoever sees the new engine's answers also sees the
            // reload in the metrics (the other order let a scrape fall between the two).
            shared.metrics.reload_ok();
            shared.install(engine);
            tracing::info!(
                reason,
                ruleset,
                model,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "engine reloaded"
            );
            true
        }
        Ok(Err(e)) => {
            shared.metrics.reload_failed();
            tracing::error!(
                reason,
                error = %one_line(&e.report().to_string()),
                "reload failed; the previous engine keeps serving"
            );
            false
        }
        Err(e) => {
            shared.metrics.reload_failed();
            tracing::error!(reason, error = %e, "reload panicked; the previous engine keeps serving");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_sees_edits_and_new_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "x").unwrap();
        let source = EngineSource {
            rules: Some(dir.path().to_path_buf()),
            model: None,
        };
        let first = fingerprint(&source);
        assert_eq!(first, fingerprint(&source));
        std::fs::write(dir.path().join("a.toml"), "xy").unwrap();
        let second = fingerprint(&source);
        assert_ne!(first, second);
        std::fs::create_dir(dir.path().join("domains")).unwrap();
        std::fs::write(dir.path().join("domains").join("bad.txt"), "z").unwrap();
        assert_ne!(second, fingerprint(&source));
    }

    /// Lays out `dir` as the kubelet does a ConfigMap volume: `files` in a timestamped
    /// directory, `..data` linking to it, and one link per file through `..data`. A second call
    /// is an update: new directory, then `..data` swapped by a rename, old directory removed.
    fn configmap_update(dir: &Path, stamp: &str, files: &[(&str, &str)], mtime: SystemTime) {
        use std::os::unix::fs::symlink;
        let version = dir.join(stamp);
        std::fs::create_dir_all(version.join("domains")).unwrap();
        for (name, content) in files {
            let f = version.join(name);
            std::fs::write(&f, content).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&f)
                .unwrap()
                .set_modified(mtime)
                .unwrap();
        }
        let old = std::fs::read_link(dir.join("..data")).ok();
        symlink(stamp, dir.join("..data_tmp")).unwrap();
        std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
        for (name, _) in files {
            let top = name.split('/').next().unwrap();
            if std::fs::symlink_metadata(dir.join(top)).is_err() {
                symlink(format!("..data/{top}"), dir.join(top)).unwrap();
            }
        }
        if let Some(old) = old {
            std::fs::remove_dir_all(dir.join(old)).unwrap();
        }
    }

    #[test]
    fn fingerprint_sees_a_configmap_symlink_swap_even_with_equal_size_and_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let v1 = [
            ("VERSION", "1"),
            ("a.toml", "x = 1"),
            ("domains/malicious.txt", "a.example"),
        ];
        configmap_update(dir.path(), "..2026_01_01_00_00_00.1", &v1, mtime);
        let source = EngineSource {
            rules: Some(dir.path().to_path_buf()),
            model: None,
        };
        let first = fingerprint(&source);
        // The files are seen through their links, the kubelet's own entries are not files.
        let names: Vec<&str> = first.0.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| !n.contains("..")), "{names:?}");
        assert_eq!(first, fingerprint(&source));

        // Same sizes, same mtimes, different content: only the swap tells.
        let v2 = [
            ("VERSION", "2"),
            ("a.toml", "x = 2"),
            ("domains/malicious.txt", "b.example"),
        ];
        configmap_update(dir.path(), "..2026_01_01_00_01_00.2", &v2, mtime);
        let second = fingerprint(&source);
        assert_ne!(first, second);
        assert_eq!(second, fingerprint(&source));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("domains/malicious.txt")).unwrap(),
            "b.example"
        );
    }
}
