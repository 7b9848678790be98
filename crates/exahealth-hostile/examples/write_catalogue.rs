//! Writes every crafted file of the catalogue into a folder, to try a
//! command on by hand or to seed a fuzzer:
//! `cargo run -p exahealth-hostile --example write_catalogue -- DIR JLS`
//! (`JLS`: an 8-bit one-component JPEG-LS stream for the DICOM JPEG-LS
//! classes, e.g. crates/exahealth-codec/tests/data/jls/gray8_lossless.jls).

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "hostile".into()));
    std::fs::create_dir_all(&dir)?;
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("tag-bomb.tiff", exahealth_hostile::tiff_tag_bomb()),
        ("wide.tiff", exahealth_hostile::tiff_wide_level()),
        ("philips.tiff", exahealth_hostile::philips_bad_spacing()),
        ("far.xlsx", exahealth_hostile::xlsx_far_cells()),
        ("strings.xlsx", exahealth_hostile::xlsx_shared_string_bomb()),
        ("huge-rle.dcm", exahealth_hostile::dicom_rle_huge()),
        (
            "fragments.dcm",
            exahealth_hostile::dicom_many_fragments(1_000_000),
        ),
    ];
    if let Some(jls) = args.next() {
        let jls = std::fs::read(jls)?;
        files.push((
            "huge-jpegls.dcm",
            exahealth_hostile::dicom_jpegls_huge(&jls),
        ));
    }
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes)?;
        println!("{}", dir.join(name).display());
    }
    Ok(())
}
