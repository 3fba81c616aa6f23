//! Build steps:
//! 1. compile proto/smishd/v1 with the vendored protoc, so no system package is needed (twice:
//!    the public types, client and server, and the server's lenient request decoding);
//! 2. bundle rules/ (rule files, domain lists, suffix list) and models/ into the binary as the
//!    compiled-in defaults, so adding a rule file needs no code change.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

// The rule set digest, and the FNV-1a it is computed with (as `crate::fnv`, where the digest
// looks for it in the library too).
#[path = "src/rules/digest.rs"]
#[allow(dead_code)]
mod digest;
#[path = "src/fnv.rs"]
#[allow(dead_code)]
mod fnv;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);

    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment here.
    unsafe { std::env::set_var("PROTOC", protoc) };
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("smishd_v1_descriptor.bin"))
        .compile_protos(&["proto/smishd/v1/classifier.proto"], &["proto"])?;
    // The server's own view of the same service: requests decoded with their string fields as
    // bytes (the same wire encoding), so that invalid UTF-8 in one message is that message's
    // INVALID_ARGUMENT instead of a decode failure of the whole call. Responses are the
    // ordinary types.
    let wire = out_dir.join("wire");
    fs::create_dir_all(&wire)?;
    tonic_prost_build::configure()
        .build_client(false)
        .out_dir(&wire)
        .extern_path(".smishd.v1", "crate::server::proto")
        .extern_path(
            ".smishd.v1.ScoreRequest",
            "crate::server::wire::ScoreRequest",
        )
        .extern_path(
            ".smishd.v1.ScoreBatchRequest",
            "crate::server::wire::ScoreBatchRequest",
        )
        .compile_protos(&["proto/smishd/v1/classifier.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto");

    let mut bundle = String::new();
    let rules = manifest_dir.join("rules");
    writeln!(
        bundle,
        "pub const RULES_VERSION: &str = include_str!({:?});",
        rules.join("VERSION")
    )?;
    writeln!(
        bundle,
        "pub const RULES_DIGEST: &str = {:?};",
        digest::of_dir(&rules)?
    )?;
    writeln!(bundle, "pub const RULE_FILES: &[(&str, &str)] = &[")?;
    for path in files_with_ext(&rules, "toml")? {
        writeln!(
            bundle,
            "    ({:?}, include_str!({:?})),",
            relative(&manifest_dir, &path),
            path
        )?;
    }
    writeln!(bundle, "];")?;
    writeln!(bundle, "pub const DOMAIN_FILES: &[(&str, &str)] = &[")?;
    let domains = rules.join("domains");
    if domains.is_dir() {
        for path in files_with_ext(&domains, "txt")? {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            writeln!(bundle, "    ({name:?}, include_str!({path:?})),")?;
        }
    }
    writeln!(bundle, "];")?;
    let psl = rules.join("public_suffix_list.dat");
    if psl.is_file() {
        writeln!(
            bundle,
            "pub const PUBLIC_SUFFIX_LIST: &str = include_str!({psl:?});"
        )?;
    } else {
        writeln!(bundle, "pub const PUBLIC_SUFFIX_LIST: &str = \"\";")?;
    }
    let model = manifest_dir.join("models").join("smishd.model");
    if model.is_file() {
        writeln!(
            bundle,
            "pub const MODEL: Option<&str> = Some(include_str!({model:?}));"
        )?;
    } else {
        writeln!(bundle, "pub const MODEL: Option<&str> = None;")?;
    }
    fs::write(out_dir.join("bundle.rs"), bundle)?;
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=rules/domains");
    println!("cargo:rerun-if-changed=models");
    Ok(())
}

fn files_with_ext(dir: &Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == ext) {
            println!("cargo:rerun-if-changed={}", path.display());
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}
