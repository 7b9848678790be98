#!/usr/bin/env python3
"""Regenerates the JPEG-LS fixtures in tests/data/jls.

Run by hand (not by the test suite):  pip install pillow-jpls numpy && python3 gen_fixtures.py

The codestreams are written by CharLS (through pillow-jpls' `_pycharls`),
an independent reference implementation, and each `.raw` file holds the
samples CharLS decodes back from its `.jls` (little-endian u16 when
bits > 8, else u8, pixel-interleaved). For near-lossless streams the script
also checks |decoded - original| <= NEAR. Restart-marker streams are
assembled from separately encoded strips (each restart interval is coded as
an independent image) and checked by decoding them with CharLS too.

No fixture uses a preset MAXVAL below 2^P - 1: CharLS 2.4 writes it into the
LSE segment but codes with the default RANGE/LIMIT (its own decoder does the
same), so such streams disagree with T.87 and with libjpeg.
"""
import os
import struct

import numpy as np
import pillow_jpls._pycharls as pc

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jls")


def make_image(h, w, comps, bits, seed):
    """Smooth ramps, flat patches (run mode), sharp edges and noise."""
    rng = np.random.default_rng(seed)
    maxval = (1 << bits) - 1
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for c in range(comps):
        base = (x * (c + 1) * 7 + y * 5 + c * 40) / (w * 7 + h * 5 + 120)
        img = base * maxval
        img += rng.normal(0, maxval * 0.02 + 0.5, size=(h, w)) * (x > w // 3)
        img[(y // 4 + x // 6) % 3 == 0] = maxval * (0.3 + 0.2 * c) % (maxval + 1)
        img[h // 2 :, w // 2 :] = np.where(
            rng.random((h - h // 2, w - w // 2)) < 0.5, 0, maxval
        )
        planes.append(np.clip(np.rint(img), 0, maxval))
    arr = np.stack(planes, axis=-1).astype(np.uint16 if bits > 8 else np.uint8)
    return arr


def encode(arr, bits, **kw):
    h, w, comps = arr.shape
    fi = pc.FrameInfo()
    fi.width, fi.height, fi.component_count, fi.bits_per_sample = w, h, comps, bits
    return bytes(pc.encode(arr.tobytes(), fi, None, **kw))


def decode(stream, dtype, shape):
    return np.frombuffer(bytes(pc.decode(stream)), dtype=dtype).reshape(shape)


def write(name, stream, decoded):
    with open(os.path.join(OUT, name + ".jls"), "wb") as f:
        f.write(stream)
    with open(os.path.join(OUT, name + ".raw"), "wb") as f:
        f.write(decoded.astype("<u2" if decoded.dtype == np.uint16 else np.uint8).tobytes())


def case(name, h, w, comps, bits, seed, near=0, maxval=None, **kw):
    arr = make_image(h, w, comps, bits, seed)
    if maxval is not None:
        arr = np.minimum(arr, maxval).astype(arr.dtype)
        kw["maxval"] = maxval
    if near:
        kw["near_lossless"] = near
    stream = encode(arr, bits, **kw)
    dec = decode(stream, arr.dtype, arr.shape)
    diff = np.abs(dec.astype(np.int64) - arr.astype(np.int64)).max()
    assert diff <= near, (name, diff, near)
    write(name, stream, dec)


def scan_data(stream):
    """Entropy-coded bytes of a single-scan stream (between SOS and EOI)."""
    i = stream.index(b"\xff\xda")
    (length,) = struct.unpack(">H", stream[i + 2 : i + 4])
    assert stream.endswith(b"\xff\xd9")
    return stream[: i + 2 + length], stream[i + 2 + length : -2]


def restart_case(name, h, w, comps, bits, seed, interval, interleave):
    arr = make_image(h, w, comps, bits, seed)
    strips = [arr[y : y + interval] for y in range(0, h, interval)]
    planes = range(comps) if interleave == "none" else [None]
    body = b""
    header = None
    for p in planes:
        parts = []
        for s in strips:
            piece = s if p is None else np.ascontiguousarray(s[:, :, p : p + 1])
            kw = {} if p is None else {}
            if p is None:
                kw["interleave"] = interleave
            hdr, data = scan_data(encode(np.ascontiguousarray(piece), bits, **kw))
            parts.append(data)
            sos = hdr[hdr.index(b"\xff\xda") :]
            if header is None:
                header = hdr[: hdr.index(b"\xff\xda")]
        if p is not None:
            # Single-component strips name component 1; point at the real one.
            sos = sos[:5] + bytes([p + 1]) + sos[6:]
        seg = sos
        for k, data in enumerate(parts):
            if k:
                seg += bytes([0xFF, 0xD0 + ((k - 1) & 7)])
            seg += data
        body += seg
    # Frame header for the whole image: patch the height and component count.
    sof_at = header.index(b"\xff\xf7")
    comps_spec = b"".join(bytes([c + 1, 0x11, 0]) for c in range(comps))
    sof_body = struct.pack(">BHHB", bits, h, w, comps) + comps_spec
    sof = b"\xff\xf7" + struct.pack(">H", 2 + len(sof_body)) + sof_body
    dri = b"\xff\xdd" + struct.pack(">HH", 4, interval)
    stream = header[:sof_at] + sof + dri + body + b"\xff\xd9"
    dec = decode(stream, arr.dtype, arr.shape)
    assert (dec == arr).all(), name
    write(name, stream, dec)


def main():
    os.makedirs(OUT, exist_ok=True)
    case("gray8_lossless", 30, 40, 1, 8, 1)
    case("gray8_near3", 30, 40, 1, 8, 2, near=3)
    case("gray8_custom_t", 30, 40, 1, 8, 3, t1=2, t2=5, t3=9)
    case("gray2_lossless", 20, 33, 1, 2, 5)
    case("gray5_near1", 20, 33, 1, 5, 6, near=1)
    case("gray12_near2", 30, 40, 1, 12, 7, near=2)
    case("gray16_lossless", 30, 40, 1, 16, 8)
    case("gray16_near5_custom_t", 30, 40, 1, 16, 9, near=5, t1=40, t2=300, t3=5000)
    case("gray8_one_column", 25, 1, 1, 8, 10)
    case("gray8_one_row", 1, 70, 1, 8, 11)
    case("rgb8_ilv0", 24, 31, 3, 8, 12, interleave="none")
    case("rgb8_ilv1_near2", 24, 31, 3, 8, 13, near=2, interleave="line")
    case("rgb8_ilv2_near1", 24, 31, 3, 8, 14, near=1, interleave="sample")
    case("rgb8_ilv2_lossless", 24, 31, 3, 8, 15, interleave="sample")
    case("rgb10_ilv1_lossless", 24, 31, 3, 10, 16, interleave="line")
    case("rgb16_ilv2_lossless", 20, 17, 3, 16, 17, interleave="sample")
    case("rgba8_ilv2_lossless", 16, 19, 4, 8, 18, interleave="sample")
    case("rgba8_ilv1_near1", 16, 19, 4, 8, 19, near=1, interleave="line")
    restart_case("gray8_restart", 21, 24, 1, 8, 20, 8, "none")
    restart_case("rgb8_ilv0_restart", 21, 24, 3, 8, 21, 8, "none")
    restart_case("rgb8_ilv1_restart", 21, 24, 3, 8, 22, 5, "line")
    restart_case("rgb12_ilv2_restart", 40, 24, 3, 12, 23, 4, "sample")


if __name__ == "__main__":
    main()
