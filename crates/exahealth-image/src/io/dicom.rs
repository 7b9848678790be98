//! DICOM files through dicom-rs: parse with `dicom-object`, decode
//! encapsulated frames with `dicom-pixeldata` (pure-Rust codecs: jpeg-decoder
//! for JPEG baseline/extended/lossless, RLE, deflate, openjp2 for JPEG 2000)
//! and JPEG-LS with our own `exahealth_codec::decode_jpegls` (dicom-rs only
//! offers the C `charls` there).
//!
//! Gaps filled here: files without preamble, `DICM` magic or file-meta group
//! (a raw data set, implicit or explicit VR little endian), 1-bit and 32-bit
//! native samples, planar configuration, sign extension of signed samples
//! whose BitsStored is below BitsAllocated, native YBR_FULL to RGB, and
//! a typed "no pixel data" error for SR, RT plans, waveforms and the like.
//!
//! Stored values are kept: rescale slope/intercept and the window go to the
//! metadata map (see [`crate::io::modality_lut`], [`crate::io::to_display_u8`]).

use std::borrow::Cow;

use dicom_core::value::Value as DicomValue;
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::file::ReadPreamble;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject, OpenFileOptions};
use dicom_pixeldata::PixelDecoder;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use exahealth_base::budget;
use exahealth_codec::{CodecError, JlsSamples};
use ndarray::{ArrayD, IxDyn};

use super::bytes::{decode_samples, grow_within, reshape, Endian};
use super::dicom_check;
use crate::{ColorType, DataType, Image, ImageData, ImageError};

type Obj = dicom_object::DefaultDicomObject;

const FORMAT: &str = "DICOM";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";
const JPEG: [&str; 4] = [
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
];
const DEFLATE: &str = "1.2.840.10008.1.2.1.99";
const RLE: &str = "1.2.840.10008.1.2.5";
const JPEG_LS: [&str; 2] = ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"];
const JPEG_2000: [&str; 2] = ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"];

fn bad(why: impl Into<String>) -> ImageError {
    ImageError::Malformed {
        format: FORMAT,
        why: why.into(),
    }
}

/// True when `head` plausibly starts a DICOM data set with no preamble and
/// no file-meta group (group 0x0008 first, implicit or explicit VR LE).
pub fn looks_like_raw_dataset(head: &[u8]) -> bool {
    let [g0, g1, e0, e1, v0, v1, l0, l1, ..] = *head else {
        return false;
    };
    let group = u16::from_le_bytes([g0, g1]);
    let elem = u16::from_le_bytes([e0, e1]);
    if group != 0x0008 || elem > 0x0100 {
        return false;
    }
    let vr_like = v0.is_ascii_uppercase() && v1.is_ascii_uppercase();
    let implicit_len = u32::from_le_bytes([v0, v1, l0, l1]);
    vr_like || implicit_len < 1024
}

/// Whether a raw data set (see [`looks_like_raw_dataset`]) starts with an
/// explicit VR.
fn explicit_vr(head: &[u8]) -> bool {
    head.get(4..6)
        .is_some_and(|vr| vr.iter().all(u8::is_ascii_uppercase))
}

