//! Sequential DCT JPEG with 12-bit samples (DICOM "JPEG Extended", process
//! 2 and 4, transfer syntax 1.2.840.10008.1.2.4.51), which jpeg-decoder and
//! zune-jpeg do not decode. Huffman coding, one scan, gray or 3 components
//! without subsampling; 8-bit streams decode too. Every length and index is
//! checked against the input: bad data is an `Err`, never a panic.

const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// A decoded frame: `width * height * components` samples, interleaved.
#[derive(Debug)]
pub struct Jpeg12 {
    pub width: usize,
    pub height: usize,
    pub components: usize,
    /// Sample precision P (8 or 12).
    pub precision: u8,
    pub samples: Vec<u16>,
}

#[derive(Clone, Default)]
struct Huffman {
    /// (length, code) -> symbol, by the canonical code construction of Annex C.
    maxcode: [i32; 18],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: Vec<u8>) -> Result<Huffman, String> {
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total != values.len() || total > 256 {
            return Err("Huffman table size mismatch".into());
        }
        let mut h = Huffman {
            maxcode: [-1; 18],
            valptr: [0; 17],
            mincode: [0; 17],
            values,
        };
        let mut code = 0i32;
        let mut k = 0i32;
        for l in 1..=16 {
            let n = counts[l - 1] as i32;
            if n > 0 {
                h.valptr[l] = k;
                h.mincode[l] = code;
                code += n;
                k += n;
                h.maxcode[l] = code - 1;
            }
            code <<= 1;
        }
        h.maxcode[17] = i32::MAX;
        Ok(h)
    }
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u32,
    n: u32,
    /// A marker was reached: feed zeros from here on.
    marker: bool,
}

impl Bits<'_> {
    fn fill(&mut self) {
        while self.n <= 24 {
            let mut byte = 0u8;
            if let Some(&next) = self.data.get(self.pos).filter(|_| !self.marker) {
                byte = next;
                if byte == 0xFF {
                    match self.data.get(self.pos + 1) {
                        Some(0) => self.pos += 2,
                        _ => {
                            self.marker = true;
                            byte = 0;
                        }
                    }
                } else {
                    self.pos += 1;
                }
            }
            self.acc |= (byte as u32) << (24 - self.n);
            self.n += 8;
        }
    }

    fn bit(&mut self) -> i32 {
        self.fill();
        let b = (self.acc >> 31) as i32;
        self.acc <<= 1;
        self.n -= 1;
        b
    }

    fn receive(&mut self, s: u32) -> i32 {
        if s == 0 {
            return 0;
        }
        self.fill();
        let v = (self.acc >> (32 - s)) as i32;
        self.acc <<= s;
        self.n -= s;
        v
    }

    fn decode(&mut self, h: &Huffman) -> Result<u8, String> {
        let mut code = self.bit();
        for l in 1..=16 {
            if code <= h.maxcode[l] {
                let idx = (h.valptr[l] + code - h.mincode[l]) as usize;
                return h
                    .values
                    .get(idx)
                    .copied()
                    .ok_or_else(|| "bad Huffman code".to_string());
            }
            code = (code << 1) | self.bit();
        }
        Err("Huffman code longer than 16 bits".into())
    }

    /// Skips to after the next RSTn marker.
    fn restart(&mut self) -> Result<(), String> {
        self.acc = 0;
        self.n = 0;
        self.marker = false;
        let found = self
            .data
            .get(self.pos..)
            .and_then(|rest| {
                rest.windows(2)
                    .position(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1]))
            })
            .ok_or("missing restart marker")?;
        self.pos += found + 2;
        Ok(())
    }
}

fn extend(v: i32, s: u32) -> i32 {
    if s == 0 {
        0
    } else if v < (1 << (s - 1)) {
        v - (1 << s) + 1
    } else {
        v
    }
}

struct Comp {
    id: u8,
    h: u8,
    v: u8,
    tq: usize,
}

