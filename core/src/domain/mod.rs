//! Domain types and rules, with no storage or network concerns.

pub(crate) mod codes;

pub mod access;
pub mod catalogue;
pub mod household;
pub mod job;
pub mod ledger;
pub mod region;
pub mod rules;
pub mod visit;
