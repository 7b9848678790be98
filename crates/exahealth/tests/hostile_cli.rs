//! Every class of hostile input (crafted by `exahealth-hostile`) run through
//! the commands that take such files, as a user would: the process must end
//! with a one-line error naming the file (exit status 1) or a clean result,
//! never a panic (101) or an out-of-memory abort (134), inside an address
//! space of 2 GB (`ulimit -v 2000000`) and in bounded time.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far above the 10 s a release build needs (this is a debug CLI over
/// optimised libraries); it catches hangs and quadratic work, not speed.
const HANG: Duration = Duration::from_secs(60);

/// The address-space limit of the acceptance check, in KiB.
const ADDRESS_SPACE_KIB: u64 = 2_000_000;

struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

/// Runs `exahealth ARGS` under `ulimit -v`, killing it past [`HANG`].
fn run_limited(args: &[&str]) -> Run {
    let script = format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\"");
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_exahealth"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sh");
    let mut stderr_pipe = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("exahealth {args:?} still ran after {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stderr: reader.join().expect("stderr reader"),
        elapsed: start.elapsed(),
    }
}

/// The command must fail with exit status 1 and exactly one `error:` line
/// that names `file`; nothing may panic.
fn assert_refused(args: &[&str], file: &Path) -> String {
    let run = run_limited(args);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("memory allocation"),
        "exahealth {args:?} crashed:\n{}",
        run.stderr
    );
    assert_eq!(run.code, Some(1), "exahealth {args:?}:\n{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line wanted:\n{}", run.stderr);
    assert!(
        errors[0].contains(&name),
        "the error does not name {name}: {}",
        errors[0]
    );
    eprintln!("{args:?}: {:?}: {}", run.elapsed, errors[0]);
    errors[0].to_string()
}

/// The command may succeed or fail with a one-line error, but never crash.
fn assert_survives(args: &[&str]) -> Option<i32> {
    let run = run_limited(args);
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("memory allocation"),
        "exahealth {args:?} crashed:\n{}",
        run.stderr
    );
    assert!(
        matches!(run.code, Some(0 | 1)),
        "exahealth {args:?} ended with {:?}:\n{}",
        run.code,
        run.stderr
    );
    eprintln!("{args:?}: {:?}: exit {:?}", run.elapsed, run.code);
    run.code
}

/// What a command must do with the crafted file.
#[derive(Clone, Copy)]
enum Expect {
    /// Exit 1 with one error line naming the file.
    Refused,
    /// Exit 0 or 1, no crash.
    Survives,
}
use Expect::{Refused, Survives};

/// Writes `bytes` as `name` in a fresh folder and runs each command on it:
/// `{file}` stands for the file, `{out}` for a path beside it. Returns the
/// exit codes.
fn check(name: &str, bytes: &[u8], runs: &[(Expect, &[&str])]) -> Vec<Option<i32>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).unwrap();
    let out = dir.path().join("out");
    let mut codes = Vec::new();
    for (expect, template) in runs {
        let args: Vec<String> = template
            .iter()
            .map(|a| {
                a.replace("{file}", file.to_str().unwrap())
                    .replace("{out}", out.to_str().unwrap())
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        codes.push(match expect {
            Refused => {
                assert_refused(&args, &file);
                Some(1)
            }
            Survives => assert_survives(&args),
        });
    }
    codes
}

/// `slide region {file}` of `width` x `height` at the origin into `{out}.png`.
fn region_args<'a>(width: &'a str, height: &'a str) -> [&'a str; 13] {
    [
        "slide",
        "region",
        "{file}",
        "--x",
        "0",
        "--y",
        "0",
        "--width",
        width,
        "--height",
        height,
        "-o",
        "{out}.png",
    ]
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An 8-bit one-component JPEG-LS stream (the codec's own fixture) and its
/// width and height, read from its SOF55 segment.
fn gray_jls() -> (Vec<u8>, u16, u16) {
    let bytes = include_bytes!("../../exahealth-codec/tests/data/jls/gray8_lossless.jls").to_vec();
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xF7])
        .expect("SOF55");
    let be = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    let (height, width) = (be(sof + 5), be(sof + 7));
    assert_eq!(bytes[sof + 9], 1, "the fixture has one component");
    (bytes, width, height)
}

