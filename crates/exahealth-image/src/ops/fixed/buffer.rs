//! Output buffers for the 8-bit kernels.
//!
//! A 4096 x 4096 RGB result is 48 MiB of fresh anonymous memory. Faulted in
//! 4 KiB pages, the kernel's page-fault and zeroing work costs about a
//! third as much as the blur itself; with transparent huge pages in
//! `madvise` mode (the common default) that drops by a factor of 512.
//! NumPy asks for huge pages on large arrays the same way, so OpenCV's
//! outputs already get them.

use rayon::prelude::*;

/// Buffers at least this large ask for huge pages.
const HUGE_PAGE_MIN: usize = 4 << 20;

/// A zeroed buffer of `len` bytes; large ones are advised to use
/// transparent huge pages before their pages are first touched.
pub(crate) fn output_buffer(len: usize) -> Vec<u8> {
    if len < HUGE_PAGE_MIN {
        return vec![0u8; len];
    }
    let mut out = Vec::with_capacity(len);
    advise_huge_pages(out.as_mut_ptr(), len);
    // Zeroed on all cores: `calloc` would zero memory reused from a heap
    // on one thread, before the advice could apply to it.
    out.par_extend(rayon::iter::repeat_n(0u8, len));
    out
}

// The crate's only `unsafe`: libc::madvise is an FFI call with no safe
// wrapper among the dependencies, and huge pages halve the TLB misses of
// the large kernel outputs. The crate denies `unsafe` everywhere else.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    const PAGE: usize = 4096;
    let start = ptr as usize;
    let aligned = start.next_multiple_of(PAGE);
    let end = (start + len) / PAGE * PAGE;
    if end <= aligned {
        return;
    }
    // SAFETY: FFI call. [aligned, end) is page-aligned and lies inside the
    // allocation of `len` bytes at `ptr`, which the caller owns and has not
    // handed out; MADV_HUGEPAGE changes only how the kernel backs those
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
fn advise_huge_pages(_ptr: *mut u8, _len: usize) {}

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
