//! Stain augmentation and normalisation (filled in next)
