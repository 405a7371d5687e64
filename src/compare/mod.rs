//! Two paths side by side: metrics, gates, the slice bootstrap behind each verdict, A/A
//! calibration, and the evaluation of gates against a run's results.

pub mod analyze;
pub mod evaluate;
pub mod judge;
pub mod saved;
pub mod slices;
