//! A process's place in a job: from `--shard`, Slurm's variables, or alone.

use std::collections::HashMap;

use exahealth_dist::{DistError, Shard, ShardSource};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn flags_are_index_over_count() {
    let s = Shard::parse("2/8").unwrap();
    assert_eq!((s.index, s.count, s.source), (2, 8, ShardSource::Flag));
    assert_eq!(s.to_string(), "2/8");
    assert_eq!(Shard::parse(" 0 / 1 ").unwrap().count, 1);
    for bad in ["8/8", "1/0", "-1/4", "a/4", "3", "", "1/2/3"] {
        let e = Shard::parse(bad).unwrap_err();
        assert!(matches!(e, DistError::BadShard { .. }), "{bad}: {e}");
        assert!(e.to_string().contains("I/N"), "{e}");
    }
}

#[test]
fn the_flag_wins_over_slurm() {
    let slurm = env(&[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ]);
    let s = Shard::detect(Some("1/2"), &slurm).unwrap();
    assert_eq!((s.index, s.count, s.source), (1, 2, ShardSource::Flag));
}

#[test]
fn array_tasks_count_from_the_first_task() {
    let s = Shard::detect(
        None,
        &env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (s.index, s.count, s.source),
        (4, 8, ShardSource::SlurmArray)
    );
    // Arrays take precedence over the step variables srun also sets.
    let s = Shard::detect(
        None,
        &env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
            ("SLURM_PROCID", "0"),
            ("SLURM_STEP_NUM_TASKS", "1"),
        ]),
    )
    .unwrap();
    assert_eq!(s.source, ShardSource::SlurmArray);
}

#[test]
fn impossible_slurm_variables_are_errors_that_name_them() {
    let cases: [&[(&str, &str)]; 4] = [
        &[
            ("SLURM_ARRAY_TASK_ID", "8"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ],
        &[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ],
        &[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ],
        &[("SLURM_PROCID", "2"), ("SLURM_STEP_NUM_TASKS", "2")],
    ];
    for pairs in cases {
        let e = Shard::detect(None, &env(pairs)).unwrap_err();
        assert!(
            matches!(e, DistError::BadEnvironment { .. }),
            "{pairs:?}: {e}"
        );
        assert!(e.to_string().starts_with("SLURM_"), "{e}");
    }
}

#[test]
fn step_tasks_and_the_lone_process() {
    let s = Shard::detect(
        None,
        &env(&[("SLURM_PROCID", "1"), ("SLURM_STEP_NUM_TASKS", "3")]),
    )
    .unwrap();
    assert_eq!((s.index, s.count, s.source), (1, 3, ShardSource::SlurmStep));
    let s = Shard::detect(None, &env(&[])).unwrap();
    assert_eq!(s, Shard::SINGLE);
    assert!(s.is_single());
}

#[test]
fn mpi_launchers_give_the_rank() {
    let s = Shard::detect(
        None,
        &env(&[
            ("OMPI_COMM_WORLD_RANK", "1"),
            ("OMPI_COMM_WORLD_SIZE", "2"),
            ("SLURM_PROCID", "0"),
            ("SLURM_STEP_NUM_TASKS", "1"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (s.index, s.count, s.source),
        (1, 2, ShardSource::MpiLauncher)
    );
    let s = Shard::detect(None, &env(&[("PMI_RANK", "3"), ("PMI_SIZE", "4")])).unwrap();
    assert_eq!((s.index, s.count), (3, 4));
    let e = Shard::detect(None, &env(&[("PMI_RANK", "4"), ("PMI_SIZE", "4")])).unwrap_err();
    assert!(e.to_string().starts_with("PMI_RANK=4"), "{e}");
}

/// A batch script run outside `srun` sees SLURM_PROCID=0 and the
/// allocation's SLURM_NTASKS: it is not one task of N, it is the job.
#[test]
fn a_batch_script_outside_srun_is_the_whole_job() {
    let s = Shard::detect(None, &env(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "4")])).unwrap();
    assert_eq!(s, Shard::SINGLE);
}
