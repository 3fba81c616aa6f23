//! The window's band table as one block of zeroed memory, aligned to 2 MiB and marked for
//! transparent huge pages where the system has them.
//!
//! Every message reads 12 random entries of a 16 MiB table. With 4 KiB pages that is 4,096
//! pages, more than the processor's TLB holds, so most reads paid a page walk on top of the
//! cache miss (two nested walks in a virtual machine). With 2 MiB pages the whole table takes
//! eight TLB entries. Where huge pages are not available the table is the same, in small pages.
//!
//! The table is allocated once when the window is made and freed with it.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

/// The size and alignment of a huge page on x86-64 and most arm64 systems.
const HUGE_PAGE: usize = 2 << 20;

/// A fixed-length slice of `T` whose all-zero bit pattern is a valid value.
pub(super) struct Table<T: Zeroable> {
    ptr: NonNull<T>,
    len: usize,
    layout: Layout,
}

/// Types for which all-zero memory is a valid value.
///
/// # Safety
/// Implement only for types made of integers and atomics (no references, no enums with
/// invalid zero).
pub(super) unsafe trait Zeroable: Sync {}

// SAFETY: atomics of zero are valid values.
unsafe impl Zeroable for AtomicU64 {}

impl<T: Zeroable> Table<T> {
    /// `len` zeroed values (at least one).
    pub(super) fn zeroed(len: usize) -> Table<T> {
        let len = len.max(1);
        let size = len
            .checked_mul(std::mem::size_of::<T>())
            .expect("table size fits in memory")
            .max(1);
        let align = if size >= HUGE_PAGE { HUGE_PAGE } else { 64 }.max(std::mem::align_of::<T>());
        let layout = Layout::from_size_align(size, align).expect("table layout");
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc::alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        // Marked before the first write, so that the pages are made huge as they are touched.
        // A refusal (no huge pages here) leaves small pages: nothing to handle.
        #[cfg(target_os = "linux")]
        if size >= HUGE_PAGE {
            // SAFETY: the range is the allocation just made; the advice changes no contents.
            unsafe { libc::madvise(raw.cast(), size, libc::MADV_HUGEPAGE) };
        }
        // SAFETY: `raw` is valid for `size` bytes, and zero is a valid `T` (`Zeroable`).
        unsafe { std::ptr::write_bytes(raw, 0, size) };
        Table {
            ptr: ptr.cast(),
            len,
            layout,
        }
    }
}

impl<T: Zeroable> std::ops::Deref for Table<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` holds `len` initialised values for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Zeroable> Drop for Table<T> {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with this layout, freed once.
        unsafe { alloc::dealloc(self.ptr.as_ptr().cast(), self.layout) }
    }
}

// SAFETY: the table owns its values like a `Box<[T]>`, and `T: Sync` (atomics) is shared
// between threads through `&self` only.
unsafe impl<T: Zeroable + Send> Send for Table<T> {}
unsafe impl<T: Zeroable> Sync for Table<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;

    #[test]
    fn tables_are_zeroed_aligned_and_writable() {
        for len in [0, 1, 5, 1 << 18] {
            let t: Table<AtomicU64> = Table::zeroed(len);
            assert_eq!(t.len(), len.max(1));
            assert!(t.iter().all(|v| v.load(Relaxed) == 0));
            let align = if t.len() * 8 >= HUGE_PAGE {
                HUGE_PAGE
            } else {
                64
            };
            assert_eq!(t.as_ptr() as usize % align, 0);
            t[t.len() - 1].store(7, Relaxed);
            assert_eq!(t[t.len() - 1].load(Relaxed), 7);
        }
    }
}
