//! Slide annotations (ASAP XML, QuPath GeoJSON): in progress.
