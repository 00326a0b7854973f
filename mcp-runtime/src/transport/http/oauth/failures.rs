//! What failed token checks cost: a bounded memory of tokens refused recently, so that the
//! same forged token is verified once, and a budget of failed checks per peer, so that a
//! flood of different forged tokens from one client is refused before any signature check
//! and cannot starve valid callers (whose tokens are served from the cache of verified
//! tokens first, whatever their peer's budget).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::connection::session::{lock, network_of};

/// How long a refused token is remembered.
const REMEMBER: Duration = Duration::from_secs(30);
/// The most refused tokens remembered.
const REMEMBERED: usize = 10_000;
/// The most peers whose budgets are tracked.
const PEERS: usize = 10_000;

/// Failed checks allowed per peer: a steady rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Budget {
    pub(crate) per_second: f64,
    pub(crate) burst: f64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            per_second: 20.0,
            burst: 40.0,
        }
    }
}

struct Bucket {
    left: f64,
    at: Instant,
}

pub(crate) struct Failures {
    hasher: RandomState,
    refused: Mutex<HashMap<u64, Instant>>,
    peers: Mutex<HashMap<IpAddr, Bucket>>,
    budget: Budget,
}

impl Failures {
    pub(crate) fn new(budget: Budget) -> Self {
        Self {
            hasher: RandomState::new(),
            refused: Mutex::default(),
            peers: Mutex::default(),
            budget,
        }
    }

    fn key(&self, token: &str) -> u64 {
        self.hasher.hash_one(token)
    }

    /// Whether `token` was refused within the last [`REMEMBER`].
    pub(crate) fn refused_recently(&self, token: &str) -> bool {
        let key = self.key(token);
        let mut refused = lock(&self.refused);
        match refused.get(&key) {
            Some(until) if Instant::now() < *until => true,
            Some(_) => {
                refused.remove(&key);
                false
            }
            None => false,
        }
    }

    /// How long `peer` must wait, when it has no failed check left to spend.
    pub(crate) fn wait_of(&self, peer: IpAddr) -> Option<Duration> {
        let mut peers = lock(&self.peers);
        let bucket = peers.get_mut(&network_of(peer))?;
        self.refill(bucket);
        (bucket.left < 1.0).then(|| {
            Duration::from_secs_f64((1.0 - bucket.left) / self.budget.per_second.max(f64::EPSILON))
        })
    }

    /// Records a failed check of `token` from `peer`.
    pub(crate) fn record(&self, token: &str, peer: Option<IpAddr>) {
        let now = Instant::now();
        {
            let mut refused = lock(&self.refused);
            if refused.len() >= REMEMBERED {
                refused.retain(|_, until| now < *until);
                if refused.len() >= REMEMBERED {
                    refused.clear();
                }
            }
            refused.insert(self.key(token), now + REMEMBER);
        }
        let Some(peer) = peer else { return };
        let mut peers = lock(&self.peers);
        if peers.len() >= PEERS && !peers.contains_key(&network_of(peer)) {
            // Peers whose budgets have refilled have nothing worth keeping.
            let (rate, burst) = (self.budget.per_second, self.budget.burst);
            peers.retain(|_, b| b.left + b.at.elapsed().as_secs_f64() * rate < burst);
            if peers.len() >= PEERS {
                peers.clear();
            }
        }
        let bucket = peers.entry(network_of(peer)).or_insert(Bucket {
            left: self.budget.burst,
            at: now,
        });
        self.refill(bucket);
        bucket.left = (bucket.left - 1.0).max(0.0);
    }

    fn refill(&self, bucket: &mut Bucket) {
        let now = Instant::now();
        let gained = now.duration_since(bucket.at).as_secs_f64() * self.budget.per_second;
        bucket.left = (bucket.left + gained).min(self.budget.burst);
        bucket.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_is_remembered() {
        let failures = Failures::new(Budget::default());
        assert!(!failures.refused_recently("forged"));
        failures.record("forged", None);
        assert!(failures.refused_recently("forged"));
        assert!(!failures.refused_recently("other"));
    }

    #[test]
    fn a_peer_spends_its_burst_then_waits_for_the_rate() {
        let failures = Failures::new(Budget {
            per_second: 10.0,
            burst: 3.0,
        });
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        for i in 0..3 {
            assert_eq!(failures.wait_of(here), None, "failure {i}");
            failures.record(&format!("t{i}"), Some(here));
        }
        let wait = failures.wait_of(here).expect("out of budget");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert_eq!(failures.wait_of(there), None, "another peer is unaffected");
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(failures.wait_of(here), None, "the budget refills");
    }

    #[test]
    fn ipv6_peers_share_the_budget_of_their_slash_64() {
        let failures = Failures::new(Budget {
            per_second: 0.001,
            burst: 1.0,
        });
        failures.record("t", Some("2001:db8::1".parse().unwrap()));
        assert!(failures.wait_of("2001:db8::2".parse().unwrap()).is_some());
        assert!(
            failures
                .wait_of("2001:db8:0:1::2".parse().unwrap())
                .is_none()
        );
    }
}
