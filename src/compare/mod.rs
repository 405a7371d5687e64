//! Two paths side by side: metrics, gates, the slice bootstrap behind each verdict, and A/A
//! calibration.

pub mod gate;
pub mod metric;
