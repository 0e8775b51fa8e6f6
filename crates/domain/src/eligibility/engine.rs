//! Evaluation: walks a level's rule tree against one person's facts.

use time::{Date, Month};

use super::facts::{Achievement, Certificate, Grade, PersonFacts, validate_facts};
use super::ruleset::{
    AttestedFact, Check, CheckKind, Comparison, Exclusion, ExclusionCutoff, MAX_GROUNDS, MAX_ROUTES, Membership, RuleMeta, RuleNode,
    RuleSet,
};
use super::trace::{
    CertificateFinding, Evaluation, Explanation, FactList, FactName, FactValue, LevelVerdict, Outcome, RuleResult, Source, Threshold,
    Verdict, Warning, worst_grade,
};
use crate::campaign::Level;
use crate::person::{Sex, full_years};
use crate::retirement::{RetirementCategory, retirement_date, statutory_age};

/// Evaluates `facts` against `rules` on `on` for each of `levels`.
///
/// Pure and total: any input, however incomplete or contradictory, yields a verdict per level;
/// missing or contradictory facts give "无法判断" results and never an eligible verdict.
pub fn evaluate<'a>(facts: &'a PersonFacts, rules: &'a RuleSet, on: Date, levels: &[Level]) -> Evaluation<'a> {
    let input_problems = validate_facts(facts, on);
    let person = Person::new(facts);
    let levels = levels
        .iter()
        .map(|&level| {
            let mut e = LevelEvaluator::new(&person, rules, on, level);
            e.run(&input_problems)
        })
        .collect();
    Evaluation {
        rule_set_id: &rules.id,
        rule_set_version: rules.version,
        rule_set_fingerprint: rules.fingerprint(),
        campaign_year: rules.campaign_year,
        evaluated_on: on,
        input_problems,
        levels,
    }
}

/// Facts derived once per evaluation rather than once per rule.
struct Person<'a> {
    facts: &'a PersonFacts,
    birth: Option<Date>,
    sex: Option<Sex>,
    category: Option<RetirementCategory>,
    applied: Option<&'a str>,
}

impl<'a> Person<'a> {
    fn new(facts: &'a PersonFacts) -> Self {
        let birth = facts.effective_birth_date();
        let sex = facts.effective_sex();
        let category = facts.retirement_category.or_else(|| sex.map(crate::retirement::default_category));
        Person { facts, birth, sex, category, applied: facts.effective_applied_work_type() }
    }
}

struct LevelEvaluator<'p, 'a> {
    person: &'p Person<'a>,
    rules: &'a RuleSet,
    on: Date,
    year: i32,
    level: Level,
    /// Checks waived by special policies the person is flagged with, and by whose label.
    policy_waives: u32,
    policy_label: &'a str,
    /// Checks 破格 would waive, and the ground that qualifies the person.
    exceptional_waives: u32,
    exceptional_ground: &'a str,
    exceptional_used: Option<CheckKind>,
    results: Vec<RuleResult<'a>>,
    warnings: Vec<Warning<'a>>,
}

impl<'p, 'a> LevelEvaluator<'p, 'a> {
    fn new(person: &'p Person<'a>, rules: &'a RuleSet, on: Date, level: Level) -> Self {
        LevelEvaluator {
            person,
            rules,
            on,
            year: rules.campaign_year,
            level,
            policy_waives: 0,
            policy_label: "",
            exceptional_waives: 0,
            exceptional_ground: "",
            exceptional_used: None,
            results: Vec::with_capacity(16),
            warnings: Vec::new(),
        }
    }

