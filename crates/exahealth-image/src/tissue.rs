//! Tissue detection (filled in next)
