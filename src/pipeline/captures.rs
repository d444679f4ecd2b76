//! The capture tasks of an engine: each connector plans its own for every mapping (and for
//! the whole catalogue), mappings with a schedule are read on it instead, and every task gets
//! one partition of the leases topic so that several instances share them.

use std::collections::HashMap;
use std::sync::Arc;

use super::lease::LeaseKeeper;
use super::parts::EngineParts;
use super::stages::Task;
use super::state::StateLog;
use crate::capture::CaptureStatus;
use crate::capture::plan::{CaptureContext, CapturePlan};
use crate::capture::scheduled::ScheduledRead;
use crate::event::Side;
use crate::mapping::model::TableMapping;
use crate::mapping::schedule::Schedule;
use tokio::sync::watch;

/// What runs a planned capture.
enum Planned {
    /// A connector's task.
    Task(CapturePlan),
    /// A scheduled read of both tables of a mapping.
    Schedule(Arc<TableMapping>, Schedule),
}

/// Lease indexes, handed out in planning order; equal keys share one.
#[derive(Default)]
struct Leases {
    next: u32,
    by_key: HashMap<String, u32>,
}

impl Leases {
    fn for_key(&mut self, key: &str) -> u32 {
        if let Some(i) = self.by_key.get(key) {
            return *i;
        }
        let i = self.take(1);
        self.by_key.insert(key.to_string(), i);
        i
    }

    fn take(&mut self, n: u32) -> u32 {
        self.next += n;
        self.next - n
    }
}

/// Every capture of an engine, with its lease index.
pub struct CapturePlans {
    planned: Vec<(u32, Planned)>,
    leases: u32,
}

/// Plans the captures of `p`'s catalogue: per mapping in dependency order, the CRM's then
/// the ERP's (a scheduled mapping takes the two leases its sides would), then the
/// connectors' catalogue-wide captures.
pub fn plan_captures(p: &EngineParts) -> CapturePlans {
    let mut leases = Leases::default();
    let mut planned = Vec::new();
    for m in p.catalogue.ordered() {
        if let Some(schedule) = &m.schedule {
            let i = leases.take(2);
            planned.push((i, Planned::Schedule(m.clone(), schedule.clone())));
            continue;
        }
        for side in [Side::Crm, Side::Erp] {
            for plan in p.targets.side(side).connector().captures(m) {
                planned.push((leases.for_key(&plan.lease_key), Planned::Task(plan)));
            }
        }
    }
    for side in [Side::Crm, Side::Erp] {
        let connector = p.targets.side(side).connector();
        for plan in connector.catalogue_captures(&p.catalogue) {
            planned.push((leases.for_key(&plan.lease_key), Planned::Task(plan)));
        }
    }
    CapturePlans {
        planned,
        leases: leases.next,
    }
}

/// The topics of `p`'s engine, with one leases partition per planned capture lease (every
/// command that creates topics sizes them the same way).
pub fn topic_specs(p: &EngineParts) -> Vec<crate::bus::TopicSpec> {
    p.topics.specs(p.partitions, plan_captures(p).lease_count())
}

impl CapturePlans {
    /// Partitions of the leases topic: one per lease.
    pub fn lease_count(&self) -> u32 {
        self.leases
    }

    /// Starts every capture; returns the tasks and the progress of the continuous ones.
    pub fn spawn(
        self,
        p: &EngineParts,
        state: &StateLog,
        keeper: &LeaseKeeper,
        shutdown: &watch::Receiver<bool>,
    ) -> (Vec<Task>, Vec<CaptureStatus>) {
        let mut tasks = Vec::new();
        let mut statuses = Vec::new();
        for (index, planned) in self.planned {
            let lease = keeper.lease(index, self.leases);
            match planned {
                Planned::Schedule(mapping, schedule) => {
                    let name = format!("{}/schedule", mapping.name);
                    let read = ScheduledRead {
                        mapping,
                        schedule,
                        targets: p.targets.clone(),
                        bus: p.bus.clone(),
                        topics: p.topics.clone(),
                        state: state.clone(),
                        lease,
                    };
                    tasks.push((name, tokio::spawn(read.run(shutdown.clone()))));
                }
                Planned::Task(plan) => {
                    let status = CaptureStatus::new(&plan.name);
                    let cx = CaptureContext {
                        store: p.store.clone(),
                        bus: p.bus.clone(),
                        topics: p.topics.clone(),
                        state: state.clone(),
                        poll_interval: p.poll_interval,
                        overlap: p.overlap,
                        status: status.clone(),
                        lease,
                    };
                    tasks.push((plan.name, tokio::spawn(plan.task.run(cx, shutdown.clone()))));
                    statuses.push(status);
                }
            }
        }
        (tasks, statuses)
    }
}
