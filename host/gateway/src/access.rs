//! Refused requests that cannot be turned against the decision log. Each source has a budget of
//! refusals (a burst, refilled at a steady rate); past it a refused request is answered 429 with
//! `Retry-After` instead of 401/403. Refusals are not written one by one: [`Refusals`] counts
//! them per source, status, reason and subject, and [`crate::Gateway::flush_refusals`] writes one
//! access record per such group each interval (and at shutdown), with the count and the first and
//! last time. A flood therefore costs a bounded number of records per interval, whatever its
//! rate, while the metrics count every request.
//!
//! Both tables are bounded: once [`RefusalLimits::max_sources`] sources are tracked, the
//! budgets that have refilled are dropped, and a new source beyond that shares one budget and one
//! aggregate with every other untracked source (`other sources`), so spoofed or rotating
//! addresses cannot grow the memory of the gateway.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tollgate_manifest::Timestamp;

use crate::auth::Refusal;

/// The longest path kept in an access record, in bytes.
const MAX_PATH_BYTES: usize = 256;

/// The budget of refused requests per source, and how refusals are aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalLimits {
    /// Refusals a source may have at once before it is answered 429.
    pub burst: u32,
    /// One more refusal is allowed each `refill` (60 per minute: one second).
    pub refill: Duration,
    /// Sources tracked at most; beyond them, new sources share one budget and one aggregate.
    pub max_sources: usize,
    /// How often the aggregated refusals are written as access records.
    pub interval: Duration,
}

impl Default for RefusalLimits {
    /// 30 refusals at once, 60 a minute, 4096 sources, records written every minute.
    fn default() -> Self {
        Self {
            burst: 30,
            refill: Duration::from_secs(1),
            max_sources: 4096,
            interval: Duration::from_secs(60),
        }
    }
}

/// Where a request came from, as budgets count it: an IPv4 address, an IPv6 client by its /64
/// (anyone holding a /64 can use all of it), or every untracked source together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// An address (IPv6 masked to its /64).
    Address(IpAddr),
    /// A request without a peer address (an in-process call).
    Unknown,
    /// Sources beyond [`RefusalLimits::max_sources`], counted together.
    Others,
}

