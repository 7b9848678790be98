//! The heap policy for commands that run networks.
//!
//! A training or inference step allocates and frees the same tensors of
//! tens of megabytes every time. By default glibc serves large blocks with
//! fresh `mmap`s and trims a freed heap top back to the kernel, so each
//! step faults in, page by page, the memory it just gave back: about 9% of
//! a ResNet-18 training step on the development machine (`exahealth bench
//! train --model resnet18 --batch 16 --size 224`, 9.7 to 9.9 against 10.6
//! img/s with this policy). The cost of keeping freed memory in the heap is
//! that the process holds on to its peak heap until it exits, which these
//! commands revisit on every step anyway. PyTorch gains about as much from
//! the same setting (`docs/benchmarks.md`).

/// Keeps freed memory in the heap instead of returning it to the kernel.
/// Call once, early, in commands whose steps reuse large buffers.
pub(crate) fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const ONE_GIB: libc::c_int = 1 << 30;
        const PAD: libc::c_int = 256 << 20;
        // SAFETY: FFI into glibc's `mallopt`, which takes plain integers and
        // locks the allocator itself; any return value leaves the allocator
        // valid (0 only means the setting was refused).
        let accepted = unsafe {
            [
                libc::mallopt(libc::M_MMAP_THRESHOLD, ONE_GIB),
                libc::mallopt(libc::M_TRIM_THRESHOLD, ONE_GIB),
                libc::mallopt(libc::M_TOP_PAD, PAD),
            ]
        };
        tracing::debug!(?accepted, "heap keeps freed memory (mallopt)");
    }
}
