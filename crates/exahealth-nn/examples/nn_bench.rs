//! Throughput of a training step or a forward pass, as JSON (the same
//! measurement as `exahealth bench train|infer`):
//!
//! ```sh
//! cargo run -p exahealth-nn --example nn_bench -- train small-cnn 32 64 5 2
//! ```
//! Arguments: mode (train|infer), model (small-cnn|resnet18), batch, size,
//! steps, threads.

use exahealth_nn::bench::{bench_infer, bench_train, BenchConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 6 {
        return Err(
            "usage: nn_bench train|infer small-cnn|resnet18 BATCH SIZE STEPS THREADS".into(),
        );
    }
    let config = BenchConfig {
        model: args[1].parse()?,
        batch: args[2].parse()?,
        size: args[3].parse()?,
        steps: args[4].parse()?,
        threads: args[5].parse()?,
    };
    let result = match args[0].as_str() {
        "train" => bench_train(config)?,
        "infer" => bench_infer(config)?,
        other => return Err(format!("unknown mode {other}").into()),
    };
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}