/// Parses the object, whatever its framing (preamble, bare `DICM`, or raw data set).
pub fn open_bytes(bytes: &[u8]) -> Result<Obj, ImageError> {
    let opts = || OpenFileOptions::new().read_preamble(ReadPreamble::Never);
    let parse_err = |e: dicom_object::ReadError| bad(e.to_string());
    if let (Some(b"DICM"), Some(after)) = (bytes.get(128..132), bytes.get(132..)) {
        check_structure(after)?;
        return opts().from_reader(after_preamble(bytes)).map_err(parse_err);
    }
    if let Some(after) = bytes.strip_prefix(b"DICM") {
        check_structure(after)?;
        return opts().from_reader(bytes).map_err(parse_err);
    }
    if !looks_like_raw_dataset(bytes) {
        return Err(bad("no DICM magic and no recognisable data set"));
    }
    let ts_uid = if explicit_vr(bytes) {
        EXPLICIT_LE
    } else {
        IMPLICIT_LE
    };
    dicom_check::check_dataset(
        bytes,
        dicom_check::Syntax {
            explicit: ts_uid == EXPLICIT_LE,
            big_endian: false,
        },
    )
    .map_err(bad)?;
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| bad(format!("transfer syntax {ts_uid} not registered")))?;
    let obj = InMemDicomObject::read_dataset_with_ts(bytes, ts).map_err(|e| bad(e.to_string()))?;
    let sop_class = obj
        .element_opt(tags::SOP_CLASS_UID)
        .ok()
        .flatten()
        .and_then(|e| {
            e.to_str()
                .ok()
                .map(|s| s.trim_end_matches('\0').trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "1.2.840.10008.5.1.4.1.1.7".to_string());
    let sop_inst = obj
        .element_opt(tags::SOP_INSTANCE_UID)
        .ok()
        .flatten()
        .and_then(|e| {
            e.to_str()
                .ok()
                .map(|s| s.trim_end_matches('\0').trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "2.25.1".to_string());
    obj.with_meta(
        FileMetaTableBuilder::new()
            .transfer_syntax(ts_uid)
            .media_storage_sop_class_uid(sop_class)
            .media_storage_sop_instance_uid(sop_inst),
    )
    .map_err(|e| bad(e.to_string()))
}

/// The bytes from the `DICM` magic on (the 128-byte preamble dropped).
fn after_preamble(bytes: &[u8]) -> &[u8] {
    bytes.get(128..).unwrap_or_default()
}

/// Validates the meta group and data set lengths (after `DICM`) before
/// dicom-rs sees them; see [`dicom_check`].
fn check_structure(after_magic: &[u8]) -> Result<(), ImageError> {
    let (meta_len, ts) = dicom_check::check_meta(after_magic).map_err(bad)?;
    let data = after_magic
        .get(meta_len..)
        .ok_or_else(|| bad("file-meta group runs past the end of the file"))?;
    if ts == DEFLATE {
        // dicom-rs inflates the whole data set itself; a stream that would
        // inflate past the budget is refused here rather than cut short,
        // which could leave a prefix that passes the check below.
        let limit = budget::limit().min(super::MAX_FILE_BYTES);
        let mut inflated = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(flate2::read::DeflateDecoder::new(data), limit + 1),
            &mut inflated,
        )
        .map_err(|e| bad(format!("deflated data set: {e}")))?;
        budget::check("the inflated data set", inflated.len() as u64)?;
        return dicom_check::check_dataset(
            &inflated,
            dicom_check::Syntax {
                explicit: true,
                big_endian: false,
            },
        )
        .map_err(bad);
    }
    dicom_check::check_dataset(
        data,
        dicom_check::Syntax {
            explicit: ts != IMPLICIT_LE,
            big_endian: ts == EXPLICIT_BE,
        },
    )
    .map_err(bad)
}

pub(crate) fn find(obj: &InMemDicomObject, tag: Tag) -> Option<&dicom_object::mem::InMemElement> {
    obj.element_opt(tag).ok().flatten()
}

pub(crate) fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    find(obj, tag).and_then(|e| e.to_int::<i64>().ok())
}

pub(crate) fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    find(obj, tag)
        .and_then(|e| {
            e.to_str()
                .ok()
                .map(|s| s.trim_end_matches('\0').trim().to_string())
        })
        .filter(|s| !s.is_empty())
}

pub(crate) fn floats(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    find(obj, tag)
        .and_then(|e| e.to_multi_float64().ok())
        .filter(|v| !v.is_empty() && v.iter().all(|x| x.is_finite()))
}

/// First item of sequence `tag`.
fn item(obj: &InMemDicomObject, tag: Tag) -> Option<&InMemDicomObject> {
    find(obj, tag)
        .and_then(|e| e.items())
        .and_then(|i| i.first())
}

/// A value from the top level, or else from the shared (then first
/// per-frame) functional group `group` of an enhanced multi-frame object.
fn floats_fg(obj: &InMemDicomObject, group: Tag, tag: Tag) -> Option<Vec<f64>> {
    floats(obj, tag).or_else(|| {
        [
            tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
            tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
        ]
        .into_iter()
        .find_map(|fg| {
            item(obj, fg)
                .and_then(|f| item(f, group))
                .and_then(|g| floats(g, tag))
        })
    })
}

/// The imaging attributes that decide how pixel bytes become samples.
#[derive(Debug, Clone)]
struct Props {
    rows: usize,
    cols: usize,
    spp: usize,
    frames: usize,
    bits_allocated: u16,
    bits_stored: u16,
    signed: bool,
    planar: bool,
    photometric: String,
}

impl Props {
    fn of(obj: &InMemDicomObject) -> Result<Props, ImageError> {
        let need = |tag: Tag, name: &str| {
            int(obj, tag).ok_or_else(|| bad(format!("{name} is missing or not a number")))
        };
        let rows = need(tags::ROWS, "Rows")?;
        let cols = need(tags::COLUMNS, "Columns")?;
        let spp = int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
        let frames = int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
        let ba = need(tags::BITS_ALLOCATED, "BitsAllocated")?;
        let bs = int(obj, tags::BITS_STORED).unwrap_or(ba);
        if !(1..=65535).contains(&rows) || !(1..=65535).contains(&cols) {
            return Err(bad(format!("Rows x Columns = {rows} x {cols}")));
        }
        if !(1..=4).contains(&spp) {
            return Err(bad(format!("SamplesPerPixel = {spp}")));
        }
        if !(1..=1_000_000).contains(&frames) {
            return Err(bad(format!("NumberOfFrames = {frames}")));
        }
        if ![1, 8, 16, 32].contains(&ba) {
            return Err(ImageError::Unsupported(format!("BitsAllocated = {ba}")));
        }
        if !(1..=ba).contains(&bs) {
            return Err(bad(format!("BitsStored = {bs} with BitsAllocated = {ba}")));
        }
        Ok(Props {
            rows: rows as usize,
            cols: cols as usize,
            spp: spp as usize,
            frames: frames as usize,
            bits_allocated: ba as u16,
            bits_stored: bs as u16,
            signed: int(obj, tags::PIXEL_REPRESENTATION) == Some(1),
            planar: int(obj, tags::PLANAR_CONFIGURATION) == Some(1),
            photometric: text(obj, tags::PHOTOMETRIC_INTERPRETATION)
                .unwrap_or_else(|| "MONOCHROME2".into()),
        })
    }

