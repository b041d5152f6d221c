//! Domain types and rules, with no storage or network concerns.

pub(crate) mod codes;

pub mod catalogue;
pub mod household;
pub mod intake;
pub mod job;
pub mod ledger;
pub mod progress;
pub mod region;
pub mod rules;
pub mod step;
pub mod step_form;
pub mod visit;
