//! What an import keeps of the requests it reads, in memory bounded whatever the log's size: per
//! group (method and normalised path) a count, the recorded statuses and one representative
//! request (the first seen, its secrets already redacted); at most [`MAX_GROUPS`] groups, the
//! requests of any further group counted as dropped. The arrival times go into a per-second
//! [`Profile`](super::timing::Profile).

use std::collections::{BTreeMap, HashMap};

use super::normalise::group_key;
use super::redact::Redactor;
use super::timing::Profile;
use super::Record;

/// Distinct groups kept. Each holds at most one line's worth of text, so groups × the line cap
/// (16 KiB) bounds their memory at 64 MiB.
pub const MAX_GROUPS: usize = 4096;
/// Distinct statuses remembered per group.
const MAX_STATUSES: usize = 8;

/// One group of requests.
#[derive(Debug, Clone)]
pub struct Group {
    /// `METHOD /path/{id}?keys`.
    pub key: String,
    /// Requests seen.
    pub count: u64,
    /// The method.
    pub method: String,
    /// The representative's path and query, redacted and made literal for the loader.
    pub target: String,
    /// The representative's headers, the same way.
    pub headers: BTreeMap<String, String>,
    /// The representative's body, the same way.
    pub body: Option<String>,
    /// Recorded statuses and how often each was seen (at most eight distinct).
    pub statuses: BTreeMap<u16, u64>,
}

/// Everything kept.
#[derive(Debug)]
pub struct Aggregate {
    groups: HashMap<String, Group>,
    /// Requests of groups past [`MAX_GROUPS`].
    pub overflow: u64,
    /// Requests with a recorded time.
    pub profile: Profile,
    /// Requests without one.
    pub untimed: u64,
    /// Redaction of what the groups keep.
    pub redactor: Redactor,
}

impl Aggregate {
    /// Empty; `keep_secrets` as `--keep-secrets` says.
    pub fn new(keep_secrets: bool) -> Self {
        Aggregate {
            groups: HashMap::new(),
            overflow: 0,
            profile: Profile::default(),
            untimed: 0,
            redactor: Redactor {
                keep: keep_secrets,
                ..Redactor::default()
            },
        }
    }

    /// Adds one request.
    pub fn add(&mut self, r: Record) {
        // Every request is in the timing, those of dropped groups too: the replay's rate is the
        // log's.
        match r.at {
            Some(t) => self.profile.add(t),
            None => self.untimed += 1,
        }
        let key = group_key(&r.method, &r.target);
        let full = self.groups.len() >= MAX_GROUPS;
        let group = match self.groups.get_mut(&key) {
            Some(g) => g,
            None if full => {
                self.overflow += 1;
                return;
            }
            None => {
                let red = &mut self.redactor;
                let headers = r
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_ascii_lowercase(), red.header(n, v)))
                    .collect();
                let body = r.body.as_ref().map(|(mime, b)| red.body(mime, b));
                let g = Group {
                    key: key.clone(),
                    count: 0,
                    method: r.method.clone(),
                    target: red.target(&r.target),
                    headers,
                    body,
                    statuses: BTreeMap::new(),
                };
                self.groups.entry(key).or_insert(g)
            }
        };
        group.count += 1;
        if let Some(s) = r.status {
            let known = group.statuses.contains_key(&s);
            if known || group.statuses.len() < MAX_STATUSES {
                *group.statuses.entry(s).or_default() += 1;
            }
        }
    }

    /// The groups, most frequent first (ties by key, so the output is stable).
    pub fn into_groups(self) -> (Vec<Group>, Profile, Redactor) {
        let mut v: Vec<Group> = self.groups.into_values().collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        (v, self.profile, self.redactor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str, at: f64) -> Record {
        Record {
            at: Some(at),
            method: "GET".into(),
            target: target.into(),
            headers: vec![("Cookie".into(), "s=1".into())],
            body: None,
            status: Some(200),
        }
    }

    #[test]
    fn groups_count_and_keep_the_first_redacted() {
        let mut a = Aggregate::new(false);
        a.add(get("/users/1", 10.0));
        a.add(get("/users/2", 10.5));
        a.add(get("/", 11.0));
        let (groups, profile, red) = a.into_groups();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].key, "GET /users/{id}");
        assert_eq!(groups[0].count, 2);
        assert_eq!(groups[0].target, "/users/1");
        assert_eq!(groups[0].headers["cookie"], "${GAUNTLET_SECRET_COOKIE}");
        assert_eq!(profile.total(), 3);
        assert!(red.variables.contains("GAUNTLET_SECRET_COOKIE"));
    }

    #[test]
    fn groups_past_the_cap_are_counted_not_kept() {
        let mut a = Aggregate::new(false);
        for i in 0..MAX_GROUPS + 10 {
            a.add(get(&format!("/p{i}"), 0.0));
        }
        a.add(get("/p0", 0.0));
        assert_eq!(a.overflow, 10);
        assert_eq!(a.profile.total(), MAX_GROUPS as u64 + 11);
        let (groups, _, _) = a.into_groups();
        assert_eq!(groups.len(), MAX_GROUPS);
        assert_eq!(groups[0].count, 2);
    }
}
