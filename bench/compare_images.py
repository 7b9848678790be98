#!/usr/bin/env python3
"""Compare exahealth's image readers against the reference readers.

For every file in TESTDATA/dicom (and the series folders in it) the stored
pixel array from pydicom (with pylibjpeg, pylibjpeg-libjpeg,
pylibjpeg-openjpeg and pyjpegls as codec plugins) is compared with
`exahealth image convert FILE OUT.npy`; for every NIfTI file in
TESTDATA/nifti the unscaled array, affine, zooms and scaling from nibabel are
compared with the .npy and `exahealth image info --json`.

Lossless transfer syntaxes must match exactly; lossy ones within MAX_LOSSY
(decoder rounding); spacing and affines within 1e-4. One line per file, then a
summary; exit status 1 if any file fails.

Usage: python3 bench/compare_images.py --exahealth target/debug/exahealth \
           [--testdata ../shared/testdata]
"""

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
import nibabel

LOSSY = {
    "1.2.840.10008.1.2.4.50": "JPEG baseline",
    "1.2.840.10008.1.2.4.51": "JPEG extended",
    "1.2.840.10008.1.2.4.81": "JPEG-LS near-lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
}
MAX_LOSSY = 2
TOL = 1e-4


def run(bin_, *args):
    p = subprocess.run([bin_, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed")
    return p.stdout


def ours(bin_, path, tmp):
    out = os.path.join(tmp, "out.npy")
    if os.path.exists(out):
        os.remove(out)
    run(bin_, "image", "convert", path, out)
    arr = np.load(out)
    info = json.loads(run(bin_, "image", "info", "--json", path))
    return arr, info


def dcmread(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return pydicom.dcmread(io.BytesIO(f.read()), force=True)
    return pydicom.dcmread(path, force=True)


def compare_arrays(ref, got, lossy):
    if ref.shape != got.shape:
        return False, f"shape ours {got.shape} vs ref {ref.shape}", None
    diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
    maxd = float(diff.max()) if diff.size else 0.0
    if lossy:
        return maxd <= MAX_LOSSY, f"lossy, max|diff| {maxd:g} (<= {MAX_LOSSY})", maxd
    if ref.dtype.newbyteorder("=") != got.dtype.newbyteorder("="):
        return False, f"dtype ours {got.dtype} vs ref {ref.dtype}", maxd
    return maxd == 0, ("exact" if maxd == 0 else f"max|diff| {maxd:g}, {int((diff > 0).sum())} px differ"), maxd


def dicom_meta_checks(ds, info):
    """Rescale and window in our metadata equal the file's."""
    meta = info["meta"]
    problems = []
    for key, kw in (("rescale_slope", "RescaleSlope"), ("rescale_intercept", "RescaleIntercept")):
        if kw in ds and ds[kw].value not in (None, ""):
            if key not in meta or abs(float(meta[key]) - float(ds[kw].value)) > TOL:
                problems.append(f"{key} {meta.get(key)} vs {ds[kw].value}")
    if "WindowCenter" in ds and ds.WindowCenter not in (None, ""):
        wc = ds.WindowCenter
        wc = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
        if "window_center" not in meta or abs(float(meta["window_center"]) - wc) > TOL:
            problems.append(f"window_center {meta.get('window_center')} vs {wc}")
    if "PixelSpacing" in ds:
        ps = [float(v) for v in ds.PixelSpacing]
        sp = info["spacing"]
        if abs(sp["y"] - ps[0]) > TOL or abs(sp["x"] - ps[1]) > TOL:
            problems.append(f"spacing x,y {sp['x']},{sp['y']} vs PixelSpacing {ps}")
    return problems


def check_dicom_file(bin_, path, tmp):
    ds = dcmread(path)
    ts = str(ds.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in getattr(ds, "file_meta", {}) else "?"
    name = LOSSY.get(ts) or pydicom.uid.UID(ts).name if ts != "?" else "?"
    if "PixelData" not in ds:
        try:
            ours(bin_, path, tmp)
            return "FAIL", name, "no pixel data but we returned an image", None
        except RuntimeError as e:
            ok = "no pixel data" in str(e)
            return ("ok" if ok else "FAIL"), name, f"error as expected: {e}", None
    try:
        ref = ds.pixel_array
    except Exception as e:  # reference cannot decode: nothing to compare
        return "skip", name, f"pydicom failed: {e}", None
    try:
        got, info = ours(bin_, path, tmp)
    except RuntimeError as e:
        return "FAIL", name, f"exahealth: {e}", None
    ok, why, maxd = compare_arrays(ref, got, ts in LOSSY)
    problems = dicom_meta_checks(ds, info)
    if problems:
        ok = False
        why += "; " + "; ".join(problems)
    return ("ok" if ok else "FAIL"), name, why, maxd


def check_dicom_series(bin_, folder, tmp):
    slices = [dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]
    iop = np.array([float(v) for v in slices[0].ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    slices.sort(key=lambda d: float(np.dot(normal, [float(v) for v in d.ImagePositionPatient])))
    ref = np.stack([d.pixel_array for d in slices])
    pos = [float(np.dot(normal, [float(v) for v in d.ImagePositionPatient])) for d in slices]
    dz = float(np.median(np.diff(pos)))
    try:
        got, info = ours(bin_, folder, tmp)
    except RuntimeError as e:
        return "FAIL", "series", f"exahealth: {e}", None
    ok, why, maxd = compare_arrays(ref, got, False)
    sp = info["spacing"]
    ps = [float(v) for v in slices[0].PixelSpacing]
    if abs(sp["z"] - dz) > TOL or abs(sp["y"] - ps[0]) > TOL or abs(sp["x"] - ps[1]) > TOL:
        ok = False
        why += f"; spacing {sp} vs x={ps[1]} y={ps[0]} z={dz}"
    else:
        why += f"; spacing x={sp['x']} y={sp['y']} z={sp['z']} equal"
    return ("ok" if ok else "FAIL"), f"series of {len(slices)}", why, maxd


def check_nifti(bin_, path, tmp):
    img = nibabel.load(path)
    hdr = img.header
    ref = np.asarray(img.dataobj.get_unscaled())
    try:
        got, info = ours(bin_, path, tmp)
    except RuntimeError as e:
        return "FAIL", f"NIfTI-{1 if hdr.sizeof_hdr == 348 else 2}", f"exahealth: {e}", None
    # Ours is C-ordered [t, z, y, x]; nibabel's is indexed [x, y, z, t].
    got_t = got.transpose(tuple(reversed(range(got.ndim))))
    ok, why, maxd = compare_arrays(ref, got_t, False)
    meta = info["meta"]
    aff = np.array([float(v) for v in meta["affine"].split(",")]).reshape(4, 4)
    if not np.allclose(aff, img.affine, atol=TOL):
        ok = False
        why += f"; affine differs (max {np.abs(aff - img.affine).max():g})"
    else:
        why += "; affine equal"
    zooms = hdr.get_zooms()
    sp = info["spacing"]
    for ax, z in zip("xyzt", zooms):
        if abs(sp[ax] - float(z)) > TOL:
            ok = False
            why += f"; spacing {ax} {sp[ax]} vs {z}"
    slope, inter = hdr.get_slope_inter()
    if slope is not None and abs(float(meta.get("rescale_slope", "nan")) - slope) > TOL:
        ok = False
        why += f"; slope {meta.get('rescale_slope')} vs {slope}"
    if inter is not None and abs(float(meta.get("rescale_intercept", "nan")) - inter) > TOL:
        ok = False
        why += f"; intercept {meta.get('rescale_intercept')} vs {inter}"
    return ("ok" if ok else "FAIL"), f"NIfTI-{1 if hdr.sizeof_hdr == 348 else 2}", why, maxd


def check_sc_write(bin_, path, tmp):
    """Our Secondary Capture of PATH, read back by pydicom, equals what we read from PATH."""
    out = os.path.join(tmp, "sc.dcm")
    try:
        got, _ = ours(bin_, path, tmp)
        run(bin_, "image", "convert", path, out)
    except RuntimeError as e:
        return "FAIL", "SC write", f"exahealth: {e}", None
    ds = pydicom.dcmread(out)
    if ds.SOPClassUID != "1.2.840.10008.5.1.4.1.1.7":
        return "FAIL", "SC write", f"SOP class {ds.SOPClassUID}", None
    ok, why, maxd = compare_arrays(got, ds.pixel_array, False)
    return ("ok" if ok else "FAIL"), "SC write", f"pydicom reads our .dcm: {why}", maxd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exahealth", required=True, help="path to the exahealth binary")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--testdata", default=os.path.join(here, "..", "..", "shared", "testdata"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ddir = os.path.join(args.testdata, "dicom")
        for f in sorted(os.listdir(ddir)):
            p = os.path.join(ddir, f)
            if os.path.isdir(p):
                rows.append((f + "/",) + check_dicom_series(args.exahealth, p, tmp))
            else:
                rows.append((f,) + check_dicom_file(args.exahealth, p, tmp))
        for f in ("CT_small.dcm", "US1_J2KI.dcm", "barre_MR-MONO2-8-16x-heart.dcm"):
            rows.append(("write " + f,) + check_sc_write(args.exahealth, os.path.join(ddir, f), tmp))
        ndir = os.path.join(args.testdata, "nifti")
        for f in sorted(os.listdir(ndir)):
            if f.endswith((".nii", ".nii.gz")):
                rows.append((f,) + check_nifti(args.exahealth, os.path.join(ndir, f), tmp))
    w = max(len(r[0]) for r in rows)
    print(f"{'file':<{w}}  {'result':<6}  {'syntax':<28}  details")
    for name, res, syntax, why, _ in rows:
        print(f"{name:<{w}}  {res:<6}  {str(syntax)[:28]:<28}  {why}")
    n_ok = sum(r[1] == "ok" for r in rows)
    n_fail = sum(r[1] == "FAIL" for r in rows)
    n_skip = sum(r[1] == "skip" for r in rows)
    lossy = [r[4] for r in rows if r[1] == "ok" and r[4] is not None and "lossy" in r[3]]
    print(f"lossy files: max|diff| over all = {max(lossy) if lossy else 0:g}")
    print(f"compare_images: {n_ok} passed, {n_fail} failed, {n_skip} skipped")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
