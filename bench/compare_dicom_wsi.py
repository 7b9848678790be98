#!/usr/bin/env python3
"""Compare exahealth's DICOM WSI reading with pydicom on JPEG frames whose
header and codestream disagree about colour.

The CMU-1 DICOM conversion in ../shared/testdata/wsi/dicom-wsi/cmu-1-small-region
labels its JPEG frames Photometric Interpretation "RGB", while each frame's
JFIF marker says YCbCr. pydicom (with pylibjpeg) follows the codestream and
converts to RGB, as libjpeg does; OpenSlide 4.0.1 follows the header and
shows the raw YCbCr samples (a green slide). exahealth follows the
codestream. This reads level 0 whole with `exahealth slide region` and
compares every frame with pydicom's decode (PSNR over the part of the frame
inside the image; pass >= 40 dB), and reports how far the raw YCbCr
samples, shown as RGB, are from both.

Usage:
  python3 bench/compare_dicom_wsi.py --exahealth PATH_TO_BINARY [--testdata DIR]

Exit status: 0 when every frame passes, 1 when one does not, 2 when the
binary, the data or a Python module is missing.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import numpy as np
    import pydicom
    from PIL import Image
except ImportError as e:  # pragma: no cover - environment
    print(f"missing Python module: {e}; pip install -r bench/requirements.txt", file=sys.stderr)
    sys.exit(2)

LEVEL0 = "wsi/dicom-wsi/cmu-1-small-region/level-0-frames-0-30.dcm"
PASS_DB = 40.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exahealth", required=True, type=Path)
    ap.add_argument("--testdata", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "testdata")
    a = ap.parse_args()
    path = a.testdata / LEVEL0
    if not path.is_file() or not a.exahealth.is_file():
        print(f"missing: {path if not path.is_file() else a.exahealth}", file=sys.stderr)
        return 2

    ds = pydicom.dcmread(path)
    tw, th = int(ds.Columns), int(ds.Rows)
    width, height = int(ds.TotalPixelMatrixColumns), int(ds.TotalPixelMatrixRows)
    cols = -(-width // tw)
    frames = ds.pixel_array  # RGB, converted as the JFIF marker says
    raw = pydicom.pixels.pixel_array(path, raw=True)  # the samples as coded (YCbCr)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "level0.png"
        subprocess.run(
            [str(a.exahealth), "slide", "region", str(path.parent), "--level", "0",
             "--x", "0", "--y", "0", "--width", str(width), "--height", str(height),
             "-o", str(out)],
            check=True, capture_output=True)
        ours = np.asarray(Image.open(out).convert("RGB"))

    worst = math.inf
    raw_vs_pydicom = []
    for f in range(int(ds.NumberOfFrames)):
        r, c = divmod(f, cols)
        x, y = c * tw, r * th
        w, h = min(tw, width - x), min(th, height - y)
        if w <= 0 or h <= 0:
            continue
        ref = frames[f][:h, :w]
        mine = ours[y:y + h, x:x + w]
        worst = min(worst, psnr(ref, mine))
        raw_vs_pydicom.append(psnr(ref, raw[f][:h, :w]))
    print(f"frames compared: {len(raw_vs_pydicom)} ({tw}x{th}, level 0 of {width}x{height})")
    print(f"exahealth vs pydicom: worst frame PSNR {worst:.1f} dB (pass >= {PASS_DB:.0f})")
    print(f"raw YCbCr shown as RGB (what OpenSlide 4.0.1 shows) vs pydicom: "
          f"best frame PSNR {max(raw_vs_pydicom):.1f} dB")
    if worst < PASS_DB:
        print("FAIL: exahealth differs from pydicom's decode", file=sys.stderr)
        return 1
    print("compare_dicom_wsi: pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
