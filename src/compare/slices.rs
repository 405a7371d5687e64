//! Slices as the bootstrap sees them: each slice's latency histogram flattened onto one shared
//! grid of values, so that pooling a resample is adding short arrays.

use std::collections::BTreeMap;

use crate::model::hist::Hist;

/// One slice of one path.
#[derive(Debug, Clone, Default)]
pub struct Slice {
    /// Sparse `(grid index, count)` pairs.
    pub cells: Vec<(u32, u64)>,
    /// Completed requests.
    pub count: u64,
    /// Failed requests.
    pub errors: u64,
}

/// The slices of both paths on a common grid.
#[derive(Debug, Clone)]
pub struct SliceSet {
    /// The latency value of each grid cell, ascending (µs).
    pub grid: Vec<u64>,
    /// Candidate slices.
    pub a: Vec<Slice>,
    /// Baseline slices.
    pub b: Vec<Slice>,
}

/// The input of one side: per slice, a histogram, a count and an error count.
pub type RawSlice = (Hist, u64, u64);

impl SliceSet {
    /// Builds the grid from every value either side recorded.
    pub fn new(a: &[RawSlice], b: &[RawSlice]) -> SliceSet {
        let mut values: BTreeMap<u64, u32> = BTreeMap::new();
        for (h, _, _) in a.iter().chain(b) {
            for v in h.iter_recorded() {
                values.insert(h.highest_equivalent(v.value_iterated_to()), 0);
            }
        }
        for (i, v) in values.values_mut().enumerate() {
            *v = i as u32;
        }
        let flatten = |side: &[RawSlice]| -> Vec<Slice> {
            side.iter()
                .map(|(h, count, errors)| Slice {
                    cells: h
                        .iter_recorded()
                        .map(|v| {
                            (
                                values[&h.highest_equivalent(v.value_iterated_to())],
                                v.count_at_value(),
                            )
                        })
                        .collect(),
                    count: *count,
                    errors: *errors,
                })
                .collect()
        };
        SliceSet {
            grid: values.keys().copied().collect(),
            a: flatten(a),
            b: flatten(b),
        }
    }
}

impl Slice {
    /// This slice's own latency at percentile `p`, from its sparse cells (ascending on the grid).
    pub fn percentile(&self, grid: &[u64], p: f64) -> Option<f64> {
        let total: u64 = self.cells.iter().map(|(_, c)| c).sum();
        if total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in &self.cells {
            seen += c;
            if seen >= rank {
                return Some(grid[*i as usize] as f64);
            }
        }
        self.cells.last().map(|(i, _)| grid[*i as usize] as f64)
    }
}

/// A pooled set of slices: dense counts on the grid plus totals.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Counts per grid cell.
    pub cells: Vec<u64>,
    /// Completed requests.
    pub count: u64,
    /// Failed requests.
    pub errors: u64,
    /// Slices pooled.
    pub slices: usize,
}

impl Pool {
    /// An empty pool for a grid of `n` cells.
    pub fn new(n: usize) -> Pool {
        Pool {
            cells: vec![0; n],
            count: 0,
            errors: 0,
            slices: 0,
        }
    }

    /// Empties the pool for reuse.
    pub fn clear(&mut self) {
        self.cells.iter_mut().for_each(|c| *c = 0);
        self.count = 0;
        self.errors = 0;
        self.slices = 0;
    }

    /// Adds a slice.
    pub fn add(&mut self, s: &Slice) {
        for (i, c) in &s.cells {
            self.cells[*i as usize] += c;
        }
        self.count += s.count;
        self.errors += s.errors;
        self.slices += 1;
    }

    /// The latency at percentile `p` (100 = maximum), or `None` without samples.
    pub fn percentile(&self, grid: &[u64], p: f64) -> Option<f64> {
        let total: u64 = self.cells.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.cells.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(grid[i] as f64);
            }
        }
        grid.last().map(|v| *v as f64)
    }

    /// Mean latency.
    pub fn mean(&self, grid: &[u64]) -> Option<f64> {
        let total: u64 = self.cells.iter().sum();
        (total > 0).then(|| {
            self.cells
                .iter()
                .zip(grid)
                .map(|(c, v)| *c as f64 * *v as f64)
                .sum::<f64>()
                / total as f64
        })
    }
}
