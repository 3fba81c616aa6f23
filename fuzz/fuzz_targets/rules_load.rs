//! The rule-file loader: any file content either compiles or gives an error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smishd::rules::{RuleSet, RuleSource};

fuzz_target!(|data: &[u8]| {
    let Ok(content) = std::str::from_utf8(data) else { return };
    let source = RuleSource { name: "fuzz.toml".into(), content: content.into() };
    if let Ok(set) = RuleSet::from_sources("fuzz-1", &[source]) {
        // A compiled set must run over its own examples without trouble.
        for (i, rule) in set.rules().iter().enumerate() {
            for text in rule.hit.iter().chain(&rule.miss) {
                let _ = set.fires(i as u32, text);
            }
        }
    }
});
