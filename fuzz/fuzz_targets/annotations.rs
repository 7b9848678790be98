//! Fuzz the annotation readers: `detect_format`, then `parse` in every
//! `Format` (ASAP XML, GeoJSON, Sedeen XML, Halo XML) on the same bytes.
//! What parses must validate (readers promise valid sets), write as
//! GeoJSON and read back, and rasterise: a 64 x 64 mask at the origin and
//! one fitted to the set's bounds.
#![no_main]

use exahealth_data::annotations::{
    detect_format, parse, parse_geojson, rasterize, rasterize_region, to_asap_string,
    to_geojson_string, AnnotationSet, Format, Point,
};
use libfuzzer_sys::fuzz_target;

fn label(class: Option<&str>) -> Option<u8> {
    Some(class.map_or(1, |c| (c.len() % 254) as u8 + 2))
}

fn exercise(set: &AnnotationSet) {
    set.validate().expect("a reader produced an invalid set");
    let summary = set.summary();
    if let Ok(mask) = rasterize(set, 64, 64, 1.0, &label) {
        assert_eq!(mask.len(), 64 * 64);
    }
    if let Some(b) = summary.bounds {
        let span = (b.max_x - b.min_x).max(b.max_y - b.min_y);
        let downsample = if span.is_finite() && span > 0.0 { span / 64.0 } else { 1.0 };
        let origin = Point::new(b.min_x, b.min_y);
        if let Ok(mask) = rasterize_region(set, origin, 64, 64, downsample, &label) {
            assert_eq!(mask.len(), 64 * 64);
        }
    }
    let _ = to_asap_string(set);
    let json = to_geojson_string(set).expect("GeoJSON writer refused a valid set");
    let back = parse_geojson(json.as_bytes(), "roundtrip.geojson")
        .unwrap_or_else(|e| panic!("written GeoJSON does not read back: {e}"));
    assert_eq!(back.annotations.len(), set.annotations.len());
}

fuzz_target!(|data: &[u8]| {
    let _ = detect_format(data, "fuzz");
    for format in [Format::Asap, Format::GeoJson, Format::Sedeen, Format::Halo] {
        if let Ok(set) = parse(data, format, "fuzz") {
            exercise(&set);
        }
    }
});
