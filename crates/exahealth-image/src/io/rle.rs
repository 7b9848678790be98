//! DICOM RLE Lossless (PS3.5 Annex G), our own decoder: dicom-rs's RLE
//! adapter indexes past the end of truncated segments (a panic), and a
//! hospital file must never take the process down.

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
    let word = |i: usize| {
        u32::from_le_bytes([
            header[4 * i],
            header[4 * i + 1],
            header[4 * i + 2],
            header[4 * i + 3],
        ]) as usize
    };
    let nseg = word(0);
    if nseg != spp * bytes_per {
        return Err(format!(
            "RLE frame has {nseg} segments, {spp} x {bytes_per} expected"
        ));
    }
    let px = rows * cols;
    // PackBits expands at most 64-fold (2 bytes -> 128): a header asking
    // for more than that cannot be honest, so allocate nothing for it.
    if px > frame.len().saturating_mul(64) + 128 {
        return Err(format!(
            "{rows}x{cols} pixels cannot come from {} RLE bytes",
            frame.len()
        ));
    }
    let mut out = vec![0u8; px * spp * bytes_per];
    for s in 0..nseg {
        let start = word(s + 1);
        let end = if s + 1 < nseg {
            word(s + 2)
        } else {
            frame.len()
        };
        let seg = frame
            .get(start..end.max(start))
            .ok_or_else(|| format!("RLE segment {s} at {start}..{end} lies outside the frame"))?;
        let plane = unpack(seg, px).map_err(|e| format!("RLE segment {s}: {e}"))?;
        // Segments run sample by sample, most significant byte first.
        let (sample, byte) = (s / bytes_per, bytes_per - 1 - s % bytes_per);
        for (i, &b) in plane.iter().enumerate() {
            out[(i * spp + sample) * bytes_per + byte] = b;
        }
    }
    Ok(out)
}

/// PackBits, stopping once `n` bytes are out (encoders may pad a segment).
fn unpack(seg: &[u8], n: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        let h = *seg
            .get(i)
            .ok_or_else(|| format!("ends after {} of {n} bytes", out.len()))? as i8;
        i += 1;
        if h >= 0 {
            let k = h as usize + 1;
            let lit = seg
                .get(i..i + k)
                .ok_or("literal run past the segment end")?;
            out.extend_from_slice(lit);
            i += k;
        } else if h != -128 {
            let b = *seg.get(i).ok_or("repeat run past the segment end")?;
            out.extend(std::iter::repeat_n(b, (1 - h as isize) as usize));
            i += 1;
        }
    }
    out.truncate(n);
    Ok(out)
}
