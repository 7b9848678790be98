//! Fuzz loading a saved patch plan: the input is split at its first NUL
//! byte into `plan.json` and `patches.csv` (no NUL: no `patches.csv`) in a
//! scratch folder, then `Plan::load_meta` and `Plan::load` read it. A plan
//! that loads must save and load again with the same patches.
#![no_main]

mod common;

use exahealth_data::plan::{Plan, PATCHES_FILE, PLAN_FILE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = common::fresh_dir("plan");
    match data.iter().position(|&b| b == 0) {
        Some(i) => {
            common::write(&dir, PLAN_FILE, &data[..i]);
            common::write(&dir, PATCHES_FILE, &data[i + 1..]);
        }
        None => {
            common::write(&dir, PLAN_FILE, data);
        }
    }
    let _ = Plan::load_meta(&dir);
    let Ok(plan) = Plan::load(&dir) else { return };
    assert_eq!(plan.patches.len() as u64, plan.summary.patches);
    let again = common::fresh_dir("plan-again");
    plan.save(&again).expect("a loaded plan must save");
    let back = Plan::load(&again).unwrap_or_else(|e| panic!("a saved plan does not load: {e}"));
    assert_eq!(back.patches.len(), plan.patches.len());
});
