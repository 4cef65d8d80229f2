//! Helpers shared by the benchmarks (`cargo bench --bench <name>`): timing with medians and
//! percentiles, peak resident memory from `/proc/self/status`, and a plain-text table.
//!
//! Benchmarks only print figures; nothing here asserts a timing.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Times `iters` runs of `f` (after one untimed warm-up run) and returns the samples.
pub fn time_runs<T>(iters: usize, mut f: impl FnMut() -> T) -> Samples {
    std::hint::black_box(f());
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        let out = f();
        samples.push(start.elapsed());
        std::hint::black_box(out);
    }
    Samples::new(samples)
}

/// A set of measured durations.
#[derive(Debug, Clone)]
pub struct Samples {
    sorted: Vec<Duration>,
}

impl Samples {
    /// Takes ownership of raw samples (in any order).
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Samples { sorted: samples }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// True without samples.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The `p`-th percentile (0–100, nearest rank); zero without samples.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    /// The median.
    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    /// The fastest sample.
    pub fn min(&self) -> Duration {
        self.sorted.first().copied().unwrap_or_default()
    }
}

/// Peak resident set size of this process (`VmHWM`), in KiB, when `/proc` has it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A duration in the unit that reads best (`812 ns`, `4.21 µs`, `17.3 ms`, `1.42 s`).
pub fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Seconds as a duration (for figures that come back from another process).
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// Bytes per second as MB/s (10^6 bytes).
pub fn fmt_mb_per_s(bytes: usize, d: Duration) -> String {
    if d.is_zero() {
        return "-".into();
    }
    format!("{:.1} MB/s", bytes as f64 / 1e6 / d.as_secs_f64())
}

/// Items per second, rounded (`123 456/s`).
pub fn fmt_rate(items: usize, d: Duration) -> String {
    if d.is_zero() {
        return "-".into();
    }
    format!("{}/s", group_thousands((items as f64 / d.as_secs_f64()).round() as u64))
}

/// `1234567` → `1 234 567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A plain-text table: a header row, aligned columns (first column left, the rest right).
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Table { headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    /// Adds a row (missing cells print empty).
    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        self.rows.push(cells);
        self
    }

    /// The table as text, one line per row, ending with a newline.
    pub fn render(&self) -> String {
        let cols = self.headers.len().max(self.rows.iter().map(Vec::len).max().unwrap_or(0));
        let cell = |row: &[String], i: usize| row.get(i).cloned().unwrap_or_default();
        let mut widths = vec![0usize; cols];
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(cell(row, i).chars().count());
            }
        }
        let line = |row: &[String]| {
            let mut out = String::new();
            for (i, w) in widths.iter().enumerate() {
                let c = cell(row, i);
                let pad = " ".repeat(w - c.chars().count());
                if i == 0 {
                    out.push_str(&c);
                    out.push_str(&pad);
                } else {
                    out.push_str("  ");
                    out.push_str(&pad);
                    out.push_str(&c);
                }
            }
            out.trim_end().to_owned()
        };
        let mut out = line(&self.headers);
        out.push('\n');
        out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// True when run by `cargo bench` (which passes `--bench`); `cargo test --all-targets` runs
/// bench binaries without it, and the benchmarks then only say they were skipped.
pub fn benchmarking() -> bool {
    let yes = std::env::args().any(|a| a == "--bench");
    if !yes {
        println!("benchmark skipped: run it with `cargo bench --bench <name>`");
    }
    yes
}

/// An iteration count from the environment variable `name`, or `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}
