//! Error type shared by the codecs in this crate.

/// Why a codestream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The input ended before a header, marker or the coded data was complete.
    #[error("truncated input: {0}")]
    Truncated(&'static str),

    /// A marker was missing, out of place or unknown.
    #[error("bad marker at byte offset {offset}: {reason}")]
    BadMarker {
        /// Byte offset of the marker in the input.
        offset: usize,
        /// What was expected there, or why the marker is not allowed.
        reason: String,
    },

    /// The stream is well formed but uses a feature this decoder does not implement.
    #[error("unsupported feature: {0}")]
    Unsupported(String),

    /// The declared image is larger than this decoder is willing to allocate.
    #[error(
        "image dimensions {width}x{height} with {components} component(s) are too large: {reason}"
    )]
    DimensionTooLarge {
        /// Declared width in pixels.
        width: u64,
        /// Declared height in pixels.
        height: u64,
        /// Declared number of components per pixel.
        components: u32,
        /// Which limit the image exceeds.
        reason: &'static str,
    },

    /// A header field has a value the standard forbids.
    #[error("invalid header: {0}")]
    InvalidHeader(String),

    /// The entropy-coded data cannot have been produced by a conforming encoder.
    #[error("corrupt entropy-coded data: {0}")]
    CorruptData(&'static str),

    /// The image the header declares would take more memory than the
    /// process budget allows (see `exahealth_base::budget`).
    #[error(transparent)]
    Budget(#[from] exahealth_base::BudgetError),
}
