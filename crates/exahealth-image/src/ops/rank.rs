//! (owned by the tissue work; filled in next)
