//! What failed token checks cost: a bounded memory of tokens refused recently, so that the
//! same forged token is verified once, and budgets of checks, so that a flood of different
//! forged tokens is refused before any signature check and cannot starve valid callers
//! (whose tokens are served from the cache of verified tokens first, whatever the budgets).
//!
//! Two budgets apply. Each peer has its own, spent by every check of a token new to the
//! server and given back when the token proves valid. The server has one in total, for
//! floods from many addresses: once it is spent, a peer with a failed check in the last
//! [`REMEMBER`] waits, while a peer that never failed is still checked.

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

/// Failed checks allowed: a steady rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Budget {
    pub(crate) per_second: f64,
    pub(crate) burst: f64,
}

impl Budget {
    /// Per peer by default: 20 a second, in bursts of 40.
    pub(crate) const PER_PEER: Self = Self {
        per_second: 20.0,
        burst: 40.0,
    };
    /// For the whole server by default: 200 a second, in bursts of 400.
    pub(crate) const TOTAL: Self = Self {
        per_second: 200.0,
        burst: 400.0,
    };

    fn wait(self, left: f64) -> Duration {
        Duration::from_secs_f64((1.0 - left) / self.per_second.max(f64::EPSILON))
    }
}

struct Bucket {
    left: f64,
    at: Instant,
    /// The last failed check, for a peer.
    failed_at: Option<Instant>,
}

impl Bucket {
    fn full(budget: Budget) -> Self {
        Self {
            left: budget.burst,
            at: Instant::now(),
            failed_at: None,
        }
    }

    fn refill(&mut self, budget: Budget) {
        let now = Instant::now();
        let gained = now.duration_since(self.at).as_secs_f64() * budget.per_second;
        self.left = (self.left + gained).min(budget.burst);
        self.at = now;
    }

    /// Whether the peer failed a check within [`REMEMBER`].
    fn failed_lately(&self) -> bool {
        self.failed_at.is_some_and(|t| t.elapsed() < REMEMBER)
    }
}

/// What a check spent, to give back when the token proves valid.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Spent {
    from_total: bool,
}

pub(crate) struct Failures {
    hasher: RandomState,
    refused: Mutex<HashMap<u64, Instant>>,
    peers: Mutex<HashMap<IpAddr, Bucket>>,
    total: Mutex<Bucket>,
    per_peer: Budget,
    in_total: Budget,
}

impl Failures {
    pub(crate) fn new(per_peer: Budget, in_total: Budget) -> Self {
        Self {
            hasher: RandomState::new(),
            refused: Mutex::default(),
            peers: Mutex::default(),
            total: Mutex::new(Bucket::full(in_total)),
            per_peer,
            in_total,
        }
    }

    fn key(&self, token: &str) -> u64 {
        self.hasher.hash_one(token)
    }

    /// Whether `token` was refused within the last [`REMEMBER`].
    pub(crate) fn refused_recently(&self, token: &str) -> bool {
        let mut refused = lock(&self.refused);
        // Nothing refused lately, as most of the time: no need to hash the token.
        if refused.is_empty() {
            return false;
        }
        let key = self.key(token);
        match refused.get(&key) {
            Some(until) if Instant::now() < *until => true,
            Some(_) => {
                refused.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Spends one check before a token new to the server is checked, so that concurrent
    /// checks cannot overdraw the budgets; when `peer` may not spend, how long it must wait.
    /// A check that succeeds gives it back ([`Failures::refund`]).
    pub(crate) fn spend(&self, peer: IpAddr) -> Result<Spent, Duration> {
        let mut peers = lock(&self.peers);
        if peers.len() >= PEERS && !peers.contains_key(&network_of(peer)) {
            // Peers with a full budget and no recent failure have nothing worth keeping.
            let budget = self.per_peer;
            peers.retain(|_, b| {
                b.refill(budget);
                b.left < budget.burst || b.failed_lately()
            });
            if peers.len() >= PEERS {
                peers.clear();
            }
        }
        let bucket = peers
            .entry(network_of(peer))
            .or_insert_with(|| Bucket::full(self.per_peer));
        bucket.refill(self.per_peer);
        if bucket.left < 1.0 {
            return Err(self.per_peer.wait(bucket.left));
        }
        let mut total = lock(&self.total);
        total.refill(self.in_total);
        let from_total = total.left >= 1.0;
        if from_total {
            total.left -= 1.0;
        } else if bucket.failed_lately() {
            return Err(self.in_total.wait(total.left));
        }
        bucket.left -= 1.0;
        Ok(Spent { from_total })
    }

    /// Gives back what a check spent on a token that proved valid (or could not be checked).
    pub(crate) fn refund(&self, peer: IpAddr, spent: &Spent) {
        if let Some(bucket) = lock(&self.peers).get_mut(&network_of(peer)) {
            bucket.left = (bucket.left + 1.0).min(self.per_peer.burst);
        }
        if spent.from_total {
            let mut total = lock(&self.total);
            total.left = (total.left + 1.0).min(self.in_total.burst);
        }
    }

    /// Records that `token`, from `peer`, was refused.
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
        if let Some(bucket) = lock(&self.peers).get_mut(&network_of(peer)) {
            bucket.failed_at = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_is_remembered() {
        let failures = Failures::new(Budget::PER_PEER, Budget::TOTAL);
        assert!(!failures.refused_recently("forged"));
        failures.record("forged", None);
        assert!(failures.refused_recently("forged"));
        assert!(!failures.refused_recently("other"));
    }

    #[test]
    fn a_peer_spends_its_burst_then_waits_for_the_rate() {
        let failures = Failures::new(
            Budget {
                per_second: 10.0,
                burst: 3.0,
            },
            Budget::TOTAL,
        );
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        for i in 0..2 {
            assert!(failures.spend(here).is_ok(), "check {i}");
        }
        let spent = failures.spend(here).unwrap();
        let wait = failures.spend(here).expect_err("out of budget");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(failures.spend(there).is_ok(), "another peer is unaffected");
        failures.refund(here, &spent);
        assert!(
            failures.spend(here).is_ok(),
            "a valid token gives its check back"
        );
        assert!(failures.spend(here).is_err());
        std::thread::sleep(Duration::from_millis(150));
        assert!(failures.spend(here).is_ok(), "the budget refills");
    }

    #[test]
    fn ipv6_peers_share_the_budget_of_their_slash_64() {
        let failures = Failures::new(
            Budget {
                per_second: 0.001,
                burst: 1.0,
            },
            Budget::TOTAL,
        );
        assert!(failures.spend("2001:db8::1".parse().unwrap()).is_ok());
        assert!(failures.spend("2001:db8::2".parse().unwrap()).is_err());
        assert!(failures.spend("2001:db8:0:1::2".parse().unwrap()).is_ok());
    }

    #[test]
    fn once_the_total_is_spent_only_peers_that_never_failed_are_checked() {
        let failures = Failures::new(
            Budget::PER_PEER,
            Budget {
                per_second: 0.001,
                burst: 2.0,
            },
        );
        let peers: Vec<IpAddr> = (1..=3)
            .map(|i| format!("198.51.100.{i}").parse().unwrap())
            .collect();
        for (i, peer) in peers.iter().take(2).enumerate() {
            assert!(failures.spend(*peer).is_ok());
            failures.record(&format!("forged-{i}"), Some(*peer));
        }
        let wait = failures.spend(peers[0]).expect_err("the total is spent");
        assert!(wait > Duration::from_secs(100), "{wait:?}");
        let spent = failures.spend(peers[2]).expect("a peer that never failed");
        assert_eq!(spent, Spent { from_total: false });
    }
}