    fn samples_per_frame(&self) -> usize {
        self.rows * self.cols * self.spp
    }

    fn dtype(&self) -> DataType {
        match (self.bits_allocated, self.signed) {
            (1, _) | (8, false) => DataType::U8,
            (8, true) => DataType::I8,
            (16, false) => DataType::U16,
            (16, true) => DataType::I16,
            (_, false) => DataType::U32,
            (_, true) => DataType::I32,
        }
    }
}

/// Reads a DICOM file's bytes (already un-gzipped) into an [`Image`].
pub fn read_dicom_bytes(bytes: &[u8]) -> Result<Image, ImageError> {
    let obj = open_bytes(bytes)?;
    image_of(&obj)
}

/// Decodes the pixels of a parsed object. Third-party decoders run under
/// `catch_unwind`, so that a codec bug on hostile input is an error, not a crash.
pub fn image_of(obj: &Obj) -> Result<Image, ImageError> {
    let has_pixels = [
        tags::PIXEL_DATA,
        tags::FLOAT_PIXEL_DATA,
        tags::DOUBLE_FLOAT_PIXEL_DATA,
    ]
    .iter()
    .any(|t| find(obj, *t).is_some());
    if !has_pixels {
        let sop = text(obj, tags::SOP_CLASS_UID).unwrap_or_default();
        let sop_name = sop_kind(&sop);
        let modality = text(obj, tags::MODALITY).unwrap_or_else(|| "?".into());
        return Err(ImageError::NoPixelData {
            path: std::path::PathBuf::new(),
            what: format!("{sop_name}, modality {modality}"),
        });
    }
    if find(obj, tags::PIXEL_DATA).is_none() {
        return Err(ImageError::Unsupported(
            "float/double float pixel data (parametric maps)".into(),
        ));
    }
    let p = Props::of(obj)?;
    // Every later buffer size is a product of these fields; once this
    // product is within the budget none of them can overflow.
    budget::bytes_for(
        format!(
            "{} frame(s) of {}x{}x{} {} pixels",
            p.frames,
            p.rows,
            p.cols,
            p.spp,
            p.dtype().name()
        ),
        &[p.rows, p.cols, p.spp, p.frames].map(|d| d as u64),
        p.dtype().size() as u64,
    )?;
    let ts = obj
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_string();
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| samples(obj, &p, &ts)))
        .map_err(|_| bad(format!("the pixel decoder for {ts} panicked on this file")))??;
    let (data, photometric) = decoded;
    build(obj, &p, &ts, data, photometric)
}

/// A readable name for the common non-image SOP classes.
fn sop_kind(uid: &str) -> String {
    let kind = if uid.starts_with("1.2.840.10008.5.1.4.1.1.88.") {
        "structured report"
    } else if uid.starts_with("1.2.840.10008.5.1.4.1.1.9.") {
        "waveform"
    } else if uid.starts_with("1.2.840.10008.5.1.4.1.1.481.") {
        "radiotherapy object (RT plan, structure set, dose record, ...)"
    } else if uid == "1.2.840.10008.5.1.4.1.1.104.1" {
        "encapsulated PDF"
    } else if uid.starts_with("1.2.840.10008.5.1.4.1.1.11.") {
        "presentation state"
    } else if uid == "1.2.840.10008.5.1.4.1.1.91.1" {
        "microscopy bulk simple annotations"
    } else if uid == "1.2.840.10008.1.3.10" {
        "DICOMDIR"
    } else {
        "non-image object"
    };
    if uid.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}, SOP class {uid}")
    }
}

