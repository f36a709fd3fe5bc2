//! Integration tests of tenure-uplift: exact identities with a mean-only
//! base learner, recovery of a known heterogeneous effect with tenure's
//! logistic and ridge regressions, error cases.

mod learners;
