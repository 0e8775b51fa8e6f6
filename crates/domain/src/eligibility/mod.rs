//! # Eligibility (申报资格) evaluator
//!
//! Decides, for one person, one campaign's rule set and one evaluation date, whether the person
//! may apply for each level asked, and explains every step in Chinese for the clerk.
//!
//! ## Public API
//!
//! - [`PersonFacts`]: what is known about a person (all optional; JSON schema on the type).
//!   [`validate_facts`] lists contradictions and impossible values as [`FactProblem`]s.
//! - [`RuleSet`]: a campaign's rules, loaded from versioned JSON shipped in
//!   `crates/domain/rulesets/` ([`RuleSet::builtin`] with `"HN-GK-2020"`, `"HN-GK-2021"`,
//!   `"HN-GK-2023"`; [`RuleSet::from_json`] for others). It carries `id`, `version` and an SM3
//!   [`RuleSet::fingerprint`] of its text.
//! - [`evaluate`]`(facts, rules, on, levels) -> `[`Evaluation`]: per level a [`LevelVerdict`]
//!   with a [`Verdict`] (符合 / 不符合 / 需人工审核), the [`RuleResult`] of every rule (id, route,
//!   [`Outcome`] 通过 / 未通过 / 无法判断, facts used, threshold, Chinese explanation, [`Source`]
//!   with document, clause and confidence) and [`Warning`]s. Everything serialises to JSON.
//!
//! ## How a verdict is reached
//!
//! Scope rules (staff type, in post, not retired, retirement age before the campaign's cut-off,
//! no active ban, work type in the catalogue and matching the post) come first, then the level's
//! requirements from the rule set, then the rules special policies add. An `any_of` passes when
//! one route passes; its summary result names the route that passed, and the results of every
//! route stay in the trace tagged with the route id. Then:
//!
//! - any failed rule → 不符合;
//! - otherwise anything not decidable (a missing fact, an attestation the system cannot know, a
//!   rule text that is not public, a 破格 application) → 需人工审核;
//! - otherwise → 符合.
//!
//! Contradictory facts ([`validate_facts`]) always give 需人工审核 with the reasons: the facts
//! cannot be trusted either way, and a person is never found eligible on them.
//!
//! The rule *meanings* are code ([`Check`]); which checks apply, how they combine, and every
//! threshold, date, list and source are data. A new campaign year is a new JSON file; a changed
//! rule is a new `version`.

mod codes;
mod engine;
mod facts;
mod ruleset;
mod trace;

#[cfg(test)]
mod tests;

pub use engine::evaluate;
pub use facts::{
    Achievement, Appraisal, AwardScope, Certificate, CertificateSource, Education, FactProblem, Grade, PersonFacts, Sanction, SanctionKind,
    StaffType, validate_facts,
};
pub use ruleset::{
    AppraisalRules, AttestedFact, CarReform, CertificateRules, Check, CheckKind, Comparison, Confidence, Counting, DateSpec, Document,
    ExceptionalPromotion, Exclusion, ExclusionCutoff, Ground, GroundList, LevelRules, MAX_GROUNDS, MAX_ROUTES, Membership, Route, RuleMeta,
    RuleNode, RuleSet, RuleSetError, ScopeRules, SpecialPolicy, WorkTypeList, WorkTypeRules, YearCounting,
};
pub use trace::{
    CertificateFinding, Evaluation, Explanation, FactList, FactName, FactValue, LevelVerdict, Outcome, RuleResult, Source, Threshold,
    Verdict, Warning,
};
