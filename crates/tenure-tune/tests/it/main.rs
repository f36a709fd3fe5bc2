//! Integration tests of tenure-tune: math against closed forms and naive
//! twins, samplers against random search, studies against kills and
//! concurrent workers.

mod bench;
mod gp;
mod importance;
mod parzen;
mod pruner;
mod samplers;
mod space;
mod special;
mod storage;