#[test]
fn tiff_tags_sharing_one_large_block_are_refused() {
    let bomb = exahealth_hostile::tiff_tag_bomb();
    check(
        "tag-bomb.tiff",
        &bomb,
        &[(Refused, &["slide", "info", "{file}"])],
    );
}

#[test]
fn a_level_almost_four_billion_pixels_wide_is_refused_or_read_in_bounds() {
    check(
        "wide.tiff",
        &exahealth_hostile::tiff_wide_level(),
        &[
            (
                Refused,
                &["slide", "thumbnail", "{file}", "-o", "{out}.png"],
            ),
            (
                Survives,
                &["slide", "tile", "{file}", "--level", "0", "--out", "{out}"],
            ),
            (Survives, &["slide", "info", "{file}"]),
        ],
    );
}

#[test]
fn philips_metadata_cut_in_the_wrong_place_does_not_panic() {
    let region = region_args("8", "8");
    check(
        "philips.tiff",
        &exahealth_hostile::philips_bad_spacing(),
        &[
            (Survives, &["slide", "info", "{file}"]),
            (Survives, &region),
        ],
    );
}

const EXTRACT: &[&str] = &[
    "reports",
    "extract",
    "{file}",
    "--use-case",
    "colon",
    "-o",
    "{out}",
];

#[test]
fn a_report_workbook_spanning_the_whole_sheet_is_read_by_its_cells() {
    check(
        "far.xlsx",
        &exahealth_hostile::xlsx_far_cells(),
        &[(Survives, EXTRACT)],
    );
    let bomb = exahealth_hostile::xlsx_shared_string_bomb();
    check("strings.xlsx", &bomb, &[(Refused, EXTRACT)]);
}

#[test]
fn dicom_frames_promising_terabytes_are_refused() {
    let runs: &[(Expect, &[&str])] = &[
        (Survives, &["image", "info", "{file}"]),
        (Refused, &["image", "convert", "{file}", "{out}.png"]),
    ];
    check("huge-rle.dcm", &exahealth_hostile::dicom_rle_huge(), runs);
    let (jls, _, _) = gray_jls();
    check(
        "huge-jpegls.dcm",
        &exahealth_hostile::dicom_jpegls_huge(&jls),
        runs,
    );
}

#[test]
fn a_million_fragment_offset_table_is_matched_in_linear_time() {
    // Quadratic matching is 10^12 steps here, far past the hang limit; the
    // file itself is genuine and reads (though no NIfTI-1 file can hold a
    // million slices, so converting it fails on the output).
    let codes = check(
        "fragments.dcm",
        &exahealth_hostile::dicom_many_fragments(1_000_000),
        &[
            (Survives, &["image", "info", "{file}"]),
            (Survives, &["image", "convert", "{file}", "{out}.nii"]),
        ],
    );
    assert_eq!(codes[0], Some(0), "the million-frame file must read");
}

#[test]
fn a_dicom_wsi_frame_with_fewer_components_than_its_header_is_refused() {
    let (jls, w, h) = gray_jls();
    let file = exahealth_hostile::dicom_wsi_jpegls_component_mismatch(&jls, w, h);
    let (w, h) = (w.to_string(), h.to_string());
    let region = region_args(&w, &h);
    // Opening may already refuse it; if it opens, reading must.
    let codes = check(
        "wsi-mismatch.dcm",
        &file,
        &[(Survives, &["slide", "info", "{file}"])],
    );
    if codes == [Some(0)] {
        check("wsi-mismatch.dcm", &file, &[(Refused, &region)]);
    }
}

#[test]
fn the_memory_budget_option_refuses_a_large_but_genuine_decode() {
    let dir = tempfile::tempdir().unwrap();
    let slide = dir.path().join("synth.tiff");
    let out = Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .args([
            "slide",
            "synth",
            s(&slide),
            "--width",
            "4096",
            "--height",
            "4096",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let region = dir.path().join("r.png");
    let args = [
        "slide",
        "region",
        s(&slide),
        "--x",
        "0",
        "--y",
        "0",
        "--width",
        "2048",
        "--height",
        "2048",
        "-o",
        s(&region),
    ];
    // 2048 x 2048 RGBA is 16 MiB: refused under a 1 MiB budget, read under
    // the default.
    let mut limited = vec!["--memory-budget", "1M"];
    limited.extend_from_slice(&args);
    let error = assert_refused(&limited, &slide);
    assert!(error.contains("memory budget"), "{error}");
    assert_eq!(assert_survives(&args), Some(0));
    assert!(region.is_file());
}
