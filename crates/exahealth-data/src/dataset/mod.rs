//! The DeepHealth dataset format (ECVL's YAML): read, validate, write back,
//! and generate from a folder tree.
//!
//! ```yaml
//! name: skin lesions
//! classes: [benign, malignant]
//! features: [age, sex]
//! images:
//!   - location: a.png           # relative to the YAML file
//!     label: malignant          # class name, index, list of either, or a mask path
//!     values: {age: 54}         # by feature name, or positional [54, null]
//!   - [plane1.png, plane2.png]  # a multi-plane image without label
//! split:
//!   training: [0]
//!   test: [1]
//! ```

mod generate;
mod model;
mod read;
mod write;

pub use generate::{generate_from_class_folders, generate_from_image_mask_folders, SplitFractions};
pub use model::{Dataset, DatasetError, Label, Sample};
pub use read::{parse_dataset, read_dataset};
pub use write::{dataset_to_yaml, write_dataset};
