//! The review table printed at the end of a full synchronisation (Business Central's "Full
//! Synch. Review": status per mapping and direction, with the job counters).

use super::state::JobState;

/// The review table of `jobs`, one line per mapping and direction.
pub fn render_review(jobs: &[JobState]) -> String {
    let mut out = format!(
        "{:<12} {:<7} {:<9} {:>7} {:>8} {:>8} {:>7} {:>7} {:>6} {:>6} {:>4}\n",
        "mapping",
        "dir",
        "status",
        "records",
        "inserted",
        "modified",
        "coupled",
        "skipped",
        "parked",
        "failed",
        "runs"
    );
    for j in jobs {
        let c = &j.counts;
        out.push_str(&format!(
            "{:<12} {:<7} {:<9} {:>7} {:>8} {:>8} {:>7} {:>7} {:>6} {:>6} {:>4}\n",
            j.mapping,
            j.direction,
            j.status.as_str(),
            j.total,
            c.inserted,
            c.modified,
            c.coupled,
            c.skipped,
            c.parked,
            c.failed,
            j.runs
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fullsync::state::JobStatus;

    #[test]
    fn one_line_per_job_with_its_counts() {
        let mut j = JobState::pending("CUSTOMER", "to_crm");
        j.status = JobStatus::Finished;
        j.total = 12;
        j.counts.inserted = 5;
        j.counts.failed = 1;
        j.runs = 1;
        let t = render_review(&[j, JobState::pending("CONTACT", "to_erp")]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("mapping"));
        let cols: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cols,
            [
                "CUSTOMER", "to_crm", "finished", "12", "5", "0", "0", "0", "0", "1", "1"
            ]
        );
        assert!(lines[2].contains("pending"));
    }
}
