//! DICOM RLE Lossless (PS3.5 Annex G), our own decoder: dicom-rs's RLE
//! adapter indexes past the end of truncated segments (a panic), and a
//! hospital file must never take the process down.

/// The RLE header is 16 little-endian words: the segment count, then up to
/// 15 segment offsets.
const MAX_SEGMENTS: usize = 15;

/// Decodes one RLE frame into `rows * cols * spp` samples of `bytes_per`
/// bytes each, interleaved, little-endian.
pub fn decode_frame(
    frame: &[u8],
    rows: usize,
    cols: usize,
    spp: usize,
    bytes_per: usize,
) -> Result<Vec<u8>, String> {
    let header = frame
        .get(..64)
        .ok_or("RLE frame shorter than its 64-byte header")?;
    let mut words = [0usize; 16];
    for (w, b) in words.iter_mut().zip(header.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    }
    let [nseg, offsets @ ..] = words;
    if Some(nseg) != spp.checked_mul(bytes_per) {
        return Err(format!(
            "RLE frame has {nseg} segments, {spp} x {bytes_per} expected"
        ));
    }
    if nseg == 0 || nseg > MAX_SEGMENTS {
        return Err(format!(
            "{spp} samples of {bytes_per} bytes need {nseg} RLE segments; the header holds at most {MAX_SEGMENTS}"
        ));
    }
    let px = rows
        .checked_mul(cols)
        .ok_or_else(|| format!("{rows}x{cols} pixels overflow"))?;
    // A two-byte PackBits run yields at most 128 bytes, so a segment shorter
    // than this cannot fill a plane. Checking every segment before the
    // output exists bounds the allocation by the bytes the frame holds.
    let min_segment = px.div_ceil(128) * 2;
    let mut segments = Vec::with_capacity(nseg);
    for s in 0..nseg {
        let start = offsets.get(s).copied().unwrap_or(0);
        let end = match offsets.get(s + 1) {
            Some(&next) if s + 1 < nseg => next,
            _ => frame.len(),
        };
        let seg = frame
            .get(start..end)
            .ok_or_else(|| format!("RLE segment {s} at {start}..{end} lies outside the frame"))?;
        if seg.len() < min_segment {
            return Err(format!(
                "RLE segment {s} has {} bytes, too few for {px} pixels (at least {min_segment})",
                seg.len()
            ));
        }
        segments.push(seg);
    }
    let stride = nseg;
    let mut out = vec![0u8; px * stride];
    for (s, seg) in segments.into_iter().enumerate() {
        // Segments run sample by sample, most significant byte first.
        let (sample, byte) = (s / bytes_per, bytes_per - 1 - s % bytes_per);
        let plane = out
            .iter_mut()
            .skip(sample * bytes_per + byte)
            .step_by(stride);
        unpack(seg, plane, px).map_err(|e| format!("RLE segment {s}: {e}"))?;
    }
    Ok(out)
}

/// PackBits into `dst`, stopping once `n` bytes are out (encoders may pad
/// a segment, and a last run may overshoot the plane).
fn unpack<'a>(
    seg: &[u8],
    mut dst: impl Iterator<Item = &'a mut u8>,
    n: usize,
) -> Result<(), String> {
    let mut written = 0;
    let mut i = 0;
    while written < n {
        let h = *seg
            .get(i)
            .ok_or_else(|| format!("ends after {written} of {n} bytes"))? as i8;
        i += 1;
        if h >= 0 {
            let k = h as usize + 1;
            let lit = seg
                .get(i..i + k)
                .ok_or("literal run past the segment end")?;
            // `lit` leads the zip so that its end does not swallow a
            // destination byte.
            for (&b, d) in lit.iter().zip(dst.by_ref()) {
                *d = b;
                written += 1;
            }
            i += k;
        } else if h != -128 {
            let b = *seg.get(i).ok_or("repeat run past the segment end")?;
            for d in dst.by_ref().take((1 - h as isize) as usize) {
                *d = b;
                written += 1;
            }
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(segments: &[&[u8]]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut at = 64u32;
        for (s, seg) in segments.iter().enumerate() {
            f[4 + 4 * s..8 + 4 * s].copy_from_slice(&at.to_le_bytes());
            at += seg.len() as u32;
        }
        for seg in segments {
            f.extend_from_slice(seg);
        }
        f
    }

    #[test]
    fn literal_and_repeat_runs_interleave_samples_msb_segment_first() {
        // 16-bit, 2 pixels: high bytes by a repeat run, low bytes literally.
        let f = frame(&[&[0xFF, 0x12], &[1, 0x34, 0x56]]);
        let out = decode_frame(&f, 1, 2, 1, 2).unwrap();
        assert_eq!(out, [0x34, 0x12, 0x56, 0x12]);
    }

    #[test]
    fn a_segment_too_short_for_its_plane_is_refused_before_decoding() {
        // 128 pixels fit one 2-byte run; 129 need a second one.
        let f = frame(&[&[0x81, 7]]);
        assert_eq!(decode_frame(&f, 1, 128, 1, 1).unwrap(), vec![7; 128]);
        let e = decode_frame(&f, 1, 129, 1, 1).unwrap_err();
        assert!(e.contains("too few"), "{e}");
    }
}
