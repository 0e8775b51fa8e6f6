//! Pure domain of Gongkao (工考): no I/O, no async, no clock reads — time is always a parameter.
//!
//! Everything here is deterministic so that the storage, web and server crates can test their
//! behaviour against fixed instants and fixed seeds.

#![forbid(unsafe_code)]

pub mod application;
pub mod audit;
pub mod campaign;
pub mod clock;
pub mod credit_code;
pub mod demo;
pub mod dossier;
pub mod eligibility;
pub mod exam;
pub mod id_number;
pub mod item_bank;
pub mod jurisdiction;
pub mod onboarding;
pub mod paging;
pub mod password;
pub mod person;
pub mod retirement;
pub mod role;
pub mod sort_key;
pub mod training;
pub mod validation;
pub mod work_type;