fn be16(d: &[u8], i: usize) -> Result<usize, String> {
    d.get(i..i + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        .ok_or_else(|| "truncated marker segment".to_string())
}

/// Decodes one JPEG frame (SOF0 or SOF1, Huffman, sequential).
pub fn decode(data: &[u8], max_samples: usize) -> Result<Jpeg12, String> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err("no SOI marker".into());
    }
    let mut qt = [[0u16; 64]; 4];
    let mut dc: [Huffman; 4] = Default::default();
    let mut ac: [Huffman; 4] = Default::default();
    let mut comps: Vec<Comp> = Vec::new();
    let (mut width, mut height, mut precision) = (0usize, 0usize, 8u8);
    let mut restart = 0usize;
    let mut i = 2;
    loop {
        while data.get(i) == Some(&0xFF) && data.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if data.get(i) != Some(&0xFF) {
            return Err(format!("expected a marker at byte {i}"));
        }
        let marker = *data.get(i + 1).ok_or("truncated")?;
        i += 2;
        if marker == 0xD9 {
            return Err("EOI before any scan".into());
        }
        let len = be16(data, i)?;
        if len < 2 {
            return Err("bad segment length".into());
        }
        let seg = data.get(i + 2..i + len).ok_or("truncated marker segment")?;
        match marker {
            0xDB => {
                let mut p = 0;
                while let Some(&pqtq) = seg.get(p) {
                    let (pq, tq) = (pqtq >> 4, (pqtq & 15) as usize);
                    p += 1;
                    let table = qt.get_mut(tq).ok_or("quantisation table id > 3")?;
                    for (k, &z) in ZIGZAG.iter().enumerate() {
                        let q = if pq == 0 {
                            *seg.get(p + k).ok_or("truncated DQT")? as u16
                        } else {
                            be16(seg, p + 2 * k)? as u16
                        };
                        if let Some(slot) = table.get_mut(z) {
                            *slot = q;
                        }
                    }
                    p += if pq == 0 { 64 } else { 128 };
                }
            }
            0xC4 => {
                let mut p = 0;
                while let Some(&tcth) = seg.get(p) {
                    let (tc, th) = (tcth >> 4, (tcth & 15) as usize);
                    let counts: [u8; 16] = seg
                        .get(p + 1..p + 17)
                        .and_then(|s| s.try_into().ok())
                        .ok_or("truncated DHT")?;
                    let n: usize = counts.iter().map(|&c| c as usize).sum();
                    let values = seg.get(p + 17..p + 17 + n).ok_or("truncated DHT")?.to_vec();
                    let slot = if tc == 0 {
                        dc.get_mut(th)
                    } else {
                        ac.get_mut(th)
                    };
                    *slot.ok_or("Huffman table id > 3")? = Huffman::new(&counts, values)?;
                    p += 17 + n;
                }
            }
            0xC0 | 0xC1 => {
                precision = *seg.first().ok_or("truncated SOF")?;
                if precision != 8 && precision != 12 {
                    return Err(format!("{precision}-bit DCT precision"));
                }
                height = be16(seg, 1)?;
                width = be16(seg, 3)?;
                let nf = *seg.get(5).ok_or("truncated SOF")? as usize;
                if width == 0 || height == 0 || !(nf == 1 || nf == 3) {
                    return Err(format!("frame {width}x{height} with {nf} components"));
                }
                // A block costs at least 2 bits of entropy-coded data.
                if width * height * nf > max_samples
                    || width * height > data.len().saturating_mul(256) + 4096
                {
                    return Err("frame larger than the DICOM header allows".into());
                }
                for c in 0..nf {
                    let Some(&[id, hv, tq]) = seg.get(6 + 3 * c..9 + 3 * c) else {
                        return Err("truncated SOF".into());
                    };
                    comps.push(Comp {
                        id,
                        h: hv >> 4,
                        v: hv & 15,
                        tq: (tq & 3) as usize,
                    });
                }
                if nf > 1 && comps.iter().any(|c| c.h != 1 || c.v != 1) {
                    return Err("subsampled components".into());
                }
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(format!(
                    "JPEG process SOF{} is not sequential Huffman",
                    marker - 0xC0
                ));
            }
            0xDD => restart = be16(seg, 0)?,
            0xDA => {
                let ns = *seg.first().ok_or("truncated SOS")? as usize;
                if comps.is_empty() || ns != comps.len() {
                    return Err("scan does not cover every component (multi-scan JPEG)".into());
                }
                let mut tables = Vec::with_capacity(ns);
                for k in 0..ns {
                    let Some(&[id, tdta]) = seg.get(1 + 2 * k..3 + 2 * k) else {
                        return Err("truncated SOS".into());
                    };
                    let ci = comps
                        .iter()
                        .position(|c| c.id == id)
                        .ok_or("unknown scan component")?;
                    tables.push((ci, (tdta >> 4) as usize & 3, (tdta & 15) as usize & 3));
                }
                let entropy_coded = data.get(i + len..).unwrap_or_default();
                return scan(
                    entropy_coded,
                    &comps,
                    &tables,
                    &qt,
                    &dc,
                    &ac,
                    width,
                    height,
                    precision,
                    restart,
                );
            }
            _ => {}
        }
        i += len;
    }
}

