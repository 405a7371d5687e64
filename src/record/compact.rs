//! Histograms that shrink once they stop changing. A long run keeps one comparison slice per
//! request, lane and thread for every second or so, and one timeline second per lane and thread:
//! whole histograms (several KB each, about 20 KB for a slice) made memory grow with the run;
//! the occupied buckets of a finished one take a few hundred bytes. Recording stays cheap while a
//! histogram is recent (dense), and a late request into a compacted one is still counted.

use crate::model::hist::{self, Hist};

/// The precision a compact histogram keeps: what its readers need, no more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Comparison slices: 2 significant digits (1% steps), for verdicts at a 10% tolerance.
    Slice,
    /// Timeline seconds: 1 significant digit, for charts and the interval logs.
    Timeline,
}

impl Precision {
    fn new_hist(self) -> Hist {
        match self {
            Precision::Slice => hist::new_coarse_hist(),
            Precision::Timeline => hist::new_timeline_hist(),
        }
    }

    /// An empty histogram of this precision, whose buckets sparse cells name.
    fn template(self) -> &'static Hist {
        static SLICE: std::sync::OnceLock<Hist> = std::sync::OnceLock::new();
        static TIMELINE: std::sync::OnceLock<Hist> = std::sync::OnceLock::new();
        match self {
            Precision::Slice => SLICE.get_or_init(hist::new_coarse_hist),
            Precision::Timeline => TIMELINE.get_or_init(hist::new_timeline_hist),
        }
    }
}

#[derive(Debug, Clone)]
enum Repr {
    Dense(Hist),
    /// `(highest equivalent value, count)` of each occupied bucket, ascending. Values are at most
    /// a little over 60 s in µs and a bucket of one slice or second never counts 2^32 requests,
    /// so 32 bits each halve what a finished histogram keeps.
    Sparse(Vec<(u32, u32)>),
}

/// A histogram of microseconds at a fixed [`Precision`], dense while recent, sparse once
/// [`CompactHist::compact`] is called.
#[derive(Debug, Clone)]
pub struct CompactHist {
    precision: Precision,
    repr: Repr,
}

impl CompactHist {
    /// A whole (dense) histogram.
    pub fn dense(precision: Precision) -> Self {
        CompactHist {
            precision,
            repr: Repr::Dense(precision.new_hist()),
        }
    }

    /// An empty sparse one, for merge targets that would only be compacted again.
    pub fn empty_sparse(precision: Precision) -> Self {
        CompactHist {
            precision,
            repr: Repr::Sparse(Vec::new()),
        }
    }

    /// Whether only the occupied buckets are kept.
    pub fn is_sparse(&self) -> bool {
        matches!(self.repr, Repr::Sparse(_))
    }

    /// Counts one value.
    pub fn record(&mut self, us: u64) {
        match &mut self.repr {
            Repr::Dense(h) => hist::record_us(h, us),
            Repr::Sparse(cells) => {
                let v = self
                    .precision
                    .template()
                    .highest_equivalent(us.clamp(1, hist::MAX_US)) as u32;
                match cells.binary_search_by_key(&v, |c| c.0) {
                    Ok(i) => cells[i].1 = cells[i].1.saturating_add(1),
                    Err(i) => cells.insert(i, (v, 1)),
                }
            }
        }
    }

    fn cells(&self) -> Vec<(u32, u32)> {
        match &self.repr {
            Repr::Dense(h) => h
                .iter_recorded()
                .map(|v| {
                    (
                        h.highest_equivalent(v.value_iterated_to()) as u32,
                        v.count_at_value().min(u32::MAX as u64) as u32,
                    )
                })
                .collect(),
            Repr::Sparse(c) => c.clone(),
        }
    }

    /// Keeps only the occupied buckets.
    pub fn compact(&mut self) {
        if !self.is_sparse() {
            self.repr = Repr::Sparse(self.cells());
        }
    }

    /// The counts as a whole histogram again (for the results file and the verdicts).
    pub fn to_hist(&self) -> Hist {
        match &self.repr {
            Repr::Dense(h) => h.clone(),
            Repr::Sparse(cells) => {
                let mut h = self.precision.new_hist();
                for (v, n) in cells {
                    h.saturating_record_n(u64::from(*v), u64::from(*n));
                }
                h
            }
        }
    }

    /// Adds `o` into `self`; both have the same precision.
    pub fn merge(&mut self, o: &CompactHist) {
        if let (Repr::Dense(a), Repr::Dense(b)) = (&mut self.repr, &o.repr) {
            hist::merge(a, b);
            return;
        }
        let (a, b) = (self.cells(), o.cells());
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    out.push((x.0, x.1.saturating_add(y.1)));
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    out.push(*x);
                    i += 1;
                }
                (Some(_), Some(y)) | (None, Some(y)) => {
                    out.push(*y);
                    j += 1;
                }
                (Some(x), None) => {
                    out.push(*x);
                    i += 1;
                }
                (None, None) => break,
            }
        }
        self.repr = Repr::Sparse(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_and_merging_lose_no_count() {
        for p in [Precision::Slice, Precision::Timeline] {
            let mut a = CompactHist::dense(p);
            let mut b = CompactHist::dense(p);
            for us in [3, 150, 151, 9_000, 70_000_000] {
                a.record(us);
                b.record(us * 2);
            }
            let dense = a.to_hist();
            a.compact();
            assert!(a.is_sparse());
            assert_eq!(a.to_hist(), dense, "{p:?}: compaction keeps every bucket");
            a.record(150);
            a.merge(&b);
            let h = a.to_hist();
            assert_eq!(h.len(), 11, "{p:?}");
            assert_eq!(h.max(), b.to_hist().max(), "{p:?}");
        }
    }
}
