//! (owned by the processing work; filled in next)
