//! The chaos run's report as text.

use std::fmt::Write as _;

use super::options::ChaosReport;
use crate::sandbox::FaultKind;

/// The report: faults by kind and system, kills, edits, records, durations, and PASS or FAIL
/// with each discrepancy.
pub fn render(r: &ChaosReport) -> String {
    let mut s = String::new();
    let systems: Vec<String> = {
        let mut v: Vec<String> = r.served.iter().map(|(s, _, _)| s.clone()).collect();
        v.dedup();
        v
    };
    let on = if r.bus == "kafka" {
        "Kafka (Tansu)"
    } else {
        "the embedded log"
    };
    let _ = writeln!(s, "Chaos run, seed {}, on {on}", r.seed);
    let _ = write!(s, "{:<22}", "fault");
    for sys in &systems {
        let _ = write!(s, " {sys:>10}");
    }
    let _ = writeln!(s, " {:>8}", "total");
    for kind in FaultKind::ALL {
        let _ = write!(s, "{:<22}", kind.name());
        for sys in &systems {
            let n: u64 = r
                .served
                .iter()
                .filter(|(s2, k, _)| s2 == sys && *k == kind)
                .map(|(_, _, n)| n)
                .sum();
            let _ = write!(s, " {n:>10}");
        }
        let _ = writeln!(s, " {:>8}", r.of_kind(kind));
    }
    let _ = writeln!(
        s,
        "{:<22} {:>width$}",
        "faults served",
        r.total_faults(),
        width = 11 * systems.len() + 9
    );
    let after_write = r
        .kills
        .iter()
        .filter(|k| k.after_write_ms.is_some())
        .count();
    let _ = writeln!(
        s,
        "SIGKILLs: {} ({} right after a write), at faults {:?}, down {:?} ms",
        r.kills.len(),
        after_write,
        r.kills.iter().map(|k| k.after_faults).collect::<Vec<_>>(),
        r.kills.iter().map(|k| k.down_ms).collect::<Vec<_>>(),
    );
    if r.bus == "kafka" {
        let _ = writeln!(
            s,
            "Broker SIGKILLs and restarts: {}, at faults {:?}, down {:?} ms",
            r.broker_restarts.len(),
            r.broker_restarts
                .iter()
                .map(|k| k.after_faults)
                .collect::<Vec<_>>(),
            r.broker_restarts
                .iter()
                .map(|k| k.down_ms)
                .collect::<Vec<_>>(),
        );
    }
    let _ = writeln!(
        s,
        "Edits: {} companies and {} persons created, {} updates",
        r.edits.companies, r.edits.persons, r.edits.updates
    );
    let _ = writeln!(
        s,
        "Records [accounts, customers, CRM contacts, ERP contacts]: expected {:?}, found {:?}",
        r.expected, r.found
    );
    let coupled: Vec<String> = r.coupled.iter().map(|(m, n)| format!("{m} {n}")).collect();
    let _ = writeln!(s, "Couplings: {}", coupled.join(", "));
    let _ = writeln!(
        s,
        "Durations: faults {:.1} s, settling {:.1} s, total {:.1} s",
        r.chaos.as_secs_f64(),
        r.settled.as_secs_f64(),
        r.total.as_secs_f64()
    );
    let _ = writeln!(s, "Data and instance log: {}", r.data_dir.display());
    if r.passed() {
        let _ = writeln!(
            s,
            "RESULT: PASS: both sides equal, every record coupled once, no twins, nothing in error or parked."
        );
    } else {
        let _ = writeln!(s, "RESULT: FAIL ({} problems):", r.problems.len());
        for p in &r.problems {
            let _ = writeln!(s, "  - {p}");
        }
    }
    s
}
