//! The pixel buffer every read returns: 8-bit RGBA, row-major, straight alpha.

use crate::error::{Result, SlideError};
use std::path::Path;

/// Pixels as every read returns them: 8-bit RGBA, row-major, straight
/// alpha, transparent (all zero) outside the slide.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbaImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for RgbaImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbaImage({}x{})", self.width, self.height)
    }
}

impl RgbaImage {
    /// A fully transparent image, as OpenSlide returns outside a slide.
    pub fn transparent(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            data: vec![0; width as usize * height as usize * 4],
        }
    }

    /// An image of one colour.
    pub fn filled(width: u32, height: u32, rgba: [u8; 4]) -> Self {
        let mut data = Vec::with_capacity(width as usize * height as usize * 4);
        for _ in 0..width as usize * height as usize {
            data.extend_from_slice(&rgba);
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// The RGBA of pixel (`x`, `y`); panics outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.data[i],
            self.data[i + 1],
            self.data[i + 2],
            self.data[i + 3],
        ]
    }

    /// Copies the overlap of `src` placed with its top-left at (`dx`, `dy`).
    pub fn blit(&mut self, src: &RgbaImage, dx: i64, dy: i64) {
        let x0 = dx.max(0);
        let y0 = dy.max(0);
        let x1 = (dx + i64::from(src.width)).min(i64::from(self.width));
        let y1 = (dy + i64::from(src.height)).min(i64::from(self.height));
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let row_bytes = (x1 - x0) as usize * 4;
        for y in y0..y1 {
            let sy = (y - dy) as usize;
            let sx = (x0 - dx) as usize;
            let s = (sy * src.width as usize + sx) * 4;
            let d = (y as usize * self.width as usize + x0 as usize) * 4;
            self.data[d..d + row_bytes].copy_from_slice(&src.data[s..s + row_bytes]);
        }
    }

    /// Halves both dimensions (rounding up) by averaging 2x2 blocks.
    pub fn half(&self) -> RgbaImage {
        let w = self.width.div_ceil(2).max(1);
        let h = self.height.div_ceil(2).max(1);
        let mut out = RgbaImage::transparent(w, h);
        let sw = self.width as usize;
        for y in 0..h as usize {
            let y0 = (2 * y).min(self.height as usize - 1);
            let y1 = (2 * y + 1).min(self.height as usize - 1);
            for x in 0..w as usize {
                let x0 = (2 * x).min(sw - 1);
                let x1 = (2 * x + 1).min(sw - 1);
                for c in 0..4 {
                    let sum = u32::from(self.data[(y0 * sw + x0) * 4 + c])
                        + u32::from(self.data[(y0 * sw + x1) * 4 + c])
                        + u32::from(self.data[(y1 * sw + x0) * 4 + c])
                        + u32::from(self.data[(y1 * sw + x1) * 4 + c]);
                    out.data[(y * w as usize + x) * 4 + c] = ((sum + 2) / 4) as u8;
                }
            }
        }
        out
    }

    /// Area-averaging resize to exactly `w` x `h`; good for thumbnails.
    pub fn resize_area(&self, w: u32, h: u32) -> RgbaImage {
        let w = w.max(1);
        let h = h.max(1);
        let mut out = RgbaImage::transparent(w, h);
        let sx = f64::from(self.width) / f64::from(w);
        let sy = f64::from(self.height) / f64::from(h);
        let sw = self.width as usize;
        for y in 0..h {
            let ya = (f64::from(y) * sy) as usize;
            let yb = ((f64::from(y + 1) * sy).ceil() as usize).clamp(ya + 1, self.height as usize);
            for x in 0..w {
                let xa = (f64::from(x) * sx) as usize;
                let xb = ((f64::from(x + 1) * sx).ceil() as usize).clamp(xa + 1, sw);
                let mut acc = [0u64; 4];
                for yy in ya..yb {
                    for xx in xa..xb {
                        let i = (yy * sw + xx) * 4;
                        for (a, &v) in acc.iter_mut().zip(&self.data[i..i + 4]) {
                            *a += u64::from(v);
                        }
                    }
                }
                let n = ((yb - ya) * (xb - xa)) as u64;
                let o = (y as usize * w as usize + x as usize) * 4;
                for (d, a) in out.data[o..o + 4].iter_mut().zip(acc) {
                    *d = ((a + n / 2) / n) as u8;
                }
            }
        }
        out
    }

    /// Drops alpha, compositing onto white (how a viewer shows transparency).
    pub fn to_rgb_on_white(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.width as usize * self.height as usize * 3);
        for px in self.data.chunks_exact(4) {
            let a = u32::from(px[3]);
            for &c in &px[..3] {
                out.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
        out
    }

    /// Encodes as PNG (RGBA).
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut buf, self.width, self.height);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Fast);
            let mut w = enc.write_header().map_err(png_err)?;
            w.write_image_data(&self.data).map_err(png_err)?;
        }
        Ok(buf)
    }

    /// Writes a PNG atomically (temporary file, fsync, rename).
    pub fn save_png(&self, path: &Path) -> Result<()> {
        let bytes = self.to_png()?;
        write_atomic(path, &bytes)
    }
}

fn png_err(e: png::EncodingError) -> SlideError {
    SlideError::InvalidArgument(format!("PNG encoding failed: {e}"))
}

/// Writes `bytes` to `path` durably (the workspace's one helper): readers
/// see either the old file or the complete new one, never a torn write.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    exahealth_base::durable::write(path, bytes).map_err(|e| SlideError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
