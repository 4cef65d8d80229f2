//! Test and benchmark knobs shared by both sandboxes: latency, fault injection, call counters.
//!
//! A sandbox consults its [`Knobs`] once per HTTP request ([`Knobs::before_request`]) and once
//! per logical call ([`Knobs::on_call`], also for each item of a Magento `multiCall`). Random
//! injection is reproducible (seeded); targeted [`Rule`]s fail chosen calls, e.g. "the stock
//! update of SKU X" or "the second `sale.order.create`".

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dxr::Value;

/// What to inject instead of a normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Inject {
    /// Answer with the peer's generic fault (Magento fault 1 / Odoo fault 1); per multiCall item
    /// this is an inline fault.
    Fault,
    /// Magento's deadlock fault (`SQLSTATE[40001]: Serialization failure: 1213 Deadlock ...`);
    /// inside a multiCall it shows as the generic fault 1 "Internal Error".
    Deadlock,
    /// HTTP 500 with an empty body (a PHP fatal).
    Http500,
    /// Hold the request for [`Knobs::hang`] before answering (client sees a timeout).
    Timeout,
    /// Carry the call out, then hold the request like [`Inject::Timeout`]: the write is done
    /// but its answer never arrives (the worst case for a client killed or timing out). On the
    /// OpenERP sandbox this is the same as `Timeout`, which always applies the call first; on
    /// the Magento sandbox the multiCall items after the held one are not run. Test-only.
    HoldAfter,
    /// Close the connection without an answer.
    Drop,
}

/// Matches calls for a targeted injection.
pub type Matcher = Box<dyn Fn(&str, &[Value]) -> bool + Send + Sync>;

/// A targeted injection: calls accepted by `matcher` get `inject`, `times` times (forever when
/// `None`).
pub struct Rule {
    /// Which calls (method name, params).
    pub matcher: Matcher,
    /// What they get.
    pub inject: Inject,
    /// How many more times; `None` = every time.
    pub times: Option<u32>,
}

impl Rule {
    /// Rule for every call of `method` whose parameters mention `needle` anywhere (in any string,
    /// at any depth); `needle = ""` matches every call of that method.
    pub fn method_with(method: &str, needle: &str, inject: Inject, times: Option<u32>) -> Rule {
        let method = method.to_owned();
        let needle = needle.to_owned();
        Rule {
            matcher: Box::new(move |m, params| {
                m == method && (needle.is_empty() || params.iter().any(|p| mentions(p, &needle)))
            }),
            inject,
            times,
        }
    }
}

/// True when `needle` equals some string or number inside `v`.
pub fn mentions(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s == needle,
        Value::Integer(i) => i.to_string() == needle,
        Value::Long(i) => i.to_string() == needle,
        Value::Struct(m) => m.values().any(|x| mentions(x, needle)),
        Value::Array(a) => a.iter().any(|x| mentions(x, needle)),
        _ => false,
    }
}

#[derive(Default)]
struct Random {
    rate: f64,
    kinds: Vec<Inject>,
    rng: Option<fastrand::Rng>,
}

