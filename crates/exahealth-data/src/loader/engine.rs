//! The loader: worker threads, a bounded window of batches in flight, and
//! batches handed out in epoch order.
//!
//! Each epoch's sample order is a permutation seeded by (seed, epoch). The
//! order is cut into batches; workers take whole batches in order, load and
//! transform their samples, stack them and send them back. The consumer
//! hands batches out strictly by batch index, so contents and order do not
//! depend on the number of workers. A worker may only start batch `b` once
//! fewer than `prefetch` batches are started but not yet handed out, which
//! bounds memory by `prefetch x batch size` samples whatever the dataset
//! size.

use super::augment::{SampleRng, Transform};
use super::sample::BatchBuilder;
use super::{Batch, LoaderError, SampleSource};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

/// How batches are formed and how much work runs ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderConfig {
    /// Samples per batch.
    pub batch_size: usize,
    /// Worker threads.
    pub workers: usize,
    /// Batches that may be in flight (being built or waiting to be taken)
    /// at once; memory is bounded by `prefetch x batch_size` samples.
    pub prefetch: usize,
    /// Shuffle the samples each epoch (seeded by `seed` and the epoch).
    pub shuffle: bool,
    /// Seed of the shuffle and of each sample's transform stream, so a run
    /// can be repeated exactly.
    pub seed: u64,
    /// Leave out a last batch smaller than `batch_size`.
    pub drop_last: bool,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            batch_size: 32,
            workers,
            prefetch: 2 * workers,
            shuffle: true,
            seed: 0,
            drop_last: false,
        }
    }
}

/// Batches from a [`SampleSource`], epoch by epoch.
pub struct Loader {
    source: Arc<dyn SampleSource>,
    transform: Option<Transform>,
    config: LoaderConfig,
    /// Image buffers of batches handed back with [`Loader::recycle`].
    pool: Arc<Mutex<Vec<Vec<f32>>>>,
}

impl Loader {
    /// A loader over `source`; fails if the batch size, workers or
    /// prefetch is 0.
    pub fn new(source: Arc<dyn SampleSource>, config: LoaderConfig) -> Result<Self, LoaderError> {
        if config.batch_size == 0 || config.workers == 0 || config.prefetch == 0 {
            return Err(LoaderError::Config(format!(
                "batch_size ({}), workers ({}) and prefetch ({}) must all be at least 1",
                config.batch_size, config.workers, config.prefetch
            )));
        }
        Ok(Self {
            source,
            transform: None,
            config,
            pool: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Runs `transform` on every sample after loading, before batching.
    pub fn with_transform(mut self, transform: Transform) -> Self {
        self.transform = Some(transform);
        self
    }

    /// The settings the loader was made with.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// Hands a used batch's image memory back for the next batches: fresh
    /// memory for every batch costs page faults (for 32 RGB 256x256 patches,
    /// 25 MB each time). Optional; at most `prefetch + 1` buffers are kept.
    pub fn recycle(&self, batch: Batch) {
        let (mut v, _) = batch.images.into_raw_vec_and_offset();
        v.clear();
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() <= self.config.prefetch {
            pool.push(v);
        }
    }

    /// Batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.source.len();
        if self.config.drop_last {
            n / self.config.batch_size
        } else {
            n.div_ceil(self.config.batch_size)
        }
    }

    /// Whether an epoch yields no batch at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The order in which epoch `epoch` visits the source's samples.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.source.len()).collect();
        if self.config.shuffle {
            let mut rng = SampleRng::seed_from_u64(mix(self.config.seed, epoch, u64::MAX));
            order.shuffle(&mut rng);
        }
        order
    }

    /// Starts epoch `epoch`: an iterator over its batches, in order. Workers
    /// stop when the iterator is dropped. A batch whose sample failed to load
    /// comes out as an error in its place; later batches still follow.
    pub fn epoch(&self, epoch: u64) -> Epoch {
        let order = self.order(epoch);
        let bs = self.config.batch_size;
        let batches: Vec<Range<usize>> = (0..self.len())
            .map(|b| b * bs..((b + 1) * bs).min(order.len()))
            .collect();
        let n = batches.len();
        let window = self.config.prefetch;
        let shared = Arc::new(Shared {
            source: self.source.clone(),
            transform: self.transform.clone(),
            pool: self.pool.clone(),
            order,
            batches,
            seed: self.config.seed,
            epoch,
            state: Mutex::new(State {
                next_batch: 0,
                window_end: window,
                cancelled: false,
            }),
            wake: Condvar::new(),
        });
        let (tx, rx) = sync_channel(window);
        let workers = (0..self.config.workers.min(n.max(1)))
            .map(|_| {
                let shared = shared.clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    // Samples are the unit of parallelism here. Parallel loops
                    // inside readers and augmentations would hand their work
                    // to the global pool and wait, crowding the cores the
                    // other workers use; on a one-thread pool made of this
                    // thread they run inline.
                    match rayon::ThreadPoolBuilder::new()
                        .num_threads(1)
                        .use_current_thread()
                        .build()
                    {
                        Ok(pool) => pool.install(|| worker(&shared, &tx)),
                        Err(_) => worker(&shared, &tx),
                    }
                })
            })
            .collect();
        Epoch {
            shared,
            rx: Some(rx),
            workers,
            pending: BTreeMap::new(),
            next: 0,
            total: n,
        }
    }
}

