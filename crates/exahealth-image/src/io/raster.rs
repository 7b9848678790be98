//! PNG, JPEG and TIFF through the `image` crate (only those three codecs
//! compiled in). 2-D only: a volume must be sliced first.

use std::io::Cursor;

use exahealth_base::budget;
use image::{DynamicImage, ImageBuffer, ImageDecoder, ImageFormat};
use ndarray::{ArrayD, IxDyn};

use super::Format;
use crate::{Axis, ColorType, Image, ImageData, ImageError};

fn fmt_of(f: Format) -> ImageFormat {
    match f {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Tiff => ImageFormat::Tiff,
        _ => ImageFormat::Png,
    }
}

fn name(f: Format) -> &'static str {
    match f {
        Format::Jpeg => "JPEG",
        Format::Tiff => "TIFF",
        _ => "PNG",
    }
}

/// Decodes a PNG, JPEG or TIFF (first page) into a `"xy"` or `"cxy"` image.
pub fn read(bytes: &[u8], f: Format) -> Result<Image, ImageError> {
    let fail = |e| match e {
        image::ImageError::Unsupported(u) => ImageError::Unsupported(format!("{}: {u}", name(f))),
        e => ImageError::Malformed {
            format: name(f),
            why: e.to_string(),
        },
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), fmt_of(f));
    // The default limits cap the decoder's allocations at 512 MiB, whatever
    // the header says; a smaller process budget lowers that cap.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(limits.max_alloc.unwrap_or(u64::MAX).min(budget::limit()));
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(fail)?;
    let (w, h) = decoder.dimensions();
    let bytes_per_pixel = decoder.color_type().bytes_per_pixel();
    budget::bytes_for(
        format!("a {w}x{h} {} image", name(f)),
        &[u64::from(w), u64::from(h)],
        u64::from(bytes_per_pixel),
    )?;
    // What `ImageReader::decode` does: count the output buffer against the
    // decoder's allocation limit before decoding.
    limits.reserve(decoder.total_bytes()).map_err(fail)?;
    decoder.set_limits(limits).map_err(fail)?;
    let dynimg = DynamicImage::from_decoder(decoder).map_err(fail)?;
    let (w, h) = (dynimg.width() as usize, dynimg.height() as usize);
    let mk = |c: usize, data: ImageData, color: ColorType| -> Result<Image, ImageError> {
        let layout = if c == 1 { "xy" } else { "cxy" };
        let shape: Vec<usize> = if c == 1 { vec![h, w] } else { vec![h, w, c] };
        let data = super::bytes::reshape(data, &shape)?;
        Image::new(data, layout, color)
    };
    let flat = |n: usize| IxDyn(&[n]);
    let err = |e: ndarray::ShapeError| ImageError::Unsupported(e.to_string());
    let mut img = match dynimg {
        DynamicImage::ImageLuma8(b) => {
            let v = b.into_raw();
            mk(
                1,
                ImageData::U8(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Gray,
            )?
        }
        DynamicImage::ImageLumaA8(b) => {
            let v = b.into_raw();
            mk(
                2,
                ImageData::U8(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::None,
            )?
        }
        DynamicImage::ImageRgb8(b) => {
            let v = b.into_raw();
            mk(
                3,
                ImageData::U8(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Rgb,
            )?
        }
        DynamicImage::ImageRgba8(b) => {
            let v = b.into_raw();
            mk(
                4,
                ImageData::U8(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Rgba,
            )?
        }
        DynamicImage::ImageLuma16(b) => {
            let v = b.into_raw();
            mk(
                1,
                ImageData::U16(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Gray,
            )?
        }
        DynamicImage::ImageLumaA16(b) => {
            let v = b.into_raw();
            mk(
                2,
                ImageData::U16(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::None,
            )?
        }
        DynamicImage::ImageRgb16(b) => {
            let v = b.into_raw();
            mk(
                3,
                ImageData::U16(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Rgb,
            )?
        }
        DynamicImage::ImageRgba16(b) => {
            let v = b.into_raw();
            mk(
                4,
                ImageData::U16(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Rgba,
            )?
        }
        DynamicImage::ImageRgb32F(b) => {
            let v = b.into_raw();
            mk(
                3,
                ImageData::F32(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Rgb,
            )?
        }
        other => {
            let v = other.to_rgba32f().into_raw();
            mk(
                4,
                ImageData::F32(ArrayD::from_shape_vec(flat(v.len()), v).map_err(err)?),
                ColorType::Rgba,
            )?
        }
    };
    img.meta.insert("format".into(), name(f).to_lowercase());
    Ok(img)
}

/// Encodes a 2-D 8-bit (or, for PNG and TIFF, 16-bit) gray/RGB/RGBA image.
pub fn encode(img: &Image, f: Format) -> Result<Vec<u8>, ImageError> {
    for ax in [Axis::Z, Axis::T] {
        if img.len_of(ax) > 1 {
            return Err(ImageError::Unsupported(format!(
                "{} holds one 2-D picture; this image has layout {:?} and dims {:?} (take a slice first)",
                name(f),
                img.layout(),
                img.dims()
            )));
        }
    }
    let c = img.len_of(Axis::C);
    let o = img.to_interleaved()?;
    let (w, h) = (img.len_of(Axis::X) as u32, img.len_of(Axis::Y) as u32);
    let unsupported = || {
        ImageError::Unsupported(format!(
            "{} cannot hold {c}-channel {} samples; convert to 8 bits first (e.g. with windowing)",
            name(f),
            img.dtype().name()
        ))
    };
    let too_small = || ImageError::Unsupported("buffer does not match the image size".into());
    let dynimg = match (o.data(), c) {
        (ImageData::U8(a), 1) => DynamicImage::ImageLuma8(
            ImageBuffer::from_raw(w, h, a.iter().copied().collect()).ok_or_else(too_small)?,
        ),
        (ImageData::U8(a), 2) => DynamicImage::ImageLumaA8(
            ImageBuffer::from_raw(w, h, a.iter().copied().collect()).ok_or_else(too_small)?,
        ),
        (ImageData::U8(a), 3) => DynamicImage::ImageRgb8(
            ImageBuffer::from_raw(w, h, a.iter().copied().collect()).ok_or_else(too_small)?,
        ),
        (ImageData::U8(a), 4) => DynamicImage::ImageRgba8(
            ImageBuffer::from_raw(w, h, a.iter().copied().collect()).ok_or_else(too_small)?,
        ),
        (ImageData::U16(a), 1) if f != Format::Jpeg => DynamicImage::ImageLuma16(
            ImageBuffer::from_raw(w, h, a.iter().copied().collect()).ok_or_else(too_small)?,
        ),
        (ImageData::U16(a), 3) if f != Format::Jpeg => DynamicImage::ImageRgb16(
            ImageBuffer::from_raw(w, h, a.iter().copied().collect()).ok_or_else(too_small)?,
        ),
        (ImageData::U16(a), 4) if f != Format::Jpeg => DynamicImage::ImageRgba16(
            ImageBuffer::from_raw(w, h, a.iter().copied().collect()).ok_or_else(too_small)?,
        ),
        _ => return Err(unsupported()),
    };
    if f == Format::Jpeg && (c == 2 || c == 4) {
        return Err(unsupported());
    }
    let mut out = Cursor::new(Vec::new());
    dynimg
        .write_to(&mut out, fmt_of(f))
        .map_err(|e| ImageError::Unsupported(format!("{} encoder: {e}", name(f))))?;
    Ok(out.into_inner())
}
