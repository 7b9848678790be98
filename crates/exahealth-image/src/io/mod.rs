//! Image file I/O (filled in next)