struct Shared {
    source: Arc<dyn SampleSource>,
    transform: Option<Transform>,
    pool: Arc<Mutex<Vec<Vec<f32>>>>,
    order: Vec<usize>,
    batches: Vec<Range<usize>>,
    seed: u64,
    epoch: u64,
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    /// The next batch a worker will start.
    next_batch: usize,
    /// Workers may start batches below this: handed out + prefetch.
    window_end: usize,
    cancelled: bool,
}

type Message = (usize, Result<Batch, LoaderError>);

fn worker(shared: &Shared, tx: &SyncSender<Message>) {
    loop {
        let b = {
            let mut st = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
            while !st.cancelled
                && st.next_batch < shared.batches.len()
                && st.next_batch >= st.window_end
            {
                st = shared.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            if st.cancelled || st.next_batch >= shared.batches.len() {
                return;
            }
            st.next_batch += 1;
            st.next_batch - 1
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(shared, b)))
            .unwrap_or_else(|p| {
                let message = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(LoaderError::Panic { batch: b, message })
            });
        if tx.send((b, result)).is_err() {
            return;
        }
    }
}

fn build(shared: &Shared, b: usize) -> Result<Batch, LoaderError> {
    let range = shared.batches[b].clone();
    let buffer = shared
        .pool
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default();
    let mut batch = BatchBuilder::new(b, range.len(), buffer);
    for &i in &shared.order[range] {
        let mut s = shared.source.load(i).map_err(|e| LoaderError::Sample {
            sample: i,
            source: Box::new(e),
        })?;
        if let Some(t) = &shared.transform {
            // Seeded by the sample, not by the worker or the position in the
            // batch, so augmentation is reproducible.
            let mut rng = sample_rng(shared.seed, shared.epoch, i);
            t(&mut s, &mut rng).map_err(|e| LoaderError::Sample {
                sample: i,
                source: Box::new(LoaderError::Transform(e.to_string())),
            })?;
        }
        batch.push(s)?;
    }
    batch.finish()
}

/// The generator a transform gets for sample `index` of `epoch`: the
/// loader uses exactly this, so a sequential loop can reproduce its
/// augmentations.
pub fn sample_rng(seed: u64, epoch: u64, index: usize) -> SampleRng {
    SampleRng::seed_from_u64(mix(seed, epoch, index as u64))
}

/// Mixes seed, epoch and a stream id into one well-spread seed (SplitMix64
/// finaliser applied in a chain).
fn mix(seed: u64, epoch: u64, stream: u64) -> u64 {
    fn splitmix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
    splitmix(splitmix(splitmix(seed) ^ epoch) ^ stream)
}

/// The batches of one epoch, in order. Dropping it stops the workers.
pub struct Epoch {
    shared: Arc<Shared>,
    rx: Option<Receiver<Message>>,
    workers: Vec<JoinHandle<()>>,
    /// Batches that arrived ahead of their turn (at most `prefetch`).
    pending: BTreeMap<usize, Result<Batch, LoaderError>>,
    next: usize,
    total: usize,
}

impl Epoch {
    /// Batches in this epoch.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl Iterator for Epoch {
    type Item = Result<Batch, LoaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        loop {
            if let Some(r) = self.pending.remove(&self.next) {
                self.next += 1;
                let mut st = self
                    .shared
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                st.window_end += 1;
                drop(st);
                self.shared.wake.notify_all();
                return Some(r);
            }
            match self.rx.as_ref()?.recv() {
                Ok((b, r)) => {
                    self.pending.insert(b, r);
                }
                Err(_) => {
                    // Every worker is gone without sending this batch.
                    let b = self.next;
                    self.next = self.total;
                    return Some(Err(LoaderError::Panic {
                        batch: b,
                        message: "workers stopped before the epoch ended".into(),
                    }));
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total - self.next;
        (left, Some(left))
    }
}

impl Drop for Epoch {
    fn drop(&mut self) {
        {
            let mut st = self
                .shared
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            st.cancelled = true;
        }
        self.shared.wake.notify_all();
        // Workers blocked in `send` see the closed channel and exit.
        self.rx = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
