//! Campaigns: one template sent many times with the name, amount, link or a few characters
//! changed per copy. A scam the rules do not know yet still shows itself by how it spreads.
//!
//! - `mask.rs`: numbers, links and names in the normalised text become placeholders;
//! - `fingerprint.rs`: MinHash over character shingles of the masked text, cut into
//!   locality-sensitive band keys (copies of one template share a key);
//! - `window.rs`: the daemon's sliding window, counting copies and distinct senders per
//!   template in fixed memory (hashes only, expiring with the window);
//! - `table.rs`: the window's band table, in huge pages where the system has them;
//! - `template.rs`: the part several copies share, the only text a report shows;
//! - `group.rs`: grouping a whole log into campaigns in bounded memory (`smishd campaigns`);
//! - `scan.rs`: reading and scoring the log in parallel, feeding the grouping in order;
//! - `timeline.rs`: each campaign's copies along the log, for the picture;
//! - `report.rs`: the report as a table, JSON lines or an SVG of sizes over time.
//!
//! Privacy: nothing here keeps message text beyond the record being processed, except the
//! masked common part of a campaign's copies in the batch report.

pub mod fingerprint;
pub mod group;
pub mod mask;
pub mod report;
pub mod scan;
mod table;
pub mod template;
pub mod timeline;
pub mod window;

pub use fingerprint::Fingerprint;
pub use window::{Campaign, Window, WindowConfig};

/// An id as 16 hexadecimal digits, the way reports, verdicts and metrics print it.
pub fn id_hex(id: u64) -> String {
    format!("{id:016x}")
}