impl Source {
    /// The source of a peer address.
    pub fn of(peer: Option<SocketAddr>) -> Self {
        let Some(peer) = peer else {
            return Self::Unknown;
        };
        match peer.ip() {
            IpAddr::V4(v4) => Self::Address(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::Address(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self::Address(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }

    /// As the access record names it.
    pub fn label(self) -> String {
        match self {
            Self::Address(IpAddr::V4(v4)) => v4.to_string(),
            Self::Address(IpAddr::V6(v6)) => format!("{v6}/64"),
            Self::Unknown => "unknown".to_owned(),
            Self::Others => "other sources".to_owned(),
        }
    }
}

/// One refused request, as [`Refusals::note`] takes it.
#[derive(Debug, Clone)]
pub struct Refused<'a> {
    /// Where from.
    pub source: Source,
    /// The status answered.
    pub status: u16,
    /// Why.
    pub reason: &'a str,
    /// The token's subject, for a 403.
    pub subject: Option<&'a str>,
    /// Method.
    pub method: &'a str,
    /// Path.
    pub path: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    source: Source,
    status: u16,
    reason: String,
    subject: Option<String>,
}

#[derive(Debug, Clone)]
struct Group {
    count: u64,
    first_at: Timestamp,
    last_at: Timestamp,
    method: String,
    path: String,
}

/// The budgets: the theoretical arrival time of each source's next refusal (GCRA), so a budget
/// is one instant; a budget whose instant has passed is full and the same as none.
#[derive(Debug)]
struct Budgets {
    next: HashMap<Source, Instant>,
    others: Option<Instant>,
    pruned: Option<Instant>,
}

/// The budgets of refused requests and the refusals not yet written.
#[derive(Debug)]
pub struct Refusals {
    limits: RefusalLimits,
    budgets: Mutex<Budgets>,
    groups: Mutex<HashMap<GroupKey, Group>>,
}

impl Refusals {
    /// Empty tables under `limits`.
    pub fn new(limits: RefusalLimits) -> Self {
        Self {
            limits: RefusalLimits {
                burst: limits.burst.max(1),
                max_sources: limits.max_sources.max(1),
                ..limits
            },
            budgets: Mutex::new(Budgets {
                next: HashMap::new(),
                others: None,
                pruned: None,
            }),
            groups: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> RefusalLimits {
        self.limits
    }

    /// Takes one refusal from `source`'s budget: the source it was counted under (a new source
    /// beyond the table's bound is counted with the others), or how long until the budget allows
    /// the next one.
    pub fn charge(&self, source: Source, now: Instant) -> (Source, Result<(), Duration>) {
        let refill = self.limits.refill;
        let tolerance = refill.saturating_mul(self.limits.burst - 1);
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        let source = self.tracked(&mut budgets, source, now);
        let next = match source {
            Source::Others => budgets.others.get_or_insert(now),
            _ => budgets.next.entry(source).or_insert(now),
        };
        let arrival = (*next).max(now);
        let ahead = arrival - now;
        if ahead > tolerance {
            return (source, Err(ahead - tolerance));
        }
        *next = arrival + refill;
        (source, Ok(()))
    }

    /// `source`, or [`Source::Others`] when it is new and the table is full even after dropping
    /// the budgets that have refilled (done at most once per refill, so a flood of new sources
    /// costs no scan per request).
    fn tracked(&self, budgets: &mut Budgets, source: Source, now: Instant) -> Source {
        if budgets.next.contains_key(&source) || budgets.next.len() < self.limits.max_sources {
            return source;
        }
        let due = budgets
            .pruned
            .is_none_or(|at| now.saturating_duration_since(at) >= self.limits.refill);
        if due {
            budgets.next.retain(|_, next| *next > now);
            budgets.pruned = Some(now);
        }
        if budgets.next.len() < self.limits.max_sources {
            source
        } else {
            Source::Others
        }
    }

    /// Counts a refusal in its group (source, status, reason, subject); a new group beyond the
    /// table's bound is counted under [`Source::Others`].
    pub fn note(&self, refused: &Refused<'_>, at: Timestamp) {
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = GroupKey {
            source: refused.source,
            status: refused.status,
            reason: refused.reason.to_owned(),
            subject: refused.subject.map(str::to_owned),
        };
        if !groups.contains_key(&key) && groups.len() >= self.limits.max_sources {
            key.source = Source::Others;
        }
        groups
            .entry(key)
            .and_modify(|group| {
                group.count += 1;
                group.last_at = at;
            })
            .or_insert_with(|| Group {
                count: 1,
                first_at: at,
                last_at: at,
                method: refused.method.to_owned(),
                path: truncated(refused.path),
            });
    }

    /// Takes every group counted so far, oldest first.
    pub fn take(&self) -> Vec<Refusal> {
        let groups = std::mem::take(&mut *self.groups.lock().unwrap_or_else(|p| p.into_inner()));
        let mut refusals: Vec<Refusal> = groups
            .into_iter()
            .map(|(key, group)| Refusal {
                subject: key.subject,
                method: group.method,
                path: group.path,
                source: Some(key.source.label()),
                status: key.status,
                reason: key.reason,
                count: group.count,
                first_at: group.first_at,
                last_at: group.last_at,
            })
            .collect();
        refusals.sort_by(|a, b| {
            (a.first_at, &a.source, a.status).cmp(&(b.first_at, &b.source, b.status))
        });
        refusals
    }

    /// Puts back groups that could not be written, to be written with the next ones.
    pub fn restore(&self, refusals: Vec<Refusal>) {
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        for refusal in refusals {
            let source = refusal
                .source
                .as_deref()
                .and_then(|label| self.source_of_label(label))
                .unwrap_or(Source::Others);
            let key = GroupKey {
                source,
                status: refusal.status,
                reason: refusal.reason,
                subject: refusal.subject,
            };
            let entry = groups.entry(key).or_insert_with(|| Group {
                count: 0,
                first_at: refusal.first_at,
                last_at: refusal.last_at,
                method: refusal.method,
                path: refusal.path,
            });
            entry.count += refusal.count;
            entry.first_at = entry.first_at.min(refusal.first_at);
            entry.last_at = entry.last_at.max(refusal.last_at);
        }
    }

    fn source_of_label(&self, label: &str) -> Option<Source> {
        match label {
            "unknown" => Some(Source::Unknown),
            "other sources" => Some(Source::Others),
            _ => label
                .trim_end_matches("/64")
                .parse::<IpAddr>()
                .ok()
                .map(Source::Address),
        }
    }
}

/// `path`, cut to [`MAX_PATH_BYTES`] on a character boundary.
fn truncated(path: &str) -> String {
    if path.len() <= MAX_PATH_BYTES {
        return path.to_owned();
    }
    let mut end = MAX_PATH_BYTES;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &path[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst: u32, max_sources: usize) -> RefusalLimits {
        RefusalLimits {
            burst,
            refill: Duration::from_secs(3600),
            max_sources,
            interval: Duration::from_secs(60),
        }
    }

    fn address(text: &str) -> Source {
        Source::of(Some(text.parse().unwrap()))
    }

    #[test]
    fn a_source_past_its_burst_waits_for_the_refill_and_others_are_unaffected() {
        let refusals = Refusals::new(limits(3, 16));
        let now = Instant::now();
        let one = address("10.0.0.1:1000");
        for _ in 0..3 {
            assert_eq!(refusals.charge(one, now).1, Ok(()));
        }
        let (_, waited) = refusals.charge(one, now);
        assert_eq!(waited, Err(Duration::from_secs(3600)));
        assert_eq!(refusals.charge(address("10.0.0.2:1000"), now).1, Ok(()));
        // Once refilled, one more.
        let later = now + Duration::from_secs(3600);
        assert_eq!(refusals.charge(one, later).1, Ok(()));
        assert!(refusals.charge(one, later).1.is_err());
    }

    #[test]
    fn ipv6_clients_share_the_budget_of_their_64() {
        assert_eq!(
            address("[2001:db8:1:2::1]:80"),
            address("[2001:db8:1:2:ffff::9]:443")
        );
        assert_ne!(
            address("[2001:db8:1:2::1]:80"),
            address("[2001:db8:1:3::1]:80")
        );
        assert_eq!(address("[::ffff:10.0.0.1]:80"), address("10.0.0.1:9"));
        assert_eq!(address("[2001:db8:1:2::1]:80").label(), "2001:db8:1:2::/64");
    }

    #[test]
    fn many_sources_share_one_budget_and_one_group_past_the_bound() {
        let refusals = Refusals::new(limits(2, 4));
        let now = Instant::now();
        let at = Timestamp::now();
        let mut others = 0;
        for i in 0..1000u32 {
            let source = Source::Address(IpAddr::from(i.to_be_bytes()));
            let (counted, _) = refusals.charge(source, now);
            others += u32::from(counted == Source::Others);
            refusals.note(
                &Refused {
                    source: counted,
                    status: 401,
                    reason: "no bearer token",
                    subject: None,
                    method: "GET",
                    path: "/v1/schema",
                },
                at,
            );
        }
        assert_eq!(others, 996);
        let budgets = refusals.budgets.lock().unwrap();
        assert_eq!(budgets.next.len(), 4);
        drop(budgets);
        let written = refusals.take();
        assert_eq!(written.len(), 5, "{written:?}");
        assert_eq!(written.iter().map(|r| r.count).sum::<u64>(), 1000);
        assert!(refusals.take().is_empty());
        refusals.restore(written);
        assert_eq!(refusals.take().iter().map(|r| r.count).sum::<u64>(), 1000);
    }

    #[test]
    fn long_paths_are_cut_on_a_character_boundary() {
        let path = format!("/{}", "é".repeat(400));
        let cut = truncated(&path);
        assert!(cut.len() <= MAX_PATH_BYTES + "…".len());
        assert!(cut.ends_with('…'));
    }
}