/// Raw samples of all frames (interleaved, `frames * rows * cols * spp`) and
/// the photometric interpretation they are now in.
fn samples(obj: &Obj, p: &Props, ts: &str) -> Result<(ImageData, String), ImageError> {
    let elem = find(obj, tags::PIXEL_DATA).ok_or_else(|| bad("no PixelData"))?;
    let n = p.samples_per_frame() * p.frames;
    match elem.value() {
        DicomValue::Primitive(v) => {
            let raw: Cow<[u8]> = v.to_bytes();
            let data = if p.bits_allocated == 1 {
                unpack_bits(&raw, n)?
            } else {
                // dicom-rs has already swapped OW words of big-endian files
                // into native order; OB and 8-bit data never need swapping.
                let want = n * p.dtype().size();
                let bytes = raw.get(..want).ok_or_else(|| {
                    bad(format!(
                        "PixelData holds {} bytes, {} frames of {}x{}x{} need {want}",
                        raw.len(),
                        p.frames,
                        p.rows,
                        p.cols,
                        p.spp
                    ))
                })?;
                let be_bytes = ts == EXPLICIT_BE && matches!(v, dicom_core::PrimitiveValue::U8(_));
                let endian = if be_bytes || cfg!(target_endian = "big") {
                    Endian::Big
                } else {
                    Endian::Little
                };
                decode_samples(bytes, p.dtype(), endian)?
            };
            let data = if p.planar && p.spp > 1 {
                planar_to_interleaved(data, p)?
            } else {
                data
            };
            Ok((data, p.photometric.clone()))
        }
        DicomValue::PixelSequence(seq) => {
            if JPEG_LS.contains(&ts) {
                let frames = split_frames(seq.fragments(), seq.offset_table(), p.frames)?;
                return Ok((decode_jpegls_frames(&frames, p)?, jls_photometric(p)));
            }
            if ts == RLE && p.bits_allocated >= 8 {
                let frames = split_frames(seq.fragments(), seq.offset_table(), p.frames)?;
                let bpp = p.dtype().size();
                let total = budget::bytes_for(
                    format!("{} decoded RLE frame(s)", frames.len()),
                    &[n as u64, bpp as u64],
                    1,
                )?;
                let mut all = Vec::new();
                for (i, f) in frames.iter().enumerate() {
                    let px = super::rle::decode_frame(f, p.rows, p.cols, p.spp, bpp)
                        .map_err(|e| bad(format!("frame {i}: {e}")))?;
                    grow_within(&mut all, px.len(), total);
                    all.extend_from_slice(&px);
                }
                let data = decode_samples(&all, p.dtype(), Endian::Little)?;
                // RLE keeps planes apart; the decoder interleaves, so the
                // PlanarConfiguration attribute does not apply here.
                return Ok((data, p.photometric.clone()));
            }
            if ts == JPEG[1] && p.bits_allocated == 16 {
                // 12-bit JPEG Extended: jpeg-decoder has no 12-bit DCT path.
                let frames = split_frames(seq.fragments(), seq.offset_table(), p.frames)?;
                return Ok((decode_jpeg12_frames(&frames, p)?, p.photometric.clone()));
            }
            if JPEG.contains(&ts) && p.spp == 3 && p.photometric == "RGB" {
                let frames = split_frames(seq.fragments(), seq.offset_table(), p.frames)?;
                if frames.first().is_some_and(|f| !jpeg_says_ycbcr(f)) {
                    return Ok((decode_jpeg_rgb_frames(&frames, p)?, "RGB".into()));
                }
            }
            if JPEG_2000.contains(&ts) {
                for (i, f) in seq.fragments().iter().enumerate() {
                    check_j2k_frame(f, p).map_err(|e| bad(format!("fragment {i}: {e}")))?;
                }
            }
            // dicom-rs sizes its output from the header: refuse ratios no
            // real codec reaches before it allocates.
            let coded: usize = seq.fragments().iter().map(|f| f.len()).sum();
            let want = (n * p.dtype().size()) as u64;
            if want > (64u64 << 20).max(coded as u64 * 4096) {
                return Err(bad(format!(
                    "{want} decoded bytes cannot come from {coded} compressed bytes"
                )));
            }
            let px = obj.decode_pixel_data().map_err(|e| {
                let msg = e.to_string();
                if msg.contains("Unsupported") || msg.contains("unsupported") {
                    ImageError::Unsupported(format!("transfer syntax {ts}: {msg}"))
                } else {
                    bad(format!("decoding {ts}: {msg}"))
                }
            })?;
            let want = n * p.dtype().size();
            let raw = px.data().get(..want).ok_or_else(|| {
                bad(format!(
                    "decoder gave {} bytes, {want} expected",
                    px.data().len()
                ))
            })?;
            let endian = if cfg!(target_endian = "big") {
                Endian::Big
            } else {
                Endian::Little
            };
            let pi = px.photometric_interpretation().as_str().to_string();
            Ok((decode_samples(raw, p.dtype(), endian)?, pi))
        }
        DicomValue::Sequence(_) => Err(bad("PixelData is a sequence")),
    }
}

/// Whether a JPEG stream declares YCbCr itself (a JFIF APP0, or an Adobe
/// APP14 with a non-zero transform). Without such a
/// marker, DICOM's PhotometricInterpretation RGB means the samples are RGB,
/// which jpeg-decoder would otherwise guess to be YCbCr.
fn jpeg_says_ycbcr(data: &[u8]) -> bool {
    let mut i = 2;
    while let Some(&[ff, marker, hi, lo]) = data.get(i..i + 4) {
        if ff != 0xFF {
            return false;
        }
        if marker == 0xDA || marker == 0xD9 {
            return false;
        }
        let len = u16::from_be_bytes([hi, lo]) as usize;
        let body = data.get(i + 4..i + 2 + len).unwrap_or(&[]);
        if marker == 0xE0 && body.starts_with(b"JFIF\0") {
            return true;
        }
        if marker == 0xEE && body.starts_with(b"Adobe") && body.get(11).is_some_and(|&t| t != 0) {
            return true;
        }
        i += 2 + len;
    }
    false
}

