//! Corrupt and truncated real files give typed errors, never a panic.

use std::path::PathBuf;

use exahealth_image::io;
use exahealth_image::ImageError;

fn testdata() -> Option<PathBuf> {
    exahealth_base::testdata::shared_dir(env!("CARGO_MANIFEST_DIR"))
}

const FILES: [&str; 12] = [
    "dicom/MR_small.dcm",
    "dicom/MR_small_implicit.dcm",
    "dicom/MR_small_bigendian.dcm",
    "dicom/MR_small_RLE.dcm",
    "dicom/MR_small_jpeg_ls_lossless.dcm",
    "dicom/MR_small_jp2klossless.dcm",
    "dicom/SC_rgb_jpeg_dcmtk.dcm",
    "dicom/image_dfl.dcm",
    "nifti/functional.nii",
    "nifti/standard.nii.gz",
    "nifti/example_nifti2.nii.gz",
    "nifti/anatomical.nii",
];

fn is_typed(e: &ImageError) -> bool {
    matches!(
        e,
        ImageError::Malformed { .. }
            | ImageError::Unsupported(_)
            | ImageError::NoPixelData { .. }
            | ImageError::Budget(_)
    )
}

#[test]
fn truncated_files_are_errors() {
    let Some(d) = testdata() else { return };
    for name in FILES {
        let bytes = std::fs::read(d.join(name)).unwrap();
        assert!(
            io::read_bytes(bytes.clone()).is_ok(),
            "{name} itself must read"
        );
        // 40 cut points spread over the file, plus the first bytes.
        let mut cuts: Vec<usize> = (0..40).map(|i| bytes.len() * i / 40).collect();
        cuts.extend([
            1,
            4,
            127,
            131,
            200,
            347,
            351,
            bytes.len().saturating_sub(17),
        ]);
        for cut in cuts.into_iter().filter(|&c| c < bytes.len()) {
            match io::read_bytes(bytes[..cut].to_vec()) {
                // Losing only a trailer (sequence delimiter, JPEG EOI) may
                // leave every pixel intact, as it does for pydicom.
                Ok(_) if cut + 16 >= bytes.len() => {}
                Ok(img) => panic!(
                    "{name} cut at {cut} read as {:?} {:?}",
                    img.layout(),
                    img.dims()
                ),
                Err(e) => assert!(is_typed(&e), "{name} cut at {cut}: {e:?}"),
            }
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let Some(d) = testdata() else { return };
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    let mut total = 0;
    for name in FILES {
        let bytes = std::fs::read(d.join(name)).unwrap();
        let t0 = std::time::Instant::now();
        for _ in 0..60 {
            let mut b = bytes.clone();
            // Headers matter most: bias half the flips into the first 1 KiB.
            for _ in 0..1 + next() % 4 {
                let span = if next() % 2 == 0 {
                    b.len().min(1024)
                } else {
                    b.len()
                };
                let i = (next() as usize) % span;
                b[i] ^= 1 << (next() % 8);
            }
            total += 1;
            if let Err(e) = io::read_bytes(b) {
                assert!(is_typed(&e), "{name}: {e:?}");
                errors += 1;
            }
        }
        eprintln!("{name}: 60 corruptions in {:?}", t0.elapsed());
    }
    eprintln!("{errors} of {total} corrupted files were rejected, the rest decoded");
}
