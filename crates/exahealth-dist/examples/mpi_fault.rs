//! A job whose last rank fails while the others wait in a collective: the
//! whole job must end, with that rank's message, within seconds (CI's MPI
//! suite runs it under `timeout` and checks the message and the status).

use exahealth_dist::{MpiWorld, World};

fn main() {
    let world = MpiWorld::init().expect("MPI initialises once");
    if world.rank() + 1 == world.size() {
        world.abort(3, "slide s07.svs: cannot read tile 12 (simulated failure)");
    }
    // The others would wait here for ever without the abort.
    world.barrier().unwrap();
    let mut values = vec![1.0f32; 16];
    world.all_reduce_sum(&mut values).unwrap();
    unreachable!(
        "rank {} passed a collective its peer never joined",
        world.rank()
    );
}