fn decode_jpeg_rgb_frames(frames: &[Vec<u8>], p: &Props) -> Result<ImageData, ImageError> {
    if p.bits_allocated != 8 {
        return Err(ImageError::Unsupported(
            "RGB JPEG with more than 8 bits".into(),
        ));
    }
    let per = p.samples_per_frame();
    let total = budget::bytes_for(
        format!("{} decoded JPEG frame(s)", frames.len()),
        &[per as u64, frames.len() as u64],
        1,
    )?;
    let mut all = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let mut d = jpeg_decoder::Decoder::new(f.as_slice());
        d.set_color_transform(jpeg_decoder::ColorTransform::RGB);
        d.set_max_decoding_buffer_size(per.saturating_mul(4));
        d.read_info()
            .map_err(|e| bad(format!("JPEG frame {i}: {e}")))?;
        // The decoder sizes its buffers from the JPEG header: compare that
        // with the declared frame before it allocates them.
        if let Some(info) = d.info() {
            if usize::from(info.width) != p.cols
                || usize::from(info.height) != p.rows
                || info.pixel_format != jpeg_decoder::PixelFormat::RGB24
            {
                return Err(bad(format!(
                    "JPEG frame {i} is {}x{} {:?}, the header says {}x{} RGB",
                    info.width, info.height, info.pixel_format, p.cols, p.rows
                )));
            }
        }
        let px = d
            .decode()
            .map_err(|e| bad(format!("JPEG frame {i}: {e}")))?;
        if px.len() != per {
            return Err(bad(format!(
                "JPEG frame {i} decoded to {} samples, {per} expected",
                px.len()
            )));
        }
        grow_within(&mut all, per, total);
        all.extend_from_slice(&px);
    }
    let n = all.len();
    Ok(ImageData::U8(
        ArrayD::from_shape_vec(IxDyn(&[n]), all).map_err(|e| bad(e.to_string()))?,
    ))
}

fn decode_jpeg12_frames(frames: &[Vec<u8>], p: &Props) -> Result<ImageData, ImageError> {
    let per = p.samples_per_frame();
    let total = budget::bytes_for(
        format!("{} decoded 12-bit JPEG frame(s)", frames.len()),
        &[per as u64, frames.len() as u64],
        2,
    )? / 2;
    let mut all: Vec<u16> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let img = super::jpeg12::decode(f, per).map_err(|e| bad(format!("JPEG frame {i}: {e}")))?;
        if img.width != p.cols
            || img.height != p.rows
            || img.components != p.spp
            || img.precision as u16 > p.bits_allocated
        {
            return Err(bad(format!(
                "JPEG frame {i} is {}x{}x{}, the header says {}x{}x{}",
                img.width, img.height, img.components, p.cols, p.rows, p.spp
            )));
        }
        grow_within(&mut all, img.samples.len(), total);
        all.extend_from_slice(&img.samples);
    }
    stored_u16_as(all, p.dtype(), "12-bit JPEG")
}

/// Stored bit patterns, reinterpreted in the declared type (signed data is
/// coded as its two's complement bit pattern in BitsStored bits), converted
/// sample by sample rather than through a widened copy of the whole image.
fn stored_u16_as(all: Vec<u16>, dtype: DataType, codec: &str) -> Result<ImageData, ImageError> {
    let shape = IxDyn(&[all.len()]);
    let mk = |e: ndarray::ShapeError| bad(e.to_string());
    Ok(match dtype {
        DataType::U16 => ImageData::U16(ArrayD::from_shape_vec(shape, all).map_err(mk)?),
        DataType::I16 => ImageData::I16(
            ArrayD::from_shape_vec(shape, all.into_iter().map(|v| v as i16).collect())
                .map_err(mk)?,
        ),
        // More than 8 coded bits in an 8-bit sample: saturate.
        DataType::U8 => ImageData::U8(
            ArrayD::from_shape_vec(shape, all.into_iter().map(|v| v.min(255) as u8).collect())
                .map_err(mk)?,
        ),
        DataType::I8 => ImageData::I8(
            ArrayD::from_shape_vec(shape, all.into_iter().map(|v| v as u8 as i8).collect())
                .map_err(mk)?,
        ),
        other => {
            return Err(ImageError::Unsupported(format!(
                "{codec} into {}",
                other.name()
            )))
        }
    })
}

fn jls_photometric(p: &Props) -> String {
    // JPEG-LS has no colour transform of its own in DICOM: samples come out
    // in the declared colour space.
    p.photometric.clone()
}

