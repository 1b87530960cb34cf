//! CPU time of processes during a measured window, from `/proc/PID/stat`, so a run can
//! say how many microseconds of CPU each process spent per event (the ratios between
//! the collector and its ceilings are then explained, not only stated).

use serde::{Deserialize, Serialize};

/// Linux reports utime/stime in USER_HZ ticks, which is 100 on every mainstream
/// architecture (it is fixed ABI, independent of the kernel's HZ).
const TICKS_PER_S: f64 = 100.0;

/// User + system CPU seconds `pid` has used so far; `None` when it is gone or unreadable.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after its ')' are plain.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the man page, so utime (14) is index 11, stime 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_S)
}

/// Busy CPU seconds of the whole machine so far (all cores: user, nice, system, irq,
/// softirq, steal from the first line of `/proc/stat`).
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum();
    Some(busy as f64 / TICKS_PER_S)
}

/// Name under which [`Window::finish`] reports what the watched processes do not
/// explain: the machine's busy cores minus theirs, i.e. everything else running.
pub const OTHERS: &str = "other processes";

/// A process to account for: a name for the report and its pid.
#[derive(Debug, Clone)]
pub struct Watched {
    pub name: String,
    pub pid: u32,
}

/// Parses `NAME=PID` (command-line form of [`Watched`]).
pub fn parse_watched(text: &str) -> Result<Watched, String> {
    let (name, pid) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=PID"))?;
    let pid = pid
        .trim()
        .parse()
        .map_err(|e| format!("{text:?}: pid: {e}"))?;
    Ok(Watched {
        name: name.trim().to_string(),
        pid,
    })
}

/// CPU a process used during a window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CpuUse {
    /// Average cores busy (CPU seconds / wall seconds).
    pub cores: f64,
    /// CPU microseconds per event handled in the window.
    pub us_per_event: f64,
}

/// Samples taken at the start of a window.
pub struct Window {
    start: Vec<(Watched, Option<f64>)>,
    machine: Option<f64>,
}

impl Window {
    pub fn start(watched: &[Watched]) -> Self {
        Self {
            start: watched
                .iter()
                .map(|w| (w.clone(), cpu_seconds(w.pid)))
                .collect(),
            machine: machine_busy_seconds(),
        }
    }

    /// CPU per process since [`Window::start`], for `events` over `wall_s` seconds.
    pub fn finish(&self, events: u64, wall_s: f64) -> std::collections::BTreeMap<String, CpuUse> {
        let mut used: std::collections::BTreeMap<String, CpuUse> = self
            .start
            .iter()
            .filter_map(|(w, before)| {
                let used = cpu_seconds(w.pid)? - (*before)?;
                Some((
                    w.name.clone(),
                    CpuUse {
                        cores: used / wall_s.max(1e-3),
                        us_per_event: used * 1e6 / events.max(1) as f64,
                    },
                ))
            })
            .collect();
        // Everything else the machine did meanwhile: other work on a shared machine is
        // the noise in these numbers, so it is reported next to them.
        if let (Some(before), Some(now)) = (self.machine, machine_busy_seconds()) {
            let watched: f64 = used.values().map(|c| c.cores * wall_s.max(1e-3)).sum();
            let others = (now - before - watched).max(0.0);
            used.insert(
                OTHERS.to_string(),
                CpuUse {
                    cores: others / wall_s.max(1e-3),
                    us_per_event: others * 1e6 / events.max(1) as f64,
                },
            );
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_time_grows_with_work() {
        let me = std::process::id();
        let before = cpu_seconds(me).unwrap_or(-1.0);
        assert!(before >= 0.0);
        let window = Window {
            start: vec![(
                Watched {
                    name: "me".into(),
                    pid: me,
                },
                Some(before),
            )],
            machine: machine_busy_seconds(),
        };
        // Spin until the kernel has charged at least a few ticks (bounded in wall time:
        // a loaded machine may give this thread little CPU).
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while cpu_seconds(me).unwrap_or(0.0) < before + 0.05
            && start.elapsed() < std::time::Duration::from_secs(10)
        {
            for _ in 0..100_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
        }
        std::hint::black_box(x);
        let used = window.finish(1000, start.elapsed().as_secs_f64());
        assert!(used["me"].cores > 0.0, "{used:?}");
        assert!(
            used["me"].us_per_event >= 40.0,
            "0.05 s over 1000 events: {used:?}"
        );
        assert!(cpu_seconds(u32::MAX).is_none());
        assert!(used.contains_key(OTHERS), "{used:?}");
    }

    #[test]
    fn watched_is_name_equals_pid() {
        let w = parse_watched("collector=42").unwrap();
        assert_eq!((w.name.as_str(), w.pid), ("collector", 42));
        assert!(parse_watched("collector").is_err());
        assert!(parse_watched("c=x").is_err());
    }
}