/// Latency, injection and counters of one sandbox. Shared by reference; all methods take `&self`.
pub struct Knobs {
    latency_us: AtomicU64,
    hang_ms: AtomicU64,
    random: Mutex<Random>,
    rules: Mutex<Vec<Rule>>,
    counts: Mutex<BTreeMap<String, u64>>,
    requests: AtomicU64,
    injected: AtomicU64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            latency_us: AtomicU64::new(0),
            hang_ms: AtomicU64::new(30_000),
            random: Mutex::new(Random::default()),
            rules: Mutex::new(Vec::new()),
            counts: Mutex::new(BTreeMap::new()),
            requests: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Knobs {
    /// Sets the delay added to every HTTP request.
    pub fn set_latency(&self, d: Duration) {
        self.latency_us.store(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The delay added to every HTTP request.
    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }

    /// Sets how long an injected [`Inject::Timeout`] holds the request.
    pub fn set_hang(&self, d: Duration) {
        self.hang_ms.store(u64::try_from(d.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// How long an injected timeout holds the request.
    pub fn hang(&self) -> Duration {
        Duration::from_millis(self.hang_ms.load(Ordering::Relaxed))
    }

    /// Injects one of `kinds` into a `rate` share (0.0–1.0) of requests, reproducibly from `seed`.
    pub fn set_random_faults(&self, rate: f64, kinds: &[Inject], seed: u64) {
        let mut r = lock(&self.random);
        r.rate = rate.clamp(0.0, 1.0);
        r.kinds = kinds.to_vec();
        r.rng = Some(fastrand::Rng::with_seed(seed));
    }

    /// Stops random injection (targeted rules stay).
    pub fn clear_random_faults(&self) {
        *lock(&self.random) = Random::default();
    }

    /// Adds a targeted rule.
    pub fn add_rule(&self, rule: Rule) {
        lock(&self.rules).push(rule);
    }

    /// Removes every targeted rule.
    pub fn clear_rules(&self) {
        lock(&self.rules).clear();
    }

    /// Call once per HTTP request: counts it, sleeps the latency, and rolls the random
    /// injection for request-level kinds (HTTP 500, timeout, drop, fault).
    pub async fn before_request(&self) -> Option<Inject> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let latency = self.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let picked = {
            let mut guard = lock(&self.random);
            let Random { rate, kinds, rng } = &mut *guard;
            match rng.as_mut() {
                Some(rng) if !kinds.is_empty() => {
                    if rng.f64() < *rate {
                        Some(kinds[rng.usize(0..kinds.len())])
                    } else {
                        None
                    }
                }
                _ => None,
            }
        };
        if picked.is_some() {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
        picked
    }

    /// Call once per logical call: counts `method` and returns a targeted injection, if any rule
    /// matches (the first matching rule with times left wins).
    pub fn on_call(&self, method: &str, params: &[Value]) -> Option<Inject> {
        *lock(&self.counts).entry(method.to_owned()).or_insert(0) += 1;
        let mut rules = lock(&self.rules);
        for rule in rules.iter_mut() {
            if rule.times == Some(0) || !(rule.matcher)(method, params) {
                continue;
            }
            if let Some(t) = rule.times.as_mut() {
                *t -= 1;
            }
            self.injected.fetch_add(1, Ordering::Relaxed);
            return Some(rule.inject);
        }
        None
    }

    /// Logical calls of `method` so far.
    pub fn count(&self, method: &str) -> u64 {
        lock(&self.counts).get(method).copied().unwrap_or(0)
    }

    /// Logical calls per method so far.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        lock(&self.counts).clone()
    }

    /// Sum of logical calls whose method satisfies `pred` (e.g. every write method).
    pub fn count_where(&self, pred: impl Fn(&str) -> bool) -> u64 {
        lock(&self.counts).iter().filter(|(k, _)| pred(k)).map(|(_, v)| *v).sum()
    }

    /// HTTP requests so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Injections so far (random and targeted).
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Resets the counters (not the injection settings).
    pub fn reset_counts(&self) {
        lock(&self.counts).clear();
        self.requests.store(0, Ordering::Relaxed);
        self.injected.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value;

    #[tokio::test]
    async fn random_injection_is_reproducible_and_respects_the_rate() {
        let run = || async {
            let k = Knobs::default();
            k.set_random_faults(0.1, &[Inject::Fault, Inject::Http500], 42);
            let mut out = Vec::new();
            for _ in 0..1000 {
                out.push(k.before_request().await);
            }
            out
        };
        let a = run().await;
        let b = run().await;
        assert_eq!(a, b);
        let hits = a.iter().filter(|x| x.is_some()).count();
        assert!((50..=150).contains(&hits), "{hits}");
    }

    #[test]
    fn rules_match_by_method_and_argument_and_run_out() {
        let k = Knobs::default();
        k.add_rule(Rule::method_with("cataloginventory_stock_item.update", "SKU-2", Inject::Fault, Some(1)));
        let p1 = [value::string("SKU-1")];
        let p2 = [value::string("SKU-2")];
        assert_eq!(k.on_call("cataloginventory_stock_item.update", &p1), None);
        assert_eq!(k.on_call("cataloginventory_stock_item.update", &p2), Some(Inject::Fault));
        assert_eq!(k.on_call("cataloginventory_stock_item.update", &p2), None);
        assert_eq!(k.count("cataloginventory_stock_item.update"), 3);
        assert_eq!(k.count_where(|m| m.ends_with(".update")), 3);
        k.reset_counts();
        assert_eq!(k.count("cataloginventory_stock_item.update"), 0);
    }
}