    fn facts(&self) -> &'a PersonFacts {
        self.person.facts
    }

    fn source(&self, meta: &'a RuleMeta) -> Source<'a> {
        Source { document: self.rules.document(meta), clause: &meta.clause, confidence: meta.confidence }
    }

    fn result(&self, rule_id: &'a str, meta: &'a RuleMeta, outcome: Outcome, explanation: Explanation<'a>) -> RuleResult<'a> {
        RuleResult {
            rule_id,
            route: None,
            outcome,
            facts_used: FactList::default(),
            threshold: None,
            explanation,
            source: self.source(meta),
            waived_by: None,
        }
    }

    fn push(&mut self, r: RuleResult<'a>) -> Outcome {
        let o = r.outcome;
        self.results.push(r);
        o
    }

    fn run(&mut self, problems: &[super::facts::FactProblem]) -> LevelVerdict<'a> {
        let rules = self.rules;
        let level_no = self.level.number();
        let level_rules = rules.level_rules(level_no);
        let mut overall = Outcome::Passed;

        overall = overall.and(self.scope_rules(level_rules.and_then(|l| l.exclusion.as_ref())));

        self.prepare_waivers(level_no);

        match level_rules {
            Some(lr) => {
                for node in &lr.requires {
                    overall = overall.and(self.node(node, None));
                }
                for note in &lr.notes {
                    self.warnings.push(Warning::Note(note));
                }
            }
            None => {
                let r = self.result(
                    "level.defined",
                    &rules.scope.input_rule,
                    Outcome::NotDecidable,
                    Explanation::LevelUndefined { level: level_no },
                );
                overall = overall.and(self.push(r));
            }
        }

        for policy in &rules.special_policies {
            if self.flagged(&policy.id) && (policy.levels.is_empty() || policy.levels.contains(&level_no)) {
                for node in &policy.adds {
                    overall = overall.and(self.node(node, None));
                }
            }
        }
        for id in &self.facts().special_policies {
            if !rules.special_policies.iter().any(|p| &p.id == id) {
                self.warnings.push(Warning::UnknownPolicy(id));
            }
        }

        let ep = &rules.exceptional_promotion;
        if let Some(kind) = self.exceptional_used
            && ep.requires_review
        {
            let mut r = self.result(
                "exceptional_promotion.review",
                &ep.meta,
                Outcome::NotDecidable,
                Explanation::ExceptionalPromotion { ground: self.exceptional_ground, waived: kind.label() },
            );
            r.facts_used.push(FactName::Achievement, FactValue::Text(self.exceptional_ground));
            overall = overall.and(self.push(r));
        }

        for p in problems {
            let r = self.result("input.consistent", &rules.scope.input_rule, Outcome::NotDecidable, Explanation::InvalidFacts(p.clone()));
            overall = overall.and(self.push(r));
        }

        if self.holds_level_or_higher(level_no) {
            self.warnings.push(Warning::AlreadyHoldsLevel { level: level_no });
        }

        let verdict = if !problems.is_empty() {
            Verdict::NeedsReview
        } else {
            match overall {
                Outcome::Passed => Verdict::Eligible,
                Outcome::Failed => Verdict::NotEligible,
                Outcome::NotDecidable => Verdict::NeedsReview,
            }
        };
        LevelVerdict {
            level: self.level,
            verdict,
            results: std::mem::take(&mut self.results),
            warnings: std::mem::take(&mut self.warnings),
        }
    }

    fn flagged(&self, policy_id: &str) -> bool {
        self.facts().special_policies.iter().any(|p| p.trim() == policy_id)
    }

    fn prepare_waivers(&mut self, level_no: u8) {
        let rules = self.rules;
        for policy in &rules.special_policies {
            if self.flagged(&policy.id) && (policy.levels.is_empty() || policy.levels.contains(&level_no)) {
                for k in &policy.waives {
                    self.policy_waives |= k.bit();
                }
                if self.policy_label.is_empty() && !policy.waives.is_empty() {
                    self.policy_label = &policy.label;
                }
            }
        }
        let ep = &rules.exceptional_promotion;
        if ep.enabled
            && ep.levels.contains(&level_no)
            && self.holds_any_accepted_certificate()
            && let Some(list) = rules.ground_list(ep.grounds_index)
        {
            let tally = tally_grounds(list, &self.facts().achievements, None);
            if let Some(ground) = tally.first_sure {
                self.exceptional_ground = ground;
                for k in &ep.waives {
                    self.exceptional_waives |= k.bit();
                }
            }
        }
    }

    fn holds_any_accepted_certificate(&self) -> bool {
        let accepted = &self.rules.certificates.accepted_sources;
        self.facts().certificates.iter().any(|c| c.source.is_some_and(|s| accepted.contains(&s)) && (1..=5).contains(&c.level))
    }

    fn holds_level_or_higher(&self, level_no: u8) -> bool {
        let accepted = &self.rules.certificates.accepted_sources;
        let applied = self.person.applied;
        self.facts().certificates.iter().any(|c| {
            (1..=level_no).contains(&c.level)
                && c.source.is_some_and(|s| accepted.contains(&s))
                && applied.is_some_and(|a| c.work_type.as_deref().map(str::trim) == Some(a))
        })
    }

    // ---- scope ---------------------------------------------------------------------------

    fn scope_rules(&mut self, level_exclusion: Option<&'a Exclusion>) -> Outcome {
        let rules = self.rules;
        let scope = &rules.scope;
        let f = self.facts();
        let mut overall = Outcome::Passed;

        let r = match f.staff_type {
            None => {
                self.result("scope.staff_type", &scope.staff_type_rule, Outcome::NotDecidable, Explanation::Missing(FactName::StaffType))
            }
            Some(t) => {
                let o = if scope.staff_types.contains(&t) { Outcome::Passed } else { Outcome::Failed };
                let mut r = self.result("scope.staff_type", &scope.staff_type_rule, o, Explanation::StaffType { value: t });
                r.facts_used.push(FactName::StaffType, FactValue::StaffType(t));
                r
            }
        };
        let mut r = r;
        r.threshold = Some(Threshold::StaffTypes(&scope.staff_types));
        overall = overall.and(self.push(r));

        let mut r = match f.in_post {
            None => self.result("scope.in_post", &scope.in_post_rule, Outcome::NotDecidable, Explanation::Missing(FactName::InPost)),
            Some(b) => self.result(
                "scope.in_post",
                &scope.in_post_rule,
                if b { Outcome::Passed } else { Outcome::Failed },
                Explanation::InPost { in_post: b },
            ),
        };
        r.facts_used.push(FactName::InPost, f.in_post.map_or(FactValue::Missing, FactValue::Bool));
        overall = overall.and(self.push(r));

        let retired = f.retired.unwrap_or(false);
        let mut r = self.result(
            "scope.not_retired",
            &scope.retired_rule,
            if retired { Outcome::Failed } else { Outcome::Passed },
            Explanation::Retired { retired: f.retired },
        );
        r.facts_used.push(FactName::Retired, f.retired.map_or(FactValue::Missing, FactValue::Bool));
        overall = overall.and(self.push(r));

        let exclusion = level_exclusion.unwrap_or(&scope.exclusion);
        let r = self.retirement_rule(exclusion);
        overall = overall.and(self.push(r));

        let r = self.ban_rule();
        overall = overall.and(self.push(r));

        let wt = &rules.work_types;
        let r = match self.person.applied {
            None => self.result(
                "work_type.catalogue",
                &wt.catalogue_rule,
                Outcome::NotDecidable,
                Explanation::Missing(FactName::AppliedWorkType),
            ),
            Some(name) => {
                let membership = wt.catalogue.membership(name);
                let o = match membership {
                    Membership::In => Outcome::Passed,
                    Membership::NotIn => Outcome::Failed,
                    Membership::Unknown => Outcome::NotDecidable,
                };
                let mut r = self.result(
                    "work_type.catalogue",
                    &wt.catalogue_rule,
                    o,
                    Explanation::Catalogue { name, membership, list: wt.catalogue.label() },
                );
                r.facts_used.push(FactName::AppliedWorkType, FactValue::Text(name));
                r.threshold = Some(Threshold::Text(wt.catalogue.label()));
                r
            }
        };
        overall = overall.and(self.push(r));

        let current = f.current_work_type.as_deref().map(str::trim);
        let r = match (current, self.person.applied) {
            (Some(current), Some(applied)) => {
                let o = if current == applied { Outcome::Passed } else { Outcome::Failed };
                let mut r = self.result("work_type.matches_post", &wt.matches_post_rule, o, Explanation::MatchesPost { applied, current });
                r.facts_used.push(FactName::CurrentWorkType, FactValue::Text(current));
                r.facts_used.push(FactName::AppliedWorkType, FactValue::Text(applied));
                r
            }
            _ => self.result(
                "work_type.matches_post",
                &wt.matches_post_rule,
                Outcome::NotDecidable,
                Explanation::Missing(FactName::CurrentWorkType),
            ),
        };
        overall = overall.and(self.push(r));
        overall
    }

    fn retirement_rule(&mut self, exclusion: &'a Exclusion) -> RuleResult<'a> {
        const ID: &str = "scope.retirement_age";
        let meta = &exclusion.meta;
        let f = self.facts();
        let label: &'a str = match &exclusion.cutoff {
            ExclusionCutoff::OnOrBefore { label, .. } | ExclusionCutoff::UnknownBetween { label, .. } => label,
        };
        let (date, actual) = match (f.actual_retirement_date, self.person.birth, self.person.category) {
            (Some(actual), _, _) => (actual, true),
            (None, Some(birth), Some(category)) => (retirement_date(category, birth, self.rules.scope.reach_convention), false),
            (None, None, _) => return self.result(ID, meta, Outcome::NotDecidable, Explanation::Missing(FactName::BirthDate)),
            (None, Some(_), None) => return self.result(ID, meta, Outcome::NotDecidable, Explanation::Missing(FactName::Sex)),
        };
        let outcome = cutoff_outcome(&exclusion.cutoff, self.year, date);
        let mut r = self.result(ID, meta, outcome, Explanation::RetirementAge { date, actual, cutoff: label });
        if actual {
            r.facts_used.push(FactName::ActualRetirementDate, FactValue::Date(date));
        } else if let (Some(category), Some(birth)) = (self.person.category, self.person.birth) {
            r.facts_used.push(FactName::BirthDate, FactValue::Date(birth));
            r.facts_used.push(FactName::RetirementCategory, FactValue::Category(category));
            r.facts_used.push(FactName::StatutoryAge, FactValue::Age(statutory_age(category, birth)));
            r.facts_used.push(FactName::RetirementDate, FactValue::Date(date));
        }
        r.threshold = Some(Threshold::Text(label));
        if outcome != Outcome::Failed && self.rules.scope.retiring_warning && date.year() == self.year {
            self.warnings.push(Warning::RetiresDuringCampaignYear { date, year: self.year });
        }
        r
    }

    fn ban_rule(&self) -> RuleResult<'a> {
        const ID: &str = "sanction.no_active_ban";
        let meta = &self.rules.scope.ban_rule;
        let ban_years = self.rules.scope.ban_years;
        let mut active: Option<(Date, Option<Date>)> = None;
        let mut expired: Option<Date> = None;
        let mut unknown = false;
        for s in &self.facts().sanctions {
            let until = s.bars_until.or_else(|| {
                s.decided_on.and_then(|d| Date::from_calendar_date(d.year().saturating_add(ban_years), Month::December, 31).ok())
            });
            match until {
                None => unknown = true,
                Some(u) if u >= self.on && s.decided_on.is_none_or(|d| d <= self.on) => {
                    if active.is_none_or(|(a, _)| u > a) {
                        active = Some((u, s.decided_on));
                    }
                }
                Some(u) => {
                    if expired.is_none_or(|e| u > e) {
                        expired = Some(u);
                    }
                }
            }
        }
        let (outcome, until, decided_on) = match (active, unknown) {
            (Some((u, d)), _) => (Outcome::Failed, Some(u), d),
            (None, true) => (Outcome::NotDecidable, None, None),
            (None, false) => (Outcome::Passed, expired, None),
        };
        let mut r = self.result(ID, meta, outcome, Explanation::Ban { until, decided_on });
        if let Some(d) = decided_on {
            r.facts_used.push(FactName::SanctionDecidedOn, FactValue::Date(d));
        }
        if let Some(u) = until {
            r.facts_used.push(FactName::BarsUntil, FactValue::Date(u));
        }
        r
    }

    // ---- level rules ---------------------------------------------------------------------

    fn node(&mut self, node: &'a RuleNode, route: Option<&'a str>) -> Outcome {
        if !node.enabled {
            return Outcome::Passed;
        }
        if let Check::AnyOf { routes } = &node.check {
            let at = self.results.len();
            let mut outcomes = [None; MAX_ROUTES];
            let mut any = Outcome::Failed;
            for (i, r) in routes.iter().enumerate() {
                let mut ro = Outcome::Passed;
                for child in &r.all_of {
                    ro = ro.and(self.node(child, Some(&r.id)));
                }
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = Some(ro);
                }
                any = any.or(ro);
            }
            let mut summary = self.result(&node.id, &node.meta, any, Explanation::AnyOf { routes, outcomes });
            summary.route = route;
            if let Some(r) = routes.iter().zip(outcomes).find(|(_, o)| *o == Some(Outcome::Passed)).map(|(r, _)| r) {
                summary.facts_used.push(FactName::Route, FactValue::Text(&r.label));
            }
            self.results.insert(at, summary);
            return any;
        }
        let mut r = self.check(node);
        r.route = route;
        if r.outcome != Outcome::Passed {
            let bit = node.check.kind().bit();
            if self.policy_waives & bit != 0 {
                r.waived_by = Some(self.policy_label);
                r.outcome = Outcome::Passed;
            } else if self.exceptional_waives & bit != 0 {
                r.waived_by = Some(self.exceptional_ground);
                r.outcome = Outcome::Passed;
                self.exceptional_used.get_or_insert(node.check.kind());
            }
        }
        self.push(r)
    }

    fn check(&self, node: &'a RuleNode) -> RuleResult<'a> {
        let id = node.id.as_str();
        let meta = &node.meta;
        let f = self.facts();
        let nd = |fact| self.result(id, meta, Outcome::NotDecidable, Explanation::Missing(fact));
        let pass_if = |ok: bool| if ok { Outcome::Passed } else { Outcome::Failed };
        match &node.check {
            Check::RegularisedBy { cutoff } => {
                let (Some(on), Some(c)) = (f.regularised_on, cutoff.resolve(self.year)) else {
                    return nd(FactName::RegularisedOn).with_threshold(cutoff.resolve(self.year).map(Threshold::NotLaterThan));
                };
                let mut r = self.result(id, meta, pass_if(on <= c), Explanation::Regularised { on, cutoff: c });
                r.facts_used.push(FactName::RegularisedOn, FactValue::Date(on));
                r.with_threshold(Some(Threshold::NotLaterThan(c)))
            }
            Check::WorkYears { op, years } => {
                let threshold = Some(Threshold::Years { op: *op, years: *years });
                let counting = self.rules.counting.work_years;
                let Some((start, n)) = f.work_start_date.and_then(|s| counting.count(s, self.year).map(|n| (s, n))) else {
                    return nd(FactName::WorkStartDate).with_threshold(threshold);
                };
                let ok = match op {
                    Comparison::AtLeast => i64::from(n) >= i64::from(*years),
                    Comparison::Below => i64::from(n) < i64::from(*years),
                };
                let counting_label = match counting {
                    super::ruleset::YearCounting::YearInclusive => "（按自然年度计算至当年年底，含参加工作当年）",
                    super::ruleset::YearCounting::YearDifference => "（按年度差计算）",
                    super::ruleset::YearCounting::FullYearsToDate { .. } => "（按周年计算）",
                };
                let mut r = self.result(
                    id,
                    meta,
                    pass_if(ok),
                    Explanation::WorkYears { years: n, op: *op, threshold: *years, counting: counting_label },
                );
                r.facts_used.push(FactName::WorkStartDate, FactValue::Date(start));
                r.facts_used.push(FactName::WorkYears, FactValue::Years(n));
                r.with_threshold(threshold)
            }
            Check::HoldsCertificate { level } => {
                let threshold = Some(Threshold::Certificate(*level));
                let Some(applied) = self.person.applied else {
                    return nd(FactName::AppliedWorkType).with_threshold(threshold);
                };
                let finding = self.find_certificate(*level, applied);
                let o = match finding {
                    CertificateFinding::Found { .. } => Outcome::Passed,
                    CertificateFinding::SourceUnknown { .. } => Outcome::NotDecidable,
                    _ => Outcome::Failed,
                };
                let mut r = self.result(id, meta, o, Explanation::Certificate { level: *level, applied, finding });
                match finding {
                    CertificateFinding::Found { certificate: c, via_car_reform, .. } => {
                        r.facts_used.push(FactName::Certificate, FactValue::Certificate(c));
                        if via_car_reform {
                            r.facts_used.push(FactName::CarReform, FactValue::Bool(true));
                        }
                    }
                    CertificateFinding::OtherWorkType { certificate: c } | CertificateFinding::SourceUnknown { certificate: c } => {
                        r.facts_used.push(FactName::Certificate, FactValue::Certificate(c));
                    }
                    _ => {}
                }
                r.facts_used.push(FactName::AppliedWorkType, FactValue::Text(applied));
                r.with_threshold(threshold)
            }
            Check::YearsAtLevel { level, years, continuous } => {
                let threshold = Some(Threshold::Years { op: Comparison::AtLeast, years: *years });
                let Some(applied) = self.person.applied else {
                    return nd(FactName::AppliedWorkType).with_threshold(threshold);
                };
                let finding = self.find_certificate(*level, applied);
                let issued = match finding {
                    CertificateFinding::Found { certificate, .. } => certificate.issued_on,
                    _ => None,
                };
                let n = issued.and_then(|d| self.rules.counting.years_at_level.count(d, self.year));
                let cont = f.years_at_level_continuous;
                let o = match (finding, n) {
                    (CertificateFinding::Found { .. }, Some(n)) => {
                        let enough = i64::from(n) >= i64::from(*years);
                        match (enough, *continuous, cont) {
                            (false, _, _) | (true, true, Some(false)) => Outcome::Failed,
                            (true, true, None) => Outcome::NotDecidable,
                            _ => Outcome::Passed,
                        }
                    }
                    (CertificateFinding::Found { .. }, None) | (CertificateFinding::SourceUnknown { .. }, _) => Outcome::NotDecidable,
                    _ => Outcome::Failed,
                };
                let mut r = self.result(
                    id,
                    meta,
                    o,
                    Explanation::YearsAtLevel {
                        level: *level,
                        years: n,
                        threshold: *years,
                        continuous_required: *continuous,
                        continuous: cont,
                        finding,
                    },
                );
                r.facts_used.push(FactName::CertificateIssuedOn, issued.map_or(FactValue::Missing, FactValue::Date));
                if let Some(n) = n {
                    r.facts_used.push(FactName::YearsAtLevel, FactValue::Years(n));
                }
                if *continuous {
                    r.facts_used.push(FactName::YearsContinuous, cont.map_or(FactValue::Missing, FactValue::Bool));
                }
                r.with_threshold(threshold)
            }
            Check::EducationAtLeast { at_least } => {
                let threshold = Some(Threshold::Education(*at_least));
                let Some(e) = f.education else {
                    return nd(FactName::Education).with_threshold(threshold);
                };
                let mut r = self.result(id, meta, pass_if(e >= *at_least), Explanation::Education { value: e, at_least: *at_least });
                r.facts_used.push(FactName::Education, FactValue::Education(e));
                r.with_threshold(threshold)
            }
            Check::AgeAtLeast { male, female } => {
                let threshold = Some(Threshold::Age { male: *male, female: *female });
                let Some(sex) = self.person.sex else {
                    return nd(FactName::Sex).with_threshold(threshold);
                };
                let Some(birth) = self.person.birth else {
                    return nd(FactName::BirthDate).with_threshold(threshold);
                };
                let age = full_years(birth, self.on);
                let need = if sex == Sex::Male { *male } else { *female };
                let mut r =
                    self.result(id, meta, pass_if(i64::from(age) >= i64::from(need)), Explanation::Age { sex, age, threshold: need });
                r.facts_used.push(FactName::Sex, FactValue::Sex(sex));
                r.facts_used.push(FactName::BirthDate, FactValue::Date(birth));
                r.facts_used.push(FactName::Age, FactValue::Int(i64::from(age)));
                r.with_threshold(threshold)
            }
            Check::Attested { fact } => {
                let value = match fact {
                    AttestedFact::UnitAttestsHighSkill => f.unit_attests_high_skill,
                    AttestedFact::WageApprovalFormLevel2 => f.wage_approval_form_level2,
                    AttestedFact::CnJournalPaper => f.cn_journal_paper,
                };
                let o = match value {
                    Some(true) => Outcome::Passed,
                    Some(false) => Outcome::Failed,
                    None => Outcome::NotDecidable,
                };
                let mut r = self.result(id, meta, o, Explanation::Attested { fact: *fact, value });
                r.facts_used.push(FactName::Attestation, value.map_or(FactValue::Missing, FactValue::Bool));
                r.with_threshold(Some(Threshold::MustBeTrue))
            }
            Check::AppointedPostLevel { level } => {
                let threshold = Some(Threshold::PostLevel(*level));
                let Some(v) = f.appointed_post_level else {
                    return nd(FactName::AppointedPostLevel).with_threshold(threshold);
                };
                let mut r =
                    self.result(id, meta, pass_if((1..=*level).contains(&v)), Explanation::AppointedPost { level: v, required: *level });
                r.facts_used.push(FactName::AppointedPostLevel, FactValue::Level(v));
                if let Some(since) = f.appointed_post_since {
                    r.facts_used.push(FactName::AppointedPostSince, FactValue::Date(since));
                }
                r.with_threshold(threshold)
            }
            Check::AppraisalWindow { years, at_least } => {
                let to = self.year - 1;
                let from = self.year - i32::try_from(*years).unwrap_or(1);
                let need = at_least.rank().unwrap_or(0);
                let mut first_bad = None;
                let mut first_missing = None;
                for y in from..=to {
                    match worst_grade(&f.annual_appraisals, y) {
                        None => {
                            first_missing.get_or_insert(y);
                        }
                        Some(Grade::Ungraded) => {
                            if self.rules.appraisal.ungraded_breaks_window {
                                first_bad.get_or_insert((y, Grade::Ungraded));
                            }
                        }
                        Some(g) => {
                            if g.rank().unwrap_or(0) < need {
                                first_bad.get_or_insert((y, g));
                            }
                        }
                    }
                }
                let o = if first_bad.is_some() {
                    Outcome::Failed
                } else if first_missing.is_some() {
                    Outcome::NotDecidable
                } else {
                    Outcome::Passed
                };
                let mut r =
                    self.result(id, meta, o, Explanation::AppraisalWindow { from, to, at_least: *at_least, first_bad, first_missing });
                r.facts_used.push(FactName::Appraisals, FactValue::Appraisals { all: &f.annual_appraisals, from, to });
                r.with_threshold(Some(Threshold::Appraisal { from, to, at_least: *at_least }))
            }
            Check::ExcellentYears { window, min } => {
                let to = self.year - 1;
                let from = self.year - i32::try_from(*window).unwrap_or(1);
                let mut count = 0u32;
                let mut unknown = 0u32;
                for y in from..=to {
                    let grade = worst_grade(&f.annual_appraisals, y);
                    if grade == Some(Grade::Excellent) || f.party_excellence_years.contains(&y) {
                        count += 1;
                    } else if grade.is_none() {
                        unknown += 1;
                    }
                }
                let o = if count >= *min {
                    Outcome::Passed
                } else if count + unknown >= *min {
                    Outcome::NotDecidable
                } else {
                    Outcome::Failed
                };
                let mut r = self.result(id, meta, o, Explanation::ExcellentYears { from, to, count, min: *min, unknown_years: unknown });
                r.facts_used.push(FactName::ExcellentYears, FactValue::Int(i64::from(count)));
                r.facts_used.push(FactName::Appraisals, FactValue::Appraisals { all: &f.annual_appraisals, from, to });
                r.with_threshold(Some(Threshold::Excellent { from, to, min: *min }))
            }
            Check::AchievementCount { min, after_certificate_level, list_index, .. } => {
                let Some(list) = self.rules.ground_list(*list_index) else {
                    return self.result(id, meta, Outcome::NotDecidable, Explanation::Missing(FactName::Achievement));
                };
                let threshold = Some(Threshold::Count { min: *min, list: &list.label });
                let mut after = None;
                if let Some(level) = after_certificate_level {
                    let finding = self.person.applied.map(|a| self.find_certificate(*level, a));
                    match finding {
                        Some(CertificateFinding::Found { certificate: Certificate { issued_on: Some(d), .. }, .. }) => after = Some(*d),
                        other => {
                            let o = match other {
                                Some(CertificateFinding::Found { .. }) | Some(CertificateFinding::SourceUnknown { .. }) | None => {
                                    Outcome::NotDecidable
                                }
                                _ => Outcome::Failed,
                            };
                            let e = Explanation::Achievements {
                                list: &list.label,
                                sure: 0,
                                review: 0,
                                min: *min,
                                matched: None,
                                after: None,
                                no_certificate: true,
                            };
                            return self.result(id, meta, o, e).with_threshold(threshold);
                        }
                    }
                }
                let t = tally_grounds(list, &f.achievements, after);
                let o = if t.sure_units >= *min {
                    Outcome::Passed
                } else if t.sure_units + t.review_units >= *min {
                    Outcome::NotDecidable
                } else {
                    Outcome::Failed
                };
                let matched = t.first_sure.or(t.first_any);
                let e = Explanation::Achievements {
                    list: &list.label,
                    sure: t.sure_units,
                    review: t.review_units,
                    min: *min,
                    matched,
                    after,
                    no_certificate: false,
                };
                let mut r = self.result(id, meta, o, e);
                r.facts_used.push(FactName::AchievementCount, FactValue::Int(i64::from(t.sure_units)));
                if let Some(a) = t.example {
                    r.facts_used.push(FactName::Achievement, FactValue::Achievement(a));
                }
                r.with_threshold(threshold)
            }
            Check::Level1WorkType => {
                let list = &self.rules.work_types.level1;
                let threshold = Some(Threshold::Text(list.label()));
                let Some(name) = self.person.applied else {
                    return nd(FactName::AppliedWorkType).with_threshold(threshold);
                };
                let membership = list.membership(name);
                let o = match membership {
                    Membership::In => Outcome::Passed,
                    Membership::NotIn => Outcome::Failed,
                    Membership::Unknown => Outcome::NotDecidable,
                };
                let mut r = self.result(id, meta, o, Explanation::Level1WorkType { name, membership, list: list.label() });
                r.facts_used.push(FactName::AppliedWorkType, FactValue::Text(name));
                r.with_threshold(threshold)
            }
            Check::ManualReview { reason } => {
                let mut r = self.result(id, meta, Outcome::NotDecidable, Explanation::ManualReview { reason });
                let flagged = self.rules.special_policies.iter().find(|p| p.adds.iter().any(|n| std::ptr::eq(n, node)));
                if let Some(p) = flagged {
                    r.facts_used.push(FactName::SpecialPolicy, FactValue::Text(&p.label));
                }
                r
            }
            // Handled in `node`, which owns the trace; kept total here.
            Check::AnyOf { .. } => self.result(id, meta, Outcome::NotDecidable, Explanation::Missing(FactName::Route)),
        }
    }

    /// The certificate of `level` that best supports the application in `applied`, or the
    /// reason none does. Chosen by a total order so that the order of records never matters.
    fn find_certificate(&self, level: u8, applied: &str) -> CertificateFinding<'a> {
        let rules = self.rules;
        let accepted = &rules.certificates.accepted_sources;
        let car = &rules.work_types.car_reform;
        let car_reform_ok = self.facts().work_type_changed_by_car_reform && self.level.number() >= car.up_to_level;
        let merge = rules.counting.merge_years_on_worktype_change;
        // Lower key is better: (class, route, no date, date, work type, source).
        type Key<'k> = (u8, u8, bool, Option<Date>, &'k str, &'k str);
        let mut best: Option<(Key<'a>, CertificateFinding<'a>)> = None;
        for c in &self.facts().certificates {
            if c.level != level {
                continue;
            }
            let wt = c.work_type.as_deref().map_or("", str::trim);
            let route = if wt == applied {
                Some(0u8)
            } else if car_reform_ok && car.work_types.iter().any(|w| w == wt) {
                Some(1)
            } else if merge {
                Some(2)
            } else {
                None
            };
            let (class, finding) = match (route, c.source) {
                (Some(route), Some(s)) if accepted.contains(&s) => {
                    (0u8, CertificateFinding::Found { certificate: c, via_car_reform: route == 1, via_merge: route == 2 })
                }
                (Some(_), None) => (1, CertificateFinding::SourceUnknown { certificate: c }),
                (Some(_), Some(s)) => (2, CertificateFinding::SourceNotAccepted { source: s }),
                (None, _) => (3, CertificateFinding::OtherWorkType { certificate: c }),
            };
            let key: Key<'a> = (class, route.unwrap_or(9), c.issued_on.is_none(), c.issued_on, wt, c.source.map_or("", |s| s.as_str()));
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((key, finding));
            }
        }
        best.map_or(CertificateFinding::None, |(_, f)| f)
    }
}

