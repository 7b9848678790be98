//! Output buffers for the 8-bit kernels.
//!
//! A 4096 x 4096 RGB result is 48 MiB of fresh anonymous memory. Faulted in
//! 4 KiB pages, the kernel's page-fault and zeroing work costs about a
//! third as much as the blur itself; with transparent huge pages in
//! `madvise` mode (the common default) that drops by a factor of 512.
//! NumPy asks for huge pages on large arrays the same way, so OpenCV's
//! outputs already get them.

/// Buffers at least this large ask for huge pages.
const HUGE_PAGE_MIN: usize = 4 << 20;

/// A zeroed buffer of `len` bytes; large ones are advised to use
/// transparent huge pages before their pages are first touched.
pub(crate) fn output_buffer(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    if len >= HUGE_PAGE_MIN {
        advise_huge_pages(&mut out);
    }
    out
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(buf: &mut [u8]) {
    const PAGE: usize = 4096;
    let start = buf.as_mut_ptr() as usize;
    let aligned = start.next_multiple_of(PAGE);
    let end = (start + buf.len()) / PAGE * PAGE;
    if end <= aligned {
        return;
    }
    // SAFETY: FFI call. [aligned, end) is page-aligned and lies inside
    // `buf`, which this function borrows mutably, so no other reference
    // observes it; MADV_HUGEPAGE changes only how the kernel backs those
    // pages (contents are preserved), and an error return is harmless.
    let rc = unsafe {
        libc::madvise(
            aligned as *mut libc::c_void,
            end - aligned,
            libc::MADV_HUGEPAGE,
        )
    };
    if rc != 0 {
        tracing::trace!("madvise(MADV_HUGEPAGE) refused; using normal pages");
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_buf: &mut [u8]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_zeroed_at_every_size() {
        for len in [0, 1, 4095, HUGE_PAGE_MIN + 17] {
            let b = output_buffer(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&v| v == 0));
        }
    }
}
