#!/usr/bin/env python3
"""Compare the exahealth slide reader with OpenSlide (correctness and speed).

Correctness (run by default; --no-compare turns it off):
  every slide under TESTDATA/wsi/ that OpenSlide opens is also opened with
  `exahealth slide info --json`; level count, level dimensions (exact), level
  downsamples (rel tol 1e-3), mpp-x/mpp-y (rel tol 1e-3, where OpenSlide has
  them), objective power, associated image names and vendor are compared.
  Then regions (top-left, centre, an odd-sized 300x171 off-grid region, one
  straddling the right/bottom edge, and at level 0 one at negative
  coordinates) of every level are read with both readers and compared by
  PSNR over RGBA (identical = inf; pass >= 40 dB).
  A sub-folder of wsi/dicom-wsi/ (a multi-file DICOM slide) is passed as one
  file of it.  Files OpenSlide cannot open are skipped, with the reason.

Speed (--bench):
  for the JPEG slide (aperio/CMU-1-Small-Region.svs), the JPEG 2000 slide
  (aperio/tcga-cr-7395-01a-01-ts1.svs), the NDPI and every --extra PATH,
  reads every aligned 256x256 region of level 0 with openslide-python (a
  fresh OpenSlide per run, so a cold cache, on a ThreadPoolExecutor) and
  with `exahealth slide bench --json`, for each --threads count; the best of
  --repeat runs is kept; prints a markdown table of tiles/s and the ratio
  exahealth/openslide.

Usage:
  python3 bench/compare_openslide.py --exahealth PATH_TO_BINARY \
      [--testdata DIR] [--check] [--bench] [--threads 1 2] [--extra PATH] \
      [--json OUT] [--keep DIR]

Exit status: 0 when everything compared passes (or without --check);
1 with --check when any comparison or bench run failed; 2 for usage or
environment errors (missing binary, testdata or Python modules).

Requirements: bench/requirements.txt (openslide-python, openslide-bin,
numpy, pillow).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TESTDATA = REPO_ROOT.parent / "shared" / "testdata"

PSNR_THRESHOLD = 40.0
REL_TOL = 1e-3

BENCH_SLIDES = [
    ("JPEG", "aperio/CMU-1-Small-Region.svs"),
    ("JPEG 2000", "aperio/tcga-cr-7395-01a-01-ts1.svs"),
    ("NDPI (JPEG)", "ndpi/*.ndpi"),
]

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"


class UsageError(Exception):
    """An environment or usage problem: reported without a traceback, exit 2."""


def die(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


def import_deps():
    missing = []
    mods = {}
    for name in ("openslide", "numpy", "PIL.Image"):
        try:
            mods[name] = __import__(name, fromlist=["_"])
        except Exception as e:  # ImportError, or OSError when libopenslide is absent
            missing.append(f"{name} ({type(e).__name__}: {e})")
    if missing:
        raise UsageError(
            "missing Python modules: "
            + "; ".join(missing)
            + f"\n  install them with: pip install -r {REPO_ROOT / 'bench' / 'requirements.txt'}"
        )
    return mods["openslide"], mods["numpy"], mods["PIL.Image"]


# --------------------------------------------------------------------------
# Running the exahealth binary


@dataclass
class ExaResult:
    ok: bool
    stdout: str
    stderr: str
    msg: str = ""


def run_exa(exe: str, args: list[str], timeout: float) -> ExaResult:
    cmd = [exe, *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return ExaResult(False, "", "", f"timed out after {timeout:.0f} s: {' '.join(cmd)}")
    except OSError as e:
        return ExaResult(False, "", "", f"cannot run {exe}: {e}")
    if p.returncode != 0:
        err = p.stderr.strip().splitlines()
        last = err[-1] if err else f"exit status {p.returncode}"
        return ExaResult(False, p.stdout, p.stderr, last)
    return ExaResult(True, p.stdout, p.stderr)


# --------------------------------------------------------------------------
# Discovery


def discover(wsi_dir: Path) -> list[Path]:
    """Candidate slide paths: every file, except that a sub-folder of
    dicom-wsi/ (one multi-file DICOM slide) contributes one file."""
    out: list[Path] = []
    dicom_root = wsi_dir / "dicom-wsi"
    for dirpath, dirnames, filenames in os.walk(wsi_dir):
        dirnames.sort()
        d = Path(dirpath)
        files = sorted(f for f in filenames if not f.startswith("."))
        if not files:
            continue
        if d != dicom_root and dicom_root in d.parents:
            dcm = [f for f in files if f.lower().endswith(".dcm")] or files
            out.append(d / dcm[0])
            continue
        out.extend(d / f for f in files)
    return out


# --------------------------------------------------------------------------
# Correctness


@dataclass
class Row:
    slide: str
    check: str
    status: str
    detail: str = ""
    psnr: float | None = None


@dataclass
class SlideReport:
    slide: str
    path: str
    status: str = PASS
    rows: list[Row] = field(default_factory=list)

    def add(self, check: str, status: str, detail: str = "", psnr: float | None = None):
        self.rows.append(Row(self.slide, check, status, detail, psnr))
        if status == FAIL:
            self.status = FAIL


def rel_close(a: float, b: float, tol: float = REL_TOL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=1e-12)


def as_float(v) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def compare_metadata(rep: SlideReport, osr, info: dict) -> None:
    props = osr.properties

    # vendor
    ov = props.get("openslide.vendor")
    ev = info.get("vendor")
    rep.add("vendor", PASS if ov == ev else FAIL, f"openslide={ov!r} exahealth={ev!r}")

    # level count
    oc, ec = osr.level_count, info.get("level_count")
    rep.add("level_count", PASS if oc == ec else FAIL, f"openslide={oc} exahealth={ec}")

    # level dimensions (exact)
    od = [list(map(int, d)) for d in osr.level_dimensions]
    ed = [list(map(int, d)) for d in (info.get("level_dimensions") or [])]
    if od == ed:
        rep.add("level_dimensions", PASS, f"{len(od)} levels")
    else:
        diffs = []
        for i in range(max(len(od), len(ed))):
            a = od[i] if i < len(od) else None
            b = ed[i] if i < len(ed) else None
            if a != b:
                diffs.append(f"[{i}] openslide={a} exahealth={b}")
        rep.add("level_dimensions", FAIL, "; ".join(diffs))

    # level downsamples (rel tol)
    ods = list(osr.level_downsamples)
    eds = list(info.get("level_downsamples") or [])
    diffs = []
    for i in range(max(len(ods), len(eds))):
        a = ods[i] if i < len(ods) else None
        b = eds[i] if i < len(eds) else None
        if a is None or b is None or not rel_close(a, b):
            diffs.append(f"[{i}] openslide={a} exahealth={b}")
    rep.add("level_downsamples", FAIL if diffs else PASS, "; ".join(diffs) or f"{len(ods)} levels")

    # mpp
    for axis in ("x", "y"):
        o = as_float(props.get(f"openslide.mpp-{axis}"))
        e = as_float(info.get(f"mpp_{axis}"))
        name = f"mpp_{axis}"
        if o is None:
            if e is None:
                rep.add(name, PASS, "neither has it")
            else:
                rep.add(name, WARN, f"openslide has none, exahealth={e}")
        elif e is None:
            rep.add(name, FAIL, f"openslide={o} exahealth=None")
        else:
            rep.add(name, PASS if rel_close(o, e) else FAIL, f"openslide={o} exahealth={e}")

    # objective power
    o = as_float(props.get("openslide.objective-power"))
    e = as_float(info.get("objective_power"))
    if o is None and e is None:
        rep.add("objective_power", PASS, "neither has it")
    elif o is None or e is None or not rel_close(o, e):
        rep.add("objective_power", FAIL, f"openslide={o} exahealth={e}")
    else:
        rep.add("objective_power", PASS, f"{o:g}")

    # associated images
    oa = sorted(osr.associated_images.keys())
    ea = sorted(info.get("associated_images") or [])
    rep.add(
        "associated_images",
        PASS if oa == ea else FAIL,
        f"openslide={oa} exahealth={ea}" if oa != ea else (", ".join(oa) or "none"),
    )

    # openslide.* properties both report (informational only)
    eprops = info.get("properties") or {}
    differ = []
    for k in sorted(props.keys()):
        if not k.startswith("openslide.") or k not in eprops:
            continue
        a, b = props[k], str(eprops[k])
        if a == b:
            continue
        fa, fb = as_float(a), as_float(b)
        if fa is not None and fb is not None and rel_close(fa, fb, 1e-6):
            continue
        differ.append(f"{k}: openslide={a!r} exahealth={b!r}")
    missing = [k for k in props.keys() if k.startswith("openslide.") and k not in eprops]
    detail = []
    if differ:
        detail.append("differ: " + "; ".join(differ))
    if missing:
        detail.append(f"missing in exahealth: {', '.join(sorted(missing))}")
    rep.add("openslide.* properties", WARN if detail else PASS, " | ".join(detail) or "same")


def regions_for(level: int, dims: tuple[int, int], ds: float) -> list[tuple[str, int, int, int, int]]:
    """(name, x0, y0, w, h): x0, y0 in level-0 pixels (level coords * downsample, rounded)."""
    lw, lh = dims

    def l0(v: float) -> int:
        return int(round(v * ds))

    cand = [
        ("top-left", 0, 0, 256, 256),
        ("centre", l0(max(0, lw // 2 - 128)), l0(max(0, lh // 2 - 128)), 256, 256),
        ("odd 300x171", l0(lw // 3 + 7), l0(lh // 3 + 5), 300, 171),
        ("right/bottom edge", l0(max(0, lw - 157)), l0(max(0, lh - 93)), 300, 171),
    ]
    if level == 0:
        cand.append(("negative origin", -37, -21, 128, 96))
    seen, out = set(), []
    for c in cand:
        if c[1:] in seen:
            continue
        seen.add(c[1:])
        out.append(c)
    return out


def psnr_rgba(np, a, b) -> tuple[float, int, int]:
    """PSNR over all RGBA samples, max abs difference, pixels whose alpha differs."""
    d = a.astype(np.int32) - b.astype(np.int32)
    mse = float(np.mean(d.astype(np.float64) ** 2))
    maxabs = int(np.abs(d).max()) if d.size else 0
    alpha_diff = int(np.count_nonzero(a[..., 3] != b[..., 3]))
    if mse == 0.0:
        return math.inf, maxabs, alpha_diff
    return 10.0 * math.log10(255.0 ** 2 / mse), maxabs, alpha_diff


JPEG_TRANSFER_SYNTAXES = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")


def openslide_skips_ycbcr(osr) -> bool:
    """DICOM slides whose JPEG frames OpenSlide returns as raw YCbCr."""
    p = osr.properties
    return (p.get("openslide.vendor") == "dicom"
            and p.get("dicom.PhotometricInterpretation") == "RGB"
            and p.get("dicom.TransferSyntaxUID") in JPEG_TRANSFER_SYNTAXES)


def ycbcr_to_rgb(np, a):
    """JFIF YCbCr -> RGB on the colour channels of an RGBA uint8 array."""
    f = a[..., :3].astype(np.float64)
    y, cb, cr = f[..., 0], f[..., 1] - 128.0, f[..., 2] - 128.0
    rgb = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)
    out = a.copy()
    conv = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    opaque = a[..., 3] != 0  # fully transparent pixels stay (0, 0, 0, 0)
    out[opaque, :3] = conv[opaque]
    return out


def shift_hint(np, a, b, radius: int = 2) -> str:
    """If exahealth's image matches OpenSlide's better when shifted by a few
    pixels, say so (origin rounding bugs show up this way)."""
    h, w = a.shape[:2]
    best = None
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if h - abs(dy) < 8 or w - abs(dx) < 8:
                continue
            aa = a[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)].astype(np.float64)
            bb = b[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)].astype(np.float64)
            mse = float(np.mean((aa - bb) ** 2))
            if best is None or mse < best[0]:
                best = (mse, dx, dy)
    if best is None or (best[1], best[2]) == (0, 0):
        return ""
    p = math.inf if best[0] == 0 else 10.0 * math.log10(255.0 ** 2 / best[0])
    return (f"; best match when exahealth pixel (x,y) is compared with OpenSlide pixel "
            f"(x{best[1]:+d},y{best[2]:+d}): PSNR {fmt_psnr(p)} dB")


def compare_regions(rep, osr, slide_path: Path, args, np, Image, tmp: Path) -> None:
    for level in range(osr.level_count):
        dims = osr.level_dimensions[level]
        ds = osr.level_downsamples[level]
        for name, x, y, w, h in regions_for(level, dims, ds):
            check = f"L{level} {name} ({x},{y}) {w}x{h}"
            try:
                ref = osr.read_region((x, y), level, (w, h))
                a = np.asarray(ref.convert("RGBA"), dtype=np.uint8)
            except Exception as e:
                rep.add(check, FAIL, f"openslide read_region failed: {type(e).__name__}: {e}")
                continue
            out = tmp / f"region-{level}-{x}-{y}-{w}-{h}.png"
            r = run_exa(
                args.exahealth,
                ["slide", "region", str(slide_path), f"--level={level}", f"--x={x}", f"--y={y}",
                 f"--width={w}", f"--height={h}", "-o", str(out)],
                args.timeout,
            )
            if not r.ok:
                rep.add(check, FAIL, f"exahealth region failed: {r.msg}")
                continue
            try:
                with Image.open(out) as im:
                    mode = im.mode
                    b = np.asarray(im.convert("RGBA"), dtype=np.uint8)
            except Exception as e:
                rep.add(check, FAIL, f"cannot read exahealth PNG: {type(e).__name__}: {e}")
                continue
            note = "" if mode == "RGBA" else f" (exahealth PNG mode {mode}, converted)"
            if a.shape != b.shape:
                rep.add(check, FAIL, f"size differs: openslide {a.shape[1]}x{a.shape[0]}, "
                                     f"exahealth {b.shape[1]}x{b.shape[0]}{note}")
                keep(args, rep, check, ref, out)
                continue
            p, maxabs, alpha_diff = psnr_rgba(np, a, b)
            ok = p >= PSNR_THRESHOLD
            detail = f"PSNR {fmt_psnr(p)} dB, max|diff| {maxabs}, alpha differs on {alpha_diff} px{note}"
            lx, ly = x / ds, y / ds
            if lx != int(lx) or ly != int(ly):
                detail += f"; level coords ({lx:.3f},{ly:.3f}) not integral"
            status = PASS if ok else FAIL
            hint_ref = a
            if not ok and openslide_skips_ycbcr(osr):
                # OpenSlide trusts PhotometricInterpretation=RGB and hands back
                # the JPEG's YCbCr samples unconverted; compare with converted.
                hint_ref = ycbcr_to_rgb(np, a)
                pc, _, _ = psnr_rgba(np, hint_ref, b)
                if pc >= PSNR_THRESHOLD:
                    status = WARN
                    detail += (f"; PSNR {fmt_psnr(pc)} dB after YCbCr->RGB of OpenSlide's pixels "
                               f"(OpenSlide does not convert JPEG frames of DICOM with "
                               f"PhotometricInterpretation=RGB)")
                else:
                    # OpenSlide's pixels for this slide are not a usable
                    # reference (wrong colour space), so no verdict: warn.
                    status = WARN
                    detail += (f"; PSNR {fmt_psnr(pc)} dB after YCbCr->RGB of OpenSlide's pixels "
                               f"(reference unreliable for this slide)")
            if status == FAIL:
                detail += shift_hint(np, hint_ref, b)
            rep.add(check, status, detail, psnr=p)
            if not ok:
                keep(args, rep, check, ref, out)


def keep(args, rep, check, ref_img, exa_png: Path) -> None:
    if not args.keep:
        return
    d = Path(args.keep)
    d.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() else "_" for c in f"{rep.slide}_{check}")
    try:
        ref_img.save(d / f"{stem}.openslide.png")
        shutil.copyfile(exa_png, d / f"{stem}.exahealth.png")
    except Exception as e:
        print(f"warning: cannot keep images for {check}: {e}", file=sys.stderr)


def fmt_psnr(p: float | None) -> str:
    if p is None:
        return "-"
    return "inf" if math.isinf(p) else f"{p:.2f}"


def run_compare(args, openslide, np, Image, testdata: Path) -> list[SlideReport]:
    wsi = testdata / "wsi"
    if not wsi.is_dir():
        raise UsageError(f"no wsi/ folder under {testdata}")
    reports: list[SlideReport] = []
    with tempfile.TemporaryDirectory(prefix="exahealth-compare-") as tmpd:
        tmp = Path(tmpd)
        for path in discover(wsi):
            rel = path.relative_to(wsi).as_posix()
            try:
                osr = openslide.OpenSlide(str(path))
            except Exception as e:
                print(f"skip {rel}: OpenSlide cannot open it ({type(e).__name__}: {e})")
                rep = SlideReport(rel, str(path), SKIP)
                rep.rows.append(Row(rel, "open", SKIP, f"OpenSlide: {e}"))
                reports.append(rep)
                continue
            rep = SlideReport(rel, str(path))
            reports.append(rep)
            print(f"checking {rel} ...", flush=True)
            try:
                r = run_exa(args.exahealth, ["slide", "info", str(path), "--json"], args.timeout)
                if not r.ok:
                    rep.add("open", FAIL, f"exahealth cannot open it: {r.msg}")
                    continue
                try:
                    info = json.loads(r.stdout)
                except json.JSONDecodeError as e:
                    rep.add("open", FAIL, f"exahealth info printed invalid JSON: {e}")
                    continue
                compare_metadata(rep, osr, info)
                compare_regions(rep, osr, path, args, np, Image, tmp)
            finally:
                osr.close()
    return reports


def print_table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> None:
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    if markdown:
        print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for r in rows:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    else:
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        print("  ".join("-" * w for w in widths))
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def print_compare(reports: list[SlideReport], verbose: bool) -> None:
    rows = []
    for rep in reports:
        for r in rep.rows:
            if not verbose and r.status == PASS and r.psnr is None:
                continue  # passing metadata rows are summarised per slide below
            rows.append([r.slide, r.check, r.status, r.detail])
    print()
    print("Comparison with OpenSlide (PSNR pass >= %.0f dB)" % PSNR_THRESHOLD)
    print_table(["slide", "check", "status", "detail"], rows)
    print()
    print("Summary by slide")
    srows = []
    for rep in reports:
        n = {s: sum(1 for r in rep.rows if r.status == s) for s in (PASS, FAIL, WARN, SKIP)}
        ps = [r.psnr for r in rep.rows if r.psnr is not None]
        minp = fmt_psnr(min(ps)) if ps else "-"
        srows.append([rep.slide, rep.status, str(n[PASS]), str(n[FAIL]), str(n[WARN]), minp])
    print_table(["slide", "status", "pass", "fail", "warn", "min PSNR"], srows)


# --------------------------------------------------------------------------
# Speed


def bench_regions(dims: tuple[int, int], ds: float, tile: int) -> list[tuple[int, int]]:
    """Same regions as `exahealth slide bench`: row-major, level-0 coords."""
    w, h = dims
    return [
        (int(col * tile * ds), int(row * tile * ds))
        for row in range(-(-h // tile))
        for col in range(-(-w // tile))
    ]


def bench_openslide(openslide, path: Path, level: int, tile: int, threads: int) -> tuple[int, float]:
    osr = openslide.OpenSlide(str(path))  # fresh object: cold tile cache
    try:
        regions = bench_regions(osr.level_dimensions[level], osr.level_downsamples[level], tile)

        def read(xy):
            osr.read_region(xy, level, (tile, tile))

        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as ex:
            t0 = time.perf_counter()
            for _ in ex.map(read, regions):
                pass
            secs = time.perf_counter() - t0
    finally:
        osr.close()
    return len(regions), secs


def run_bench(args, openslide, testdata: Path) -> tuple[list[dict], bool]:
    wsi = testdata / "wsi"
    slides: list[tuple[str, Path]] = []
    for label, pattern in BENCH_SLIDES:
        found = sorted(wsi.glob(pattern))
        if found:
            slides.append((label, found[0]))
        else:
            print(f"bench: skip {label}: no {pattern} under {wsi}")
    for extra in args.extra or []:
        p = Path(extra)
        if not p.exists():
            print(f"bench: skip {extra}: no such file")
            continue
        slides.append(("extra", p))
    if "/debug/" in str(Path(args.exahealth).resolve()).replace(os.sep, "/"):
        print("bench: note: the exahealth binary looks like a debug build; timings are not representative")

    results, failed = [], False
    tile, level = 256, args.bench_level
    for label, path in slides:
        name = path.relative_to(wsi).as_posix() if wsi in path.parents else str(path)
        try:
            probe = openslide.OpenSlide(str(path))
            probe.close()
        except Exception as e:
            print(f"bench: skip {name}: OpenSlide cannot open it ({e})")
            continue
        for threads in args.threads:
            res = {"slide": name, "kind": label, "level": level, "tile": tile, "threads": threads}
            print(f"bench: {name} threads={threads} ...", flush=True)
            try:
                runs = [bench_openslide(openslide, path, level, tile, threads) for _ in range(args.repeat)]
                os_tiles = runs[0][0]
                os_secs = min(s for _, s in runs)
                res["openslide"] = {"tiles": os_tiles, "seconds": os_secs, "tiles_per_s": os_tiles / max(os_secs, 1e-9),
                                    "runs_s": [s for _, s in runs]}
            except Exception as e:
                res["openslide"] = {"error": f"{type(e).__name__}: {e}"}
                failed = True
            exa_runs, err = [], None
            for _ in range(args.repeat):
                r = run_exa(args.exahealth, ["slide", "bench", str(path), f"--level={level}", f"--tile={tile}",
                                             f"--threads={threads}", "--json"], args.bench_timeout)
                if not r.ok:
                    err = r.msg
                    break
                try:
                    exa_runs.append(json.loads(r.stdout))
                except json.JSONDecodeError as e:
                    err = f"invalid JSON from exahealth bench: {e}"
                    break
            if err:
                res["exahealth"] = {"error": err}
                failed = True
            else:
                best = min(exa_runs, key=lambda j: j["seconds"])
                res["exahealth"] = {"tiles": best["tiles"], "seconds": best["seconds"],
                                    "tiles_per_s": best["tiles_per_s"],
                                    "runs_s": [j["seconds"] for j in exa_runs]}
                if "tiles" in res["openslide"] and best["tiles"] != res["openslide"]["tiles"]:
                    print(f"bench: warning: {name}: tile counts differ (openslide {res['openslide']['tiles']}, "
                          f"exahealth {best['tiles']})")
            o, e = res["openslide"].get("tiles_per_s"), res["exahealth"].get("tiles_per_s")
            res["ratio"] = (e / o) if (o and e) else None
            results.append(res)

    print()
    print(f"Throughput, level {level}, {tile}x{tile} regions, best of {args.repeat} (tiles/s)")
    print()
    rows = []
    for r in results:
        o, e = r["openslide"], r["exahealth"]
        rows.append([
            r["slide"], r["kind"], str(r["threads"]),
            str(o.get("tiles", e.get("tiles", "-"))),
            f"{o['tiles_per_s']:.1f}" if "tiles_per_s" in o else "error: " + o.get("error", "?"),
            f"{e['tiles_per_s']:.1f}" if "tiles_per_s" in e else "error: " + e.get("error", "?"),
            f"{r['ratio']:.2f}x" if r["ratio"] else "-",
        ])
    print_table(["slide", "codec", "threads", "tiles", "openslide", "exahealth", "exahealth/openslide"],
                rows, markdown=True)
    return results, failed


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exahealth", required=True, help="path to the exahealth binary")
    ap.add_argument("--testdata", default=str(DEFAULT_TESTDATA),
                    help=f"test data folder (default: {DEFAULT_TESTDATA})")
    ap.add_argument("--check", action="store_true", help="exit 1 on any mismatch or failure")
    ap.add_argument("--no-compare", action="store_true", help="skip the correctness comparison")
    ap.add_argument("--bench", action="store_true", help="also compare read throughput")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts for --bench")
    ap.add_argument("--extra", action="append", metavar="PATH", help="another slide for --bench (repeatable)")
    ap.add_argument("--repeat", type=int, default=3, help="bench runs per measurement; the best is kept")
    ap.add_argument("--bench-level", type=int, default=0, help="level to bench (default 0)")
    ap.add_argument("--json", metavar="OUT", help="write all results as JSON")
    ap.add_argument("--keep", metavar="DIR", help="save both images of every failing region here")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per exahealth info/region call")
    ap.add_argument("--bench-timeout", type=float, default=600, help="seconds per exahealth bench call")
    ap.add_argument("-v", "--verbose", action="store_true", help="list passing metadata checks too")
    args = ap.parse_args()

    exe = Path(args.exahealth)
    if not exe.is_file() or not os.access(exe, os.X_OK):
        raise UsageError(f"exahealth binary not found or not executable: {exe}")
    args.exahealth = str(exe.resolve())
    testdata = Path(args.testdata)
    if not testdata.is_dir():
        raise UsageError(f"test data folder not found: {testdata}")
    if any(t < 1 for t in args.threads) or args.repeat < 1:
        raise UsageError("--threads and --repeat must be >= 1")

    openslide, np, Image = import_deps()
    print(f"openslide-python {openslide.__version__}, OpenSlide {openslide.__library_version__}; "
          f"exahealth {args.exahealth}")

    out: dict = {
        "openslide_python": openslide.__version__,
        "openslide_library": openslide.__library_version__,
        "exahealth": args.exahealth,
        "psnr_threshold_db": PSNR_THRESHOLD,
    }
    failed = False
    if not args.no_compare:
        reports = run_compare(args, openslide, np, Image, testdata)
        print_compare(reports, args.verbose)
        failed |= any(r.status == FAIL for r in reports)
        out["compare"] = [
            {"slide": r.slide, "path": r.path, "status": r.status,
             "checks": [{k: (None if k == "psnr" and v is not None and math.isinf(v) else v)
                         for k, v in asdict(row).items() if k != "slide"}
                        | ({"identical": True} if row.psnr is not None and math.isinf(row.psnr) else {})
                        for row in r.rows]}
            for r in reports
        ]
        nfail = sum(1 for r in reports if r.status == FAIL)
        nskip = sum(1 for r in reports if r.status == SKIP)
        print(f"\n{len(reports) - nfail - nskip} slides pass, {nfail} fail, {nskip} skipped (OpenSlide cannot open)")
    if args.bench:
        results, bfail = run_bench(args, openslide, testdata)
        out["bench"] = results
        failed |= bfail
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
            print(f"wrote {args.json}")
        except OSError as e:
            print(f"error: cannot write {args.json}: {e}", file=sys.stderr)
            return 2
    if failed and args.check:
        print("FAILED: see the FAIL rows above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UsageError as e:
        die(str(e))
    except KeyboardInterrupt:
        die("interrupted", 130)
