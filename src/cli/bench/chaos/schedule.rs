//! The seeded random fault schedule: which fault comes next, on which system and requests, and
//! when the instance is killed. The same seed gives the same sequence of choices (the moments
//! they land on depend on the machine's pace).

use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::event::System;
use crate::sandbox::{Fault, Lost, Requests};

/// How a kill picks its moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillMoment {
    /// As soon as either system has just made a write (between a write and its coupling, or
    /// its outcome, with luck).
    AfterWrite,
    /// Whenever the schedule says.
    Anytime,
}

/// The schedule of one run.
#[derive(Debug)]
pub struct Schedule {
    rng: ChaCha8Rng,
    /// The longest an answer may take before the client gives up.
    client_timeout: Duration,
    kill_at: Vec<u64>,
    restart_at: Vec<u64>,
}

impl Schedule {
    /// The schedule for `seed`: `kills` kills and `restarts` broker restarts spread over the
    /// first `faults` faults served (the restarts half a slot off the kills). With no restart,
    /// the same seed gives the same schedule as before restarts existed.
    pub fn new(
        seed: u64,
        faults: u64,
        kills: u32,
        restarts: u32,
        client_timeout: Duration,
    ) -> Schedule {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut kill_at: Vec<u64> = (0..kills)
            .map(|k| {
                let slot = faults.max(1) / (u64::from(kills) + 1);
                let jitter = rng.random_range(0..slot.max(1) / 2 + 1);
                slot * (u64::from(k) + 1) - slot / 4 + jitter
            })
            .collect();
        kill_at.sort_unstable();
        let mut restart_at: Vec<u64> = (0..restarts)
            .map(|k| {
                let slot = faults.max(1) / (u64::from(restarts) + 1);
                let jitter = rng.random_range(0..slot.max(1) / 4 + 1);
                slot * (u64::from(k) + 1) - slot / 2 + jitter
            })
            .collect();
        restart_at.sort_unstable();
        Schedule {
            rng,
            client_timeout,
            kill_at,
            restart_at,
        }
    }

    /// The number of faults served after which the `k`-th kill comes.
    pub fn kill_at(&self, k: usize) -> Option<u64> {
        self.kill_at.get(k).copied()
    }

    /// The number of faults served after which the `k`-th broker restart comes.
    pub fn restart_at(&self, k: usize) -> Option<u64> {
        self.restart_at.get(k).copied()
    }

    /// How long the broker stays down after its SIGKILL.
    pub fn broker_down(&mut self) -> Duration {
        Duration::from_millis(self.rng.random_range(0..3000))
    }

    /// How the next kill picks its moment, and how long the instance stays down.
    pub fn kill(&mut self) -> (KillMoment, Duration) {
        let moment = if self.rng.random_bool(0.5) {
            KillMoment::AfterWrite
        } else {
            KillMoment::Anytime
        };
        (
            moment,
            Duration::from_millis(self.rng.random_range(0..1500)),
        )
    }

    /// A pause before the next fault on one system.
    pub fn gap(&mut self) -> Duration {
        Duration::from_millis(self.rng.random_range(30..400))
    }

    /// A number in `0..n`, for the edits.
    pub fn pick(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    /// The next fault, on one of `systems`.
    pub fn next_fault(&mut self, systems: &[System]) -> (System, Fault) {
        let system = systems[self.rng.random_range(0..systems.len())];
        let on = match self.rng.random_range(0..10) {
            0..=2 => Requests::Collection,
            3..=4 => Requests::Single,
            5..=8 => Requests::Write,
            _ => Requests::Any,
        };
        let fault = match self.rng.random_range(0..100) {
            // A 429 storm, as service protection sends it.
            0..=17 => Fault::Throttle {
                count: self.rng.random_range(3..12),
                retry_after: Duration::from_secs(1),
            },
            // A 5xx burst, half of them saying when to come back.
            18..=37 => Fault::ServerError {
                count: self.rng.random_range(1..5),
                status: [500, 502, 503, 504][self.rng.random_range(0..4)],
                retry_after: self
                    .rng
                    .random_bool(0.5)
                    .then(|| Duration::from_secs(self.rng.random_range(1..3))),
                on,
            },
            38..=45 => Fault::Timeout {
                count: 1,
                hold: self.client_timeout + Duration::from_millis(500),
                on,
            },
            46..=57 => Fault::Reset {
                count: 1,
                lost: if self.rng.random_bool(0.5) {
                    Lost::Request
                } else {
                    Lost::Response
                },
                on,
            },
            58..=71 => Fault::Slow {
                count: self.rng.random_range(1..4),
                delay: self.client_timeout.mul_f64(self.rng.random_range(0.1..0.6)),
                on,
            },
            72..=82 => Fault::Truncated {
                count: 1,
                on: if on == Requests::Any {
                    Requests::Collection
                } else {
                    on
                },
            },
            83..=91 => Fault::MalformedBody {
                count: 1,
                on: if on == Requests::Any {
                    Requests::Single
                } else {
                    on
                },
            },
            92..=95 => Fault::Unavailable {
                count: self.rng.random_range(1..4),
            },
            _ => Fault::MalformedPage { count: 1 },
        };
        (system, fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let systems = [crate::systems::DATAVERSE, crate::systems::BC];
        let t = Duration::from_secs(2);
        let mut a = Schedule::new(7, 1000, 4, 0, t);
        let mut b = Schedule::new(7, 1000, 4, 0, t);
        let mut c = Schedule::new(8, 1000, 4, 0, t);
        let xs: Vec<_> = (0..50).map(|_| a.next_fault(&systems)).collect();
        let ys: Vec<_> = (0..50).map(|_| b.next_fault(&systems)).collect();
        let zs: Vec<_> = (0..50).map(|_| c.next_fault(&systems)).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        assert_eq!(a.kill_at, b.kill_at);
        // Kills are spread over the run, in order, within the faults.
        assert_eq!(a.kill_at.len(), 4);
        assert!(a.kill_at.windows(2).all(|w| w[0] <= w[1]));
        assert!(a.kill_at.iter().all(|k| *k > 0 && *k < 1000));
        // Broker restarts are spread too, and do not change the kills of the seed.
        let r = Schedule::new(7, 1000, 4, 3, t);
        assert_eq!(r.kill_at, a.kill_at);
        assert_eq!(r.restart_at.len(), 3);
        assert!(r.restart_at.windows(2).all(|w| w[0] < w[1]));
        assert!(r.restart_at.iter().all(|k| *k > 0 && *k < 1000));
        assert!(a.restart_at.is_empty());
        // Every timeout outlasts the client's timeout; every slow answer is within it.
        for (_, f) in &xs {
            match f {
                Fault::Timeout { hold, .. } => assert!(*hold > t),
                Fault::Slow { delay, .. } => assert!(*delay < t),
                _ => {}
            }
        }
    }
}