impl<'a> RuleResult<'a> {
    fn with_threshold(mut self, t: Option<Threshold<'a>>) -> Self {
        self.threshold = t;
        self
    }
}

/// Whether reaching retirement age on `date` excludes the person under `cutoff`.
fn cutoff_outcome(cutoff: &ExclusionCutoff, year: i32, date: Date) -> Outcome {
    match cutoff {
        ExclusionCutoff::OnOrBefore { date: c, .. } => match c.resolve(year) {
            Some(c) if date > c => Outcome::Passed,
            Some(_) => Outcome::Failed,
            None => Outcome::NotDecidable,
        },
        ExclusionCutoff::UnknownBetween { from, to, .. } => match (from.resolve(year), to.resolve(year)) {
            (Some(from), _) if date <= from => Outcome::Failed,
            (_, Some(to)) if date > to => Outcome::Passed,
            _ => Outcome::NotDecidable,
        },
    }
}

/// How far a person's achievements meet a ground list.
struct Tally<'a> {
    sure_units: u32,
    review_units: u32,
    first_sure: Option<&'a str>,
    first_any: Option<&'a str>,
    example: Option<&'a Achievement>,
}

/// Counts grounds met. Each achievement counts for the first ground (in list order) whose kinds
/// include it, so nothing is counted twice and the result does not depend on record order.
fn tally_grounds<'a>(list: &'a super::ruleset::GroundList, achievements: &'a [Achievement], after: Option<Date>) -> Tally<'a> {
    let mut sure = [0u32; MAX_GROUNDS];
    let mut unsure = [0u32; MAX_GROUNDS];
    let mut example: Option<&'a Achievement> = None;
    for a in achievements {
        let kind = a.kind.trim();
        let Some((gi, g)) = list.grounds.iter().enumerate().find(|(_, g)| g.kinds.iter().any(|k| k == kind)) else {
            continue;
        };
        let mut certain = !g.needs_review;
        if let Some(min) = g.min_scope {
            match a.scope {
                None => certain = false,
                Some(s) if s < min => continue,
                Some(_) => {}
            }
        }
        if let Some(max) = g.max_rank {
            match a.rank {
                None => certain = false,
                Some(r) if r > max || r == 0 => continue,
                Some(_) => {}
            }
        }
        if let Some(after) = after {
            match a.date {
                None => certain = false,
                Some(d) if d < after => continue,
                Some(_) => {}
            }
        }
        let slot = if certain { sure.get_mut(gi) } else { unsure.get_mut(gi) };
        if let Some(n) = slot {
            *n += 1;
        }
        if certain && example.is_none_or(|e| (a.date, a.kind.as_str()) < (e.date, e.kind.as_str())) {
            example = Some(a);
        }
    }
    let mut t = Tally { sure_units: 0, review_units: 0, first_sure: None, first_any: None, example };
    for (gi, g) in list.grounds.iter().enumerate() {
        let s = sure.get(gi).copied().unwrap_or(0);
        let u = unsure.get(gi).copied().unwrap_or(0);
        let sure_units = s / g.min_count.max(1);
        let all_units = (s + u) / g.min_count.max(1);
        t.sure_units += sure_units;
        t.review_units += all_units - sure_units;
        if sure_units > 0 && t.first_sure.is_none() {
            t.first_sure = Some(&g.label);
        }
        if all_units > 0 && t.first_any.is_none() {
            t.first_any = Some(&g.label);
        }
    }
    t
}
