//! ECVL's containers: apply all in order, or one picked at random.

use rand::Rng;

use super::{chance, indent_str, AugRng, Augmentation};
use crate::{Image, ImageError};

/// Applies its augmentations one after the other.
#[derive(Debug, Default)]
pub struct SequentialAugmentationContainer {
    /// The augmentations, in the order they run.
    pub augs: Vec<Box<dyn Augmentation>>,
}

impl SequentialAugmentationContainer {
    /// A container running `augs` in order.
    pub fn new(augs: Vec<Box<dyn Augmentation>>) -> Self {
        SequentialAugmentationContainer { augs }
    }
}

impl Augmentation for SequentialAugmentationContainer {
    fn apply(
        &self,
        img: &mut Image,
        mut mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        for a in &self.augs {
            a.apply(img, mask.as_deref_mut(), rng)?;
        }
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}SequentialAugmentationContainer\n",
            indent_str(indent)
        ));
        for a in &self.augs {
            a.write_config(indent + 1, out);
        }
        out.push_str(&format!("{}end\n", indent_str(indent)));
    }
}

/// Picks one of its augmentations uniformly and applies it with
/// probability `p`. Draws (as ECVL): the index, then the coin.
#[derive(Debug)]
pub struct OneOfAugmentationContainer {
    /// The probability of applying the chosen augmentation.
    pub p: f64,
    /// The augmentations to choose from.
    pub augs: Vec<Box<dyn Augmentation>>,
}

impl OneOfAugmentationContainer {
    /// A container applying one of `augs`, picked uniformly, with probability `p`.
    pub fn new(p: f64, augs: Vec<Box<dyn Augmentation>>) -> Self {
        OneOfAugmentationContainer { p, augs }
    }
}

impl Augmentation for OneOfAugmentationContainer {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        if self.augs.is_empty() {
            return Ok(());
        }
        let i = rng.random_range(0..self.augs.len());
        if chance(self.p, rng) {
            self.augs[i].apply(img, mask, rng)?;
        }
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}OneOfAugmentationContainer p={}\n",
            indent_str(indent),
            self.p
        ));
        for a in &self.augs {
            a.write_config(indent + 1, out);
        }
        out.push_str(&format!("{}end\n", indent_str(indent)));
    }
}
