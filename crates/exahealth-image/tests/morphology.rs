//! Morphology and components against small hand-computed arrays.

use exahealth_image::ops::morphology::{
    close, connected_components, dilate, erode, fill_holes, open, Connectivity, Element,
};
use exahealth_image::ops::rank::median_blur;
use ndarray::{array, Array2};

fn bin(rows: &[&str]) -> Array2<u8> {
    let h = rows.len();
    let w = rows[0].len();
    Array2::from_shape_fn((h, w), |(y, x)| {
        if rows[y].as_bytes()[x] == b'#' {
            255
        } else {
            0
        }
    })
}

#[test]
fn dilate_single_pixel_with_square_and_disk() {
    let img = bin(&[".....", ".....", "..#..", ".....", "....."]);
    assert_eq!(
        dilate(img.view(), Element::Square(3)),
        bin(&[".....", ".###.", ".###.", ".###.", "....."])
    );
    assert_eq!(
        dilate(img.view(), Element::Disk(1)),
        bin(&[".....", "..#..", ".###.", "..#..", "....."])
    );
    assert_eq!(
        dilate(img.view(), Element::Disk(2)),
        bin(&["..#..", ".###.", "#####", ".###.", "..#.."])
    );
}

#[test]
fn erode_shrinks_and_borders_do_not_erode() {
    let img = bin(&["####.", "####.", "####.", "....."]);
    // The image edge is neutral (OpenCV's default), so only the sides that
    // face background shrink.
    assert_eq!(
        erode(img.view(), Element::Square(3)),
        bin(&["###..", "###..", ".....", "....."])
    );
}

#[test]
fn grayscale_erode_and_dilate_take_min_and_max() {
    let img = array![[1u8, 2, 3], [4, 5, 6], [7, 8, 9]];
    assert_eq!(
        erode(img.view(), Element::Square(3)),
        array![[1u8, 1, 2], [1, 1, 2], [4, 4, 5]]
    );
    assert_eq!(
        dilate(img.view(), Element::Square(3)),
        array![[5u8, 6, 6], [8, 9, 9], [8, 9, 9]]
    );
    // A 2x2 square covers offsets -1..=0 (anchor size / 2): erosion looks
    // up and left, dilation (by the reflection) down and right.
    let peak = array![[9u8, 1, 1], [1, 1, 1], [1, 1, 5]];
    assert_eq!(
        dilate(peak.view(), Element::Square(2)),
        array![[9u8, 1, 1], [1, 5, 5], [1, 5, 5]]
    );
    assert_eq!(
        erode(peak.view(), Element::Square(2)),
        array![[9u8, 1, 1], [1, 1, 1], [1, 1, 1]]
    );
    // So closing with an even square keeps a straight edge in place.
    let half = bin(&["...###", "...###", "...###", "...###"]);
    assert_eq!(close(half.view(), Element::Square(4)), half);
}

#[test]
fn open_removes_specks_close_fills_gaps() {
    let img = bin(&[
        "#.......", "........", "..####..", "..####..", "..####..", "..####..", "........",
        "........",
    ]);
    let opened = open(img.view(), Element::Square(3));
    assert_eq!(opened[(0, 0)], 0, "single speck removed");
    assert_eq!(opened[(3, 3)], 255, "block kept");
    assert_eq!(opened.iter().filter(|&&v| v != 0).count(), 16);

    // Two pixels of margin, so the dilation stays inside the image.
    let gap = bin(&[
        "..........",
        "..........",
        "..###.##..",
        "..###.##..",
        "..###.##..",
        "..........",
        "..........",
    ]);
    let closed = close(gap.view(), Element::Square(3));
    assert_eq!(
        closed,
        bin(&[
            "..........",
            "..........",
            "..######..",
            "..######..",
            "..######..",
            "..........",
            "..........",
        ])
    );
}

#[test]
fn fill_holes_fills_enclosed_background_only() {
    let img = bin(&[
        "#####...", "#...#...", "#.#.#...", "#...#..#", "#####..#", "........",
    ]);
    let filled = fill_holes(img.view());
    assert_eq!(
        filled,
        bin(&["#####...", "#####...", "#####...", "#####..#", "#####..#", "........",])
    );
}

#[test]
fn connected_components_counts_areas_and_boxes() {
    let img = bin(&["##..#", "##..#", "...#.", "#....", "#...."]);
    let four = connected_components(img.view(), Connectivity::Four);
    assert_eq!(four.stats.len(), 4);
    let areas: Vec<u64> = four.stats.iter().map(|s| s.area).collect();
    assert_eq!(areas, vec![4, 2, 1, 2]);
    assert_eq!(four.stats[0].bbox, (0, 0, 2, 2));
    assert_eq!(four.stats[0].centroid, (0.5, 0.5));
    assert_eq!(four.stats[3].bbox, (0, 3, 1, 2));
    assert_eq!(four.labels[(2, 3)], 3);
    // With corners, the diagonal pixel joins the right-hand column.
    let eight = connected_components(img.view(), Connectivity::Eight);
    assert_eq!(eight.stats.len(), 3);
    assert_eq!(eight.stats[1].area, 3);
    assert_eq!(eight.labels[(2, 3)], eight.labels[(0, 4)]);
}

#[test]
fn median_blur_removes_salt_and_keeps_edges() {
    let mut img = Array2::from_shape_fn((7, 8), |(_, x)| if x < 4 { 10u8 } else { 200 });
    img[(3, 1)] = 255;
    img[(5, 6)] = 0;
    let m = median_blur(img.view(), 3).unwrap();
    let expected = Array2::from_shape_fn((7, 8), |(_, x)| if x < 4 { 10u8 } else { 200 });
    assert_eq!(m, expected);
    // Against a direct median on an irregular image.
    let noisy = Array2::from_shape_fn((9, 11), |(y, x)| ((y * 37 + x * 91) % 251) as u8);
    let m = median_blur(noisy.view(), 5).unwrap();
    for y in 0..9 {
        for x in 0..11 {
            let mut v = Vec::new();
            for dy in -2i32..=2 {
                for dx in -2i32..=2 {
                    let sy = (y as i32 + dy).clamp(0, 8) as usize;
                    let sx = (x as i32 + dx).clamp(0, 10) as usize;
                    v.push(noisy[(sy, sx)]);
                }
            }
            v.sort_unstable();
            assert_eq!(m[(y, x)], v[12], "at ({x}, {y})");
        }
    }
    assert!(median_blur(noisy.view(), 4).is_err());
}