/// Compares a JPEG 2000 codestream's image and components (its SIZ marker
/// segment) with the frame the header declares. dicom-rs's JPEG 2000
/// adapter copies the decoded image into a buffer sized from the header and
/// panics when the codestream is larger; this refuses such a frame first.
/// Fragments that do not start a codestream (continuations, JP2 boxes
/// before it) are left alone.
fn check_j2k_frame(fragment: &[u8], p: &Props) -> Result<(), String> {
    let head = &fragment[..fragment.len().min(4096)];
    let Some(at) = head.windows(4).position(|w| w == [0xFF, 0x4F, 0xFF, 0x51]) else {
        return Ok(());
    };
    let siz = fragment.get(at + 4..).unwrap_or_default();
    let be32 = |o: usize| {
        siz.get(o..o + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let be16 = |o: usize| siz.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    // Lsiz(2) Rsiz(2) Xsiz Ysiz XOsiz YOsiz (4 each) ... Csiz at 36, then
    // Ssiz/XRsiz/YRsiz per component.
    let (Some(x), Some(y), Some(x0), Some(y0), Some(c)) =
        (be32(4), be32(8), be32(12), be32(16), be16(36))
    else {
        return Err("JPEG 2000 codestream ends inside its SIZ segment".into());
    };
    let (w, h) = (x.saturating_sub(x0) as usize, y.saturating_sub(y0) as usize);
    let bits = (0..usize::from(c))
        .filter_map(|k| siz.get(38 + 3 * k).map(|s| usize::from(s & 0x7F) + 1))
        .max()
        .unwrap_or(0);
    if (w, h, usize::from(c)) != (p.cols, p.rows, p.spp) || bits > usize::from(p.bits_allocated) {
        return Err(format!(
            "JPEG 2000 frame of {w}x{h} pixels, {c} components of up to {bits} bits, but the \
             header declares {}x{}, {} samples of {} bits",
            p.cols, p.rows, p.spp, p.bits_allocated
        ));
    }
    Ok(())
}

/// Groups encapsulated fragments into frames: one fragment per frame when
/// the counts agree, else by the basic offset table, else by JPEG SOI
/// markers, else (one frame) everything concatenated.
pub fn split_frames(
    fragments: &[Vec<u8>],
    bot: &[u32],
    frames: usize,
) -> Result<Vec<Vec<u8>>, ImageError> {
    if fragments.is_empty() {
        return Err(bad("encapsulated PixelData has no fragments"));
    }
    if fragments.len() == frames {
        return Ok(fragments.to_vec());
    }
    if frames == 1 {
        return Ok(vec![fragments.concat()]);
    }
    if bot.len() == frames {
        // Offsets count item headers (8 bytes each) plus fragment bytes.
        let mut starts = Vec::with_capacity(fragments.len());
        let mut pos = 0u64;
        for f in fragments {
            starts.push(pos);
            pos += 8 + f.len() as u64;
        }
        // `starts` ascends, so binary search finds each entry's fragments:
        // n log n, where scanning every fragment per entry was quadratic
        // (10^12 steps for a 12 MB file of tiny fragments).
        let mut out = Vec::with_capacity(frames);
        for (i, &off) in bot.iter().enumerate() {
            let end = bot.get(i + 1).map_or(u64::MAX, |&e| u64::from(e));
            let first = starts.partition_point(|&s| s < u64::from(off));
            let last = starts.partition_point(|&s| s < end);
            // A descending entry makes an empty range, so the ranges that
            // pass are disjoint and copying them copies each byte once.
            let parts = fragments
                .get(first..last)
                .filter(|parts| !parts.is_empty())
                .ok_or_else(|| {
                    bad(format!(
                        "basic offset table entry {i} points to no fragment"
                    ))
                })?;
            out.push(parts.concat());
        }
        return Ok(out);
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    for f in fragments {
        if f.starts_with(&[0xFF, 0xD8]) || out.is_empty() {
            out.push(f.clone());
        } else if let Some(last) = out.last_mut() {
            last.extend_from_slice(f);
        }
    }
    if out.len() != frames {
        return Err(bad(format!(
            "{} fragments, {frames} frames, and no usable offset table",
            fragments.len()
        )));
    }
    Ok(out)
}

fn decode_jpegls_frames(frames: &[Vec<u8>], p: &Props) -> Result<ImageData, ImageError> {
    let per = p.samples_per_frame();
    let total = budget::bytes_for(
        format!("{} decoded JPEG-LS frame(s)", frames.len()),
        &[per as u64, frames.len() as u64],
        2,
    )? / 2;
    let mut all: Vec<u16> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let codec_err = |e: CodecError| match e {
            CodecError::Budget(b) => ImageError::Budget(b),
            e => bad(format!("JPEG-LS frame {i}: {e}")),
        };
        // The codestream sizes the decoder's buffers from its own header:
        // compare that with the declared frame before anything is allocated.
        let h = exahealth_codec::read_jpegls_header(f).map_err(codec_err)?;
        if h.width as usize != p.cols
            || h.height as usize != p.rows
            || h.components as usize != p.spp
        {
            return Err(bad(format!(
                "JPEG-LS frame {i} is {}x{}x{}, the header says {}x{}x{}",
                h.width, h.height, h.components, p.cols, p.rows, p.spp
            )));
        }
        let img = exahealth_codec::decode_jpegls(f).map_err(codec_err)?;
        if img.samples.len() != per {
            return Err(bad(format!(
                "JPEG-LS frame {i} has {} samples, {per} expected",
                img.samples.len()
            )));
        }
        grow_within(&mut all, per, total);
        match img.samples {
            JlsSamples::U8(v) => all.extend(v.into_iter().map(u16::from)),
            JlsSamples::U16(v) => all.extend(v),
        }
    }
    stored_u16_as(all, p.dtype(), "JPEG-LS")
}

fn unpack_bits(raw: &[u8], n: usize) -> Result<ImageData, ImageError> {
    if raw.len().saturating_mul(8) < n {
        return Err(bad(format!(
            "1-bit PixelData holds {} bits, {n} needed",
            raw.len().saturating_mul(8)
        )));
    }
    let v: Vec<u8> = raw
        .iter()
        .flat_map(|&b| (0..8).map(move |k| (b >> k) & 1))
        .take(n)
        .collect();
    Ok(ImageData::U8(
        ArrayD::from_shape_vec(IxDyn(&[n]), v).map_err(|e| bad(e.to_string()))?,
    ))
}

fn planar_to_interleaved(data: ImageData, p: &Props) -> Result<ImageData, ImageError> {
    let (px, spp) = (p.rows * p.cols, p.spp);
    let frame = px * spp;
    if data.shape() != [frame * p.frames] {
        return Err(bad(format!(
            "planar PixelData holds {:?} samples, {} frames of {frame} expected",
            data.shape(),
            p.frames
        )));
    }
    macro_rules! go {
        ($v:ident, $a:expr) => {{
            let src = $a.into_raw_vec_and_offset().0;
            let mut dst = Vec::with_capacity(src.len());
            for planes in src.chunks_exact(frame) {
                for i in 0..px {
                    dst.extend(planes.iter().skip(i).step_by(px).copied());
                }
            }
            ImageData::$v(ndarray::Array1::from(dst).into_dyn())
        }};
    }
    Ok(match data {
        ImageData::U8(a) => go!(U8, a),
        ImageData::I8(a) => go!(I8, a),
        ImageData::U16(a) => go!(U16, a),
        ImageData::I16(a) => go!(I16, a),
        ImageData::U32(a) => go!(U32, a),
        ImageData::I32(a) => go!(I32, a),
        ImageData::F32(a) => go!(F32, a),
        ImageData::F64(a) => go!(F64, a),
    })
}

/// Sign-extends signed samples whose BitsStored is below BitsAllocated
/// (the unused high bits may hold anything), as pydicom does.
fn sign_extend(data: ImageData, bits: u16) -> ImageData {
    fn ext(v: i64, bits: u16) -> i64 {
        let shift = 64 - bits as u32;
        (v << shift) >> shift
    }
    match data {
        ImageData::I8(a) if bits < 8 => ImageData::I8(a.mapv(|v| ext(v as i64, bits) as i8)),
        ImageData::I16(a) if bits < 16 => ImageData::I16(a.mapv(|v| ext(v as i64, bits) as i16)),
        ImageData::I32(a) if bits < 32 => ImageData::I32(a.mapv(|v| ext(v as i64, bits) as i32)),
        d => d,
    }
}

/// Full-range YCbCr to RGB as pydicom's `convert_color_space` does it.
fn ybr_full_to_rgb(data: ImageData) -> ImageData {
    match data {
        ImageData::U8(a) => {
            let mut v = a.into_raw_vec_and_offset().0;
            for px in v.chunks_exact_mut(3) {
                let y = px[0] as f32;
                let cb = px[1] as f32 - 128.0;
                let cr = px[2] as f32 - 128.0;
                let r = y + 1.402 * cr;
                let g = y - (0.114 * 1.772 / 0.587) * cb - (0.299 * 1.402 / 0.587) * cr;
                let b = y + 1.772 * cb;
                px[0] = r.round().clamp(0.0, 255.0) as u8;
                px[1] = g.round().clamp(0.0, 255.0) as u8;
                px[2] = b.round().clamp(0.0, 255.0) as u8;
            }
            ImageData::U8(ndarray::Array1::from(v).into_dyn())
        }
        d => d,
    }
}

fn build(
    obj: &Obj,
    p: &Props,
    ts: &str,
    data: ImageData,
    mut photometric: String,
) -> Result<Image, ImageError> {
    let mut data = if p.signed {
        sign_extend(data, p.bits_stored)
    } else {
        data
    };
    let mut color = match p.spp {
        1 => ColorType::Gray,
        3 => ColorType::Rgb,
        4 => ColorType::Rgba,
        _ => ColorType::None,
    };
    if p.spp == 3 && photometric == "YBR_FULL" {
        data = ybr_full_to_rgb(data);
        photometric = "RGB".into();
    } else if p.spp == 3 && photometric.starts_with("YBR") && photometric != "YBR_FULL_422" {
        // YBR_ICT / YBR_RCT: the JPEG 2000 decoder has undone the transform.
        photometric = "RGB".into();
    } else if p.spp == 3 && photometric == "YBR_FULL_422" {
        return Err(ImageError::Unsupported(
            "native (uncompressed) YBR_FULL_422 pixel data".into(),
        ));
    }
    if p.spp == 3 && photometric != "RGB" {
        color = ColorType::None;
    }
    let (shape, layout): (Vec<usize>, &str) = match (p.frames, p.spp) {
        (1, 1) => (vec![p.rows, p.cols], "xy"),
        (1, _) => (vec![p.rows, p.cols, p.spp], "cxy"),
        (f, 1) => (vec![f, p.rows, p.cols], "xyz"),
        (f, s) => (vec![f, p.rows, p.cols, s], "cxyz"),
    };
    let data = reshape(data, &shape)?;
    let mut img = Image::new(data, layout, color)?;
    let ps = floats_fg(obj, tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING)
        .or_else(|| floats(obj, tags::IMAGER_PIXEL_SPACING));
    if let Some(ps) = ps
        .as_ref()
        .filter(|v| v.len() >= 2 && v[0] > 0.0 && v[1] > 0.0)
    {
        img.set_spacing(crate::Axis::Y, ps[0]);
        img.set_spacing(crate::Axis::X, ps[1]);
    }
    let dz = floats_fg(
        obj,
        tags::PIXEL_MEASURES_SEQUENCE,
        tags::SPACING_BETWEEN_SLICES,
    )
    .or_else(|| floats_fg(obj, tags::PIXEL_MEASURES_SEQUENCE, tags::SLICE_THICKNESS));
    if let Some(dz) = dz.and_then(|v| v.first().copied()).filter(|v| *v > 0.0) {
        img.set_spacing(crate::Axis::Z, dz);
    }
    let ts_name = TransferSyntaxRegistry
        .get(ts)
        .map(|t| t.name().to_string())
        .unwrap_or_else(|| "unknown".into());
    let m = &mut img.meta;
    m.insert("format".into(), "dicom".into());
    m.insert("dicom.transfer_syntax".into(), ts.to_string());
    m.insert("dicom.transfer_syntax_name".into(), ts_name);
    m.insert("dicom.rows".into(), p.rows.to_string());
    m.insert("dicom.columns".into(), p.cols.to_string());
    m.insert("dicom.number_of_frames".into(), p.frames.to_string());
    m.insert("dicom.samples_per_pixel".into(), p.spp.to_string());
    m.insert("dicom.bits_allocated".into(), p.bits_allocated.to_string());
    m.insert("dicom.bits_stored".into(), p.bits_stored.to_string());
    m.insert(
        "dicom.pixel_representation".into(),
        (p.signed as u8).to_string(),
    );
    m.insert(
        "dicom.photometric_interpretation".into(),
        p.photometric.clone(),
    );
    m.insert("photometric_interpretation".into(), photometric);
    for (key, tag) in [
        ("modality", tags::MODALITY),
        ("dicom.sop_class_uid", tags::SOP_CLASS_UID),
        ("dicom.manufacturer", tags::MANUFACTURER),
        ("dicom.body_part_examined", tags::BODY_PART_EXAMINED),
        ("dicom.rescale_type", tags::RESCALE_TYPE),
    ] {
        if let Some(v) = text(obj, tag) {
            m.insert(key.into(), v);
        }
    }
    let pvt = tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE;
    if let Some(s) = floats_fg(obj, pvt, tags::RESCALE_SLOPE).and_then(|v| v.first().copied()) {
        m.insert("rescale_slope".into(), s.to_string());
    }
    if let Some(i) = floats_fg(obj, pvt, tags::RESCALE_INTERCEPT).and_then(|v| v.first().copied()) {
        m.insert("rescale_intercept".into(), i.to_string());
    }
    let voi = tags::FRAME_VOILUT_SEQUENCE;
    if let (Some(c), Some(w)) = (
        floats_fg(obj, voi, tags::WINDOW_CENTER),
        floats_fg(obj, voi, tags::WINDOW_WIDTH),
    ) {
        m.insert("window_center".into(), c[0].to_string());
        m.insert("window_width".into(), w[0].to_string());
        if c.len() > 1 {
            m.insert("dicom.window_centers".into(), super::nifti::join(c.iter()));
            m.insert("dicom.window_widths".into(), super::nifti::join(w.iter()));
        }
    }
    if let Some(v) = ps {
        m.insert("dicom.pixel_spacing".into(), super::nifti::join(v.iter()));
    }
    let plane = tags::PLANE_POSITION_SEQUENCE;
    let orient = tags::PLANE_ORIENTATION_SEQUENCE;
    if let Some(v) = floats_fg(obj, plane, tags::IMAGE_POSITION_PATIENT) {
        m.insert(
            "dicom.image_position_patient".into(),
            super::nifti::join(v.iter()),
        );
    }
    if let Some(v) = floats_fg(obj, orient, tags::IMAGE_ORIENTATION_PATIENT) {
        m.insert(
            "dicom.image_orientation_patient".into(),
            super::nifti::join(v.iter()),
        );
    }
    if let Some(v) = floats(obj, tags::SLICE_THICKNESS) {
        m.insert("dicom.slice_thickness".into(), v[0].to_string());
    }
    if let Some(aff) = super::patient_space::affine_lps_to_ras(&img, None) {
        img.meta
            .insert("affine".into(), super::nifti::join(aff.iter().flatten()));
    }
    Ok(img)
}
