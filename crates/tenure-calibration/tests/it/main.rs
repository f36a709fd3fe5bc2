//! Integration tests of tenure-calibration: golden values from
//! scikit-learn (calibration curve, Brier, log loss, calibrators) and scipy
//! (Hosmer–Lemeshow, calibration slope), recalibration of a miscalibrated
//! synthetic model, decision support by hand, bad input.

mod decision;
mod errors;
mod golden;
mod synthetic;
