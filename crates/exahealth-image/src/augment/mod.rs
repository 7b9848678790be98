//! ECVL augmentations (filled in next)