#[allow(clippy::too_many_arguments)]
fn scan(
    data: &[u8],
    comps: &[Comp],
    tables: &[(usize, usize, usize)],
    qt: &[[u16; 64]; 4],
    dc: &[Huffman; 4],
    ac: &[Huffman; 4],
    width: usize,
    height: usize,
    precision: u8,
    restart: usize,
) -> Result<Jpeg12, String> {
    let nc = comps.len();
    let (bw, bh) = (width.div_ceil(8), height.div_ceil(8));
    let mut out = vec![0u16; width * height * nc];
    let mut bits = Bits {
        data,
        pos: 0,
        acc: 0,
        n: 0,
        marker: false,
    };
    let mut pred = vec![0i32; nc];
    let idct = Idct::new();
    let max = (1i32 << precision) - 1;
    let shift = 1i32 << (precision - 1);
    let mut coef = [0i32; 64];
    let mut mcu = 0usize;
    for by in 0..bh {
        for bx in 0..bw {
            if restart > 0 && mcu > 0 && mcu % restart == 0 {
                bits.restart()?;
                pred.iter_mut().for_each(|p| *p = 0);
            }
            mcu += 1;
            for &(ci, td, ta) in tables {
                coef.iter_mut().for_each(|c| *c = 0);
                let s = bits.decode(&dc[td])? as u32;
                if s > 16 {
                    return Err("bad DC size".into());
                }
                // Saturating: corrupt data may sum DC differences past i32,
                // which a conforming stream never does.
                pred[ci] = pred[ci].saturating_add(extend(bits.receive(s), s));
                coef[0] = pred[ci].saturating_mul(qt[comps[ci].tq][0] as i32);
                let mut k = 1;
                while k < 64 {
                    let rs = bits.decode(&ac[ta])?;
                    let (r, s) = ((rs >> 4) as usize, (rs & 15) as u32);
                    if s == 0 {
                        if r != 15 {
                            break;
                        }
                        k += 16;
                        continue;
                    }
                    k += r;
                    if k > 63 {
                        return Err("AC coefficient index past 63".into());
                    }
                    let z = ZIGZAG[k];
                    coef[z] = extend(bits.receive(s), s).saturating_mul(qt[comps[ci].tq][z] as i32);
                    k += 1;
                }
                let block = idct.run(&coef);
                for y in 0..8 {
                    let py = by * 8 + y;
                    if py >= height {
                        break;
                    }
                    for x in 0..8 {
                        let px = bx * 8 + x;
                        if px >= width {
                            break;
                        }
                        let v = (block[y * 8 + x].round() as i32)
                            .saturating_add(shift)
                            .clamp(0, max);
                        out[(py * width + px) * nc + ci] = v as u16;
                    }
                }
            }
        }
    }
    Ok(Jpeg12 {
        width,
        height,
        components: nc,
        precision,
        samples: out,
    })
}

/// Separable floating-point 8x8 inverse DCT (the exact definition, A.3.3).
struct Idct {
    c: [[f64; 8]; 8],
}

impl Idct {
    fn new() -> Idct {
        let mut c = [[0.0; 8]; 8];
        for (x, row) in c.iter_mut().enumerate() {
            for (u, v) in row.iter_mut().enumerate() {
                let cu = if u == 0 {
                    std::f64::consts::FRAC_1_SQRT_2
                } else {
                    1.0
                };
                *v = cu * (((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI) / 16.0).cos()
                    / 2.0;
            }
        }
        Idct { c }
    }

    fn run(&self, coef: &[i32; 64]) -> [f64; 64] {
        let mut tmp = [0.0f64; 64];
        for v in 0..8 {
            for x in 0..8 {
                let mut s = 0.0;
                for u in 0..8 {
                    s += self.c[x][u] * coef[v * 8 + u] as f64;
                }
                tmp[v * 8 + x] = s;
            }
        }
        let mut out = [0.0f64; 64];
        for x in 0..8 {
            for y in 0..8 {
                let mut s = 0.0;
                for v in 0..8 {
                    s += self.c[y][v] * tmp[v * 8 + x];
                }
                out[y * 8 + x] = s;
            }
        }
        out
    }
}
