//! FNV-1a, the hash smishd writes by hand because its output must never change between builds
//! or Rust releases (std's `DefaultHasher` may): 32-bit for feature ids (features.rs, part of the
//! model file format), 64-bit for the train/validation split (eval/), the domain lists
//! (links/lists.rs, with [`mix64`] on top), the rule set digest (rules/digest.rs) and campaign
//! sender and template hashes (campaign/).
//!
//! std only: build.rs includes this file for the rule set digest.

/// 32-bit offset basis and prime.
pub const OFFSET32: u32 = 0x811c_9dc5;
const PRIME32: u32 = 0x0100_0193;
/// 64-bit offset basis and prime.
pub const OFFSET64: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME64: u64 = 0x0000_0100_0000_01b3;

/// 32-bit FNV-1a of `bytes`, continuing from `h` (start from [`OFFSET32`]).
#[inline]
pub fn feed32(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(PRIME32);
    }
    h
}

/// 64-bit FNV-1a of `bytes`, continuing from `h` (start from [`OFFSET64`]).
#[inline]
pub fn feed64(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME64);
    }
    h
}

/// [`feed64`] of the ASCII-lower-cased bytes (domain names), without a lower-cased copy.
#[inline]
pub fn feed64_ascii_lower(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(PRIME64);
    }
    h
}

/// The SplitMix64 finaliser: spreads FNV's weak high bits over the whole word, for hashes
/// whose top bits pick a bucket.
#[inline]
pub const fn mix64(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_vectors() {
        assert_eq!(feed32(OFFSET32, b""), 0x811c9dc5);
        assert_eq!(feed32(OFFSET32, b"a"), 0xe40c292c);
        assert_eq!(feed32(OFFSET32, b"foobar"), 0xbf9cf968);
        assert_eq!(feed64(OFFSET64, b""), 0xcbf29ce484222325);
        assert_eq!(feed64(OFFSET64, b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(feed64(OFFSET64, b"foobar"), 0x85944171f73967e8);
        assert_eq!(
            feed64_ascii_lower(OFFSET64, b"FooBar"),
            feed64(OFFSET64, b"foobar")
        );
    }

    #[test]
    fn feeding_in_pieces_is_feeding_at_once() {
        assert_eq!(
            feed32(feed32(OFFSET32, b"foo"), b"bar"),
            feed32(OFFSET32, b"foobar")
        );
        assert_eq!(
            feed64(feed64(OFFSET64, b"foo"), b"bar"),
            feed64(OFFSET64, b"foobar")
        );
    }
}
