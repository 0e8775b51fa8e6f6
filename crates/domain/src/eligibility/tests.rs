#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use time::Date;
use time::macros::date;

use super::*;
use crate::campaign::Level;
use crate::person::Sex;
use crate::retirement::RetirementCategory;

// ---- fixtures -------------------------------------------------------------------------------

fn rules(id: &str) -> RuleSet {
    RuleSet::builtin(id)
        .unwrap_or_else(|| panic!("rule set {id} must load: {:?}", RuleSet::from_json(RuleSet::builtin_source(id).unwrap())))
}

/// The evaluation date used for each shipped rule set: during its registration period.
fn on_for(id: &str) -> Date {
    match id {
        "HN-GK-2020" => date!(2020 - 04 - 20),
        "HN-GK-2021" => date!(2021 - 04 - 20),
        _ => date!(2023 - 04 - 20),
    }
}

/// A plain applicant: permanent male worker in post, born 1975-06-15, working since 2001-07-01
/// (20 years in 2020), senior high, 电工, no certificates.
fn base() -> PersonFacts {
    PersonFacts {
        sex: Some(Sex::Male),
        birth_date: Some(date!(1975 - 06 - 15)),
        staff_type: Some(StaffType::Permanent),
        in_post: Some(true),
        retired: Some(false),
        work_start_date: Some(date!(2001 - 07 - 01)),
        regularised_on: Some(date!(2002 - 07 - 01)),
        education: Some(Education::SeniorHigh),
        current_work_type: Some("电工".into()),
        years_at_level_continuous: Some(true),
        ..PersonFacts::default()
    }
}

fn cert(level: u8, work_type: &str, issued: Date) -> Certificate {
    Certificate { level, work_type: Some(work_type.into()), issued_on: Some(issued), source: Some(CertificateSource::Exam) }
}

fn achievement(kind: &str, scope: Option<AwardScope>, date: Date, rank: Option<u32>) -> Achievement {
    Achievement { kind: kind.into(), scope, date: Some(date), rank, note: None }
}

/// Sets the work start to 1 July of `year` and regularisation a year later.
fn start(f: &mut PersonFacts, year: i32) {
    f.work_start_date = Some(Date::from_calendar_date(year, time::Month::July, 1).unwrap());
    f.regularised_on = Some(Date::from_calendar_date(year + 1, time::Month::July, 1).unwrap());
}

/// Level-1 applicant under the 2020 (2017/18) rules: 印刷工 (in the 2020 list), level 2 since
/// 2014, one listed achievement after it, wage form and CN paper submitted.
fn level1_2020(f: &mut PersonFacts) {
    f.birth_date = Some(date!(1972 - 03 - 01));
    start(f, 1992);
    f.current_work_type = Some("印刷工".into());
    f.certificates = vec![cert(3, "印刷工", date!(2008 - 06 - 01)), cert(2, "印刷工", date!(2014 - 06 - 01))];
    f.achievements = vec![achievement("skill_achievement_2017", None, date!(2016 - 05 - 01), None)];
    f.wage_approval_form_level2 = Some(true);
    f.cn_journal_paper = Some(true);
}

/// Level-1 applicant under 2021/27: 保管工, level 2 since 2015, appointed to a level-2 post,
/// 28 working years, 2016–2020 all 合格 with 2017 and 2019 优秀.
fn level1_2021(f: &mut PersonFacts) {
    f.birth_date = Some(date!(1974 - 03 - 01));
    start(f, 1994);
    f.current_work_type = Some("保管工".into());
    f.certificates = vec![cert(2, "保管工", date!(2015 - 06 - 01))];
    f.appointed_post_level = Some(2);
    f.appointed_post_since = Some(date!(2016 - 01 - 01));
    f.annual_appraisals = (2016..=2020)
        .map(|y| Appraisal { year: y, grade: if y == 2017 || y == 2019 { Grade::Excellent } else { Grade::Competent } })
        .collect();
}

/// Level 1 in 2021 with the standard route broken (primary school, a 不合格 year), so only an
/// exemption can make the person eligible.
fn level1_2021_exempt_only(f: &mut PersonFacts) {
    level1_2021(f);
    f.education = Some(Education::Primary);
    f.annual_appraisals.push(Appraisal { year: 2015, grade: Grade::Competent });
    f.annual_appraisals.retain(|a| a.year != 2018);
    f.annual_appraisals.push(Appraisal { year: 2018, grade: Grade::Incompetent });
}

struct Case {
    /// The reference line the case checks.
    reference: &'static str,
    rules: &'static str,
    level: Level,
    edit: fn(&mut PersonFacts),
    verdict: Verdict,
    rule: Option<(&'static str, Outcome)>,
}

fn c(reference: &'static str, rules: &'static str, level: Level, edit: fn(&mut PersonFacts), verdict: Verdict) -> Case {
    Case { reference, rules, level, edit, verdict, rule: None }
}

impl Case {
    fn rule(mut self, id: &'static str, outcome: Outcome) -> Case {
        self.rule = Some((id, outcome));
        self
    }
}

const R20: &str = "HN-GK-2020";
const R21: &str = "HN-GK-2021";
const R23: &str = "HN-GK-2023";
use Outcome::{Failed, NotDecidable as Nd, Passed};
use Verdict::{Eligible as Yes, NeedsReview as Review, NotEligible as No};

fn cases() -> Vec<Case> {
    use Level::{L1, L2, L3, L4, L5};
    vec![
        // ---- level 5 (§4.1, §4.2) ----
        c(
            "§4.1 L5: regularised on 30 September of the campaign year (the cut-off day itself)",
            R20,
            L5,
            |f| {
                start(f, 2019);
                f.regularised_on = Some(date!(2020 - 09 - 30));
            },
            Yes,
        )
        .rule("l5.regularised", Passed),
        c(
            "§4.1 L5: regularised on 1 October is too late",
            R20,
            L5,
            |f| {
                start(f, 2019);
                f.regularised_on = Some(date!(2020 - 10 - 01));
            },
            No,
        )
        .rule("l5.regularised", Failed),
        c("§4.1/§4.2 L5: 9 working years (2012..2020 inclusive) is fewer than 10", R20, L5, |f| start(f, 2012), Yes)
            .rule("l5.work_years_below_10", Passed),
        c("§4.1/§4.2 L5: 10 working years (2011..2020) is not fewer than 10", R20, L5, |f| start(f, 2011), No)
            .rule("l5.work_years_below_10", Failed),
        c(
            "§4.1 L5: regularisation date unknown → review",
            R20,
            L5,
            |f| {
                start(f, 2015);
                f.regularised_on = None;
            },
            Review,
        )
        .rule("l5.regularised", Nd),
        // ---- level 4 (§4.1, §4.2) ----
        c(
            "§4.1 L4 main route: level-5 certificate exactly five years back (2015 ≤ 2020−5)",
            R20,
            L4,
            |f| {
                start(f, 2012);
                f.certificates = vec![cert(5, "电工", date!(2015 - 12 - 31))];
            },
            Yes,
        )
        .rule("l4.cert_route", Passed),
        c(
            "§4.1 L4 main route: certificate from 2016 is only four years",
            R20,
            L4,
            |f| {
                start(f, 2012);
                f.certificates = vec![cert(5, "电工", date!(2016 - 01 - 01))];
            },
            No,
        )
        .rule("l4.years_at_l5", Failed),
        c("§4.1 L4 alt route: 10 working years, no certificate", R20, L4, |f| start(f, 2011), Yes).rule("l4.work_years_route", Passed),
        c("§4.1 L4 alt route: 9 working years, no certificate", R20, L4, |f| start(f, 2012), No).rule("l4.routes", Failed),
        c(
            "§4.1 L4 alt route boundary: started 31 Dec 2011 still counts 2011 as a year (§4.2 year_inclusive)",
            R20,
            L4,
            |f| {
                f.work_start_date = Some(date!(2011 - 12 - 31));
                f.regularised_on = Some(date!(2012 - 12 - 31));
            },
            Yes,
        ),
        c(
            "§4.1 L4: level-5 certificate in another work type does not count (本工种)",
            R20,
            L4,
            |f| {
                start(f, 2012);
                f.certificates = vec![cert(5, "木工", date!(2010 - 01 - 01))];
            },
            No,
        )
        .rule("l4.holds_l5", Failed),
        c(
            "§7 provenance: an other-channel certificate does not count",
            R20,
            L4,
            |f| {
                start(f, 2012);
                f.certificates =
                    vec![Certificate { source: Some(CertificateSource::OtherChannel), ..cert(5, "电工", date!(2010 - 01 - 01)) }];
            },
            No,
        )
        .rule("l4.holds_l5", Failed),
        c(
            "§7 provenance: a competition certificate counts",
            R20,
            L4,
            |f| {
                start(f, 2012);
                f.certificates =
                    vec![Certificate { source: Some(CertificateSource::Competition), ..cert(5, "电工", date!(2010 - 01 - 01)) }];
            },
            Yes,
        ),
        c(
            "§7 provenance unknown → review, not a pass",
            R20,
            L4,
            |f| {
                start(f, 2012);
                f.certificates = vec![Certificate { source: None, ..cert(5, "电工", date!(2010 - 01 - 01)) }];
            },
            Review,
        )
        .rule("l4.holds_l5", Nd),
        c(
            "§4.1 L4: certificate without an issue date → review",
            R20,
            L4,
            |f| {
                start(f, 2012);
                f.certificates = vec![Certificate { issued_on: None, ..cert(5, "电工", date!(2010 - 01 - 01)) }];
            },
            Review,
        )
        .rule("l4.years_at_l5", Nd),
        c("§4.1 L4: both routes pass", R20, L4, |f| f.certificates = vec![cert(5, "电工", date!(2008 - 01 - 01))], Yes),
        c(
            "§4.1 L4: unknown work start does not matter when the certificate route passes",
            R20,
            L4,
            |f| {
                f.work_start_date = None;
                f.certificates = vec![cert(5, "电工", date!(2008 - 01 - 01))];
            },
            Yes,
        )
        .rule("l4.work_years_10", Nd),
        c("§4.1 L4: unknown work start and no certificate → review", R20, L4, |f| f.work_start_date = None, Review).rule("l4.routes", Nd),
        // ---- level 3 ----
        c(
            "§4.1 L3 main route: level-4 certificate from 2015 with 17 working years",
            R20,
            L3,
            |f| {
                start(f, 2004);
                f.certificates = vec![cert(4, "电工", date!(2015 - 06 - 30))];
            },
            Yes,
        )
        .rule("l3.cert_route", Passed),
        c(
            "§4.1 L3 main route: level-4 certificate from 2016 with 17 working years",
            R20,
            L3,
            |f| {
                start(f, 2004);
                f.certificates = vec![cert(4, "电工", date!(2016 - 06 - 30))];
            },
            No,
        )
        .rule("l3.years_at_l4", Failed),
        c("§4.1 L3 alt route: exactly 18 working years (2003..2020)", R20, L3, |f| start(f, 2003), Yes).rule("l3.work_years_18", Passed),
        c("§4.1 L3 alt route: 17 working years", R20, L3, |f| start(f, 2004), No).rule("l3.work_years_18", Failed),
        c(
            "§4.1 L3: a level-5 certificate is not the level below level 3",
            R20,
            L3,
            |f| {
                start(f, 2004);
                f.certificates = vec![cert(5, "电工", date!(2005 - 06 - 30))];
            },
            No,
        )
        .rule("l3.holds_l4", Failed),
        // ---- level 2 ----
        c(
            "§4.1 L2: level-3 certificate five years, continuous, senior high",
            R20,
            L2,
            |f| f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))],
            Yes,
        ),
        c(
            "§4.1 L2: years at level 3 broken (not continuous)",
            R20,
            L2,
            |f| {
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
                f.years_at_level_continuous = Some(false);
            },
            No,
        )
        .rule("l2.years_at_l3", Failed),
        c(
            "§4.1 L2: continuity unknown → review",
            R20,
            L2,
            |f| {
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
                f.years_at_level_continuous = None;
            },
            Review,
        )
        .rule("l2.years_at_l3", Nd),
        c("§4.1 L2: level-3 certificate only four years", R20, L2, |f| f.certificates = vec![cert(3, "电工", date!(2016 - 03 - 01))], No),
        c("§4.1 L2: no route on working years alone", R20, L2, |f| start(f, 1995), No).rule("l2.holds_l3", Failed),
        c(
            "§4.1 L2 age relaxation: man of exactly 50, junior high, unit attests high skill",
            R20,
            L2,
            |f| {
                f.birth_date = Some(date!(1970 - 04 - 20));
                f.education = Some(Education::JuniorHigh);
                f.unit_attests_high_skill = Some(true);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            Yes,
        )
        .rule("l2.age_relaxation_route", Passed),
        c(
            "§4.1 L2 age relaxation: attestation unknown → review",
            R20,
            L2,
            |f| {
                f.birth_date = Some(date!(1970 - 04 - 20));
                f.education = Some(Education::JuniorHigh);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            Review,
        )
        .rule("l2.high_skill_attested", Nd),
        c(
            "§4.1 L2 age relaxation: unit does not attest high skill",
            R20,
            L2,
            |f| {
                f.birth_date = Some(date!(1970 - 04 - 20));
                f.education = Some(Education::JuniorHigh);
                f.unit_attests_high_skill = Some(false);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            No,
        ),
        c(
            "§4.1 L2 age relaxation: man one day short of 50",
            R20,
            L2,
            |f| {
                f.birth_date = Some(date!(1970 - 04 - 21));
                f.education = Some(Education::JuniorHigh);
                f.unit_attests_high_skill = Some(true);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            No,
        )
        .rule("l2.age_50_45", Failed),
        c(
            "§4.1 L2 age relaxation: woman of exactly 45",
            R20,
            L2,
            |f| {
                f.sex = Some(Sex::Female);
                f.birth_date = Some(date!(1975 - 04 - 20));
                f.education = Some(Education::JuniorHigh);
                f.unit_attests_high_skill = Some(true);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            Yes,
        ),
        c(
            "§4.1 L2 age relaxation: woman of 44",
            R20,
            L2,
            |f| {
                f.sex = Some(Sex::Female);
                f.birth_date = Some(date!(1975 - 04 - 21));
                f.education = Some(Education::JuniorHigh);
                f.unit_attests_high_skill = Some(true);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            No,
        ),
        c(
            "§4.1 L2: primary school is below the relaxed 初中 floor",
            R20,
            L2,
            |f| {
                f.birth_date = Some(date!(1962 - 01 - 01));
                f.education = Some(Education::Primary);
                f.unit_attests_high_skill = Some(true);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            No,
        )
        .rule("l2.education", Failed),
        c(
            "§4.1 L2: education unknown → review",
            R20,
            L2,
            |f| {
                f.education = None;
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            Review,
        ),
        c(
            "§4.1 L2: 本科 is above senior high",
            R20,
            L2,
            |f| {
                f.education = Some(Education::Bachelor);
                f.certificates = vec![cert(3, "电工", date!(2015 - 03 - 01))];
            },
            Yes,
        ),
        // ---- car reform (§3 2017, 2020 notice 二(一)) ----
        c(
            "2020 notice 二(一) car reform: driver now 保管工 uses the 汽车驾驶员 level-3 certificate for level 2",
            R20,
            L2,
            |f| {
                f.current_work_type = Some("保管工".into());
                f.work_type_changed_by_car_reform = true;
                f.certificates = vec![cert(3, "汽车驾驶员", date!(2014 - 03 - 01))];
            },
            Yes,
        )
        .rule("l2.holds_l3", Passed),
        c(
            "2020 notice 二(一) car reform: without the flag the old certificate does not count",
            R20,
            L2,
            |f| {
                f.current_work_type = Some("保管工".into());
                f.certificates = vec![cert(3, "汽车驾驶员", date!(2014 - 03 - 01))];
            },
            No,
        ),
        c(
            "2020 notice 二(一) car reform: mechanic's level-5 certificate for level 4",
            R20,
            L4,
            |f| {
                start(f, 2014);
                f.current_work_type = Some("保管工".into());
                f.work_type_changed_by_car_reform = true;
                f.certificates = vec![cert(5, "汽车维修工", date!(2014 - 03 - 01))];
            },
            Yes,
        ),
        c(
            "2020 notice 二(一) car reform: 汽车驾驶维修员 is a car work type too",
            R20,
            L3,
            |f| {
                start(f, 2010);
                f.current_work_type = Some("保管工".into());
                f.work_type_changed_by_car_reform = true;
                f.certificates = vec![cert(4, "汽车驾驶维修员", date!(2014 - 03 - 01))];
            },
            Yes,
        ),
        c(
            "2020 notice 二(一) car reform covers only car work types",
            R20,
            L3,
            |f| {
                start(f, 2010);
                f.current_work_type = Some("保管工".into());
                f.work_type_changed_by_car_reform = true;
                f.certificates = vec![cert(4, "电工", date!(2014 - 03 - 01))];
            },
            No,
        ),
        c(
            "2020 notice 二(一) car reform stops at level 2: not for level 1",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.work_type_changed_by_car_reform = true;
                f.certificates = vec![cert(2, "汽车驾驶员", date!(2012 - 03 - 01))];
            },
            No,
        )
        .rule("l1.holds_l2", Failed),
        // ---- scope (§3, 2020 notice 一) ----
        c("2020 notice 一(一): contracted staff are in scope", R20, L3, |f| f.staff_type = Some(StaffType::Contracted), Yes),
        c("2020 notice 一(一): other staff types are not", R20, L3, |f| f.staff_type = Some(StaffType::Other), No)
            .rule("scope.staff_type", Failed),
        c("2020 notice 一(一): staff type unknown → review", R20, L3, |f| f.staff_type = None, Review).rule("scope.staff_type", Nd),
        c("2020 notice 一(一): not in post", R20, L3, |f| f.in_post = Some(false), No).rule("scope.in_post", Failed),
        c("2020 notice 一(三): already retired", R20, L3, |f| f.retired = Some(true), No).rule("scope.not_retired", Failed),
        c(
            "§10.4 2020: man reached 60 on 2020-04-01, before the notice of 2020-04-02",
            R20,
            L3,
            |f| f.birth_date = Some(date!(1960 - 04 - 01)),
            No,
        )
        .rule("scope.retirement_age", Failed),
        c(
            "§10.4 2020: reaching 60 on the notice day itself excludes (on or before)",
            R20,
            L3,
            |f| f.birth_date = Some(date!(1960 - 04 - 02)),
            No,
        ),
        c(
            "§10.4 2020: reaching 60 the day after the notice → eligible with a warning",
            R20,
            L3,
            |f| f.birth_date = Some(date!(1960 - 04 - 03)),
            Yes,
        )
        .rule("scope.retirement_age", Passed),
        c(
            "§10.4 2020: woman worker (default 原50) born 1970-03-01 reached 50 before the notice",
            R20,
            L3,
            |f| {
                f.sex = Some(Sex::Female);
                f.birth_date = Some(date!(1970 - 03 - 01));
            },
            No,
        ),
        c(
            "§10.1 override: the same woman as 原55 (former cadre) is still in scope",
            R20,
            L3,
            |f| {
                f.sex = Some(Sex::Female);
                f.birth_date = Some(date!(1970 - 03 - 01));
                f.retirement_category = Some(RetirementCategory::Female55);
            },
            Yes,
        ),
        c(
            "§10.2 actual retirement date on file overrides the computed one",
            R20,
            L3,
            |f| f.actual_retirement_date = Some(date!(2020 - 03 - 31)),
            No,
        ),
        c("§10.4 birth date unknown and no ID number → review", R20, L3, |f| f.birth_date = None, Review).rule("scope.retirement_age", Nd),
        c(
            "§11 birth date and sex taken from the ID number when not entered",
            R20,
            L3,
            |f| {
                f.birth_date = None;
                f.sex = None;
                f.id_number = Some("11010519491231002X".into());
            },
            No,
        )
        .rule("scope.retirement_age", Failed),
        c(
            "§3 2021: notice date unknown; reaching 60 on 2021-03-10 is inside the window → review",
            R21,
            L3,
            |f| f.birth_date = Some(date!(1961 - 03 - 10)),
            Review,
        )
        .rule("scope.retirement_age", Nd),
        c(
            "§3 2021: reaching 60 on 2021-01-01 is before any possible notice date",
            R21,
            L3,
            |f| f.birth_date = Some(date!(1961 - 01 - 01)),
            No,
        ),
        c(
            "§3 2021: reaching 60 on 2021-07-01 is after the window → eligible",
            R21,
            L3,
            |f| f.birth_date = Some(date!(1961 - 07 - 01)),
            Yes,
        ),
        c(
            "§5.2 2021/27 level 1: cut-off is 31 Dec of the previous year, so reaching 60 on 2021-01-15 does not exclude",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.birth_date = Some(date!(1961 - 01 - 15));
            },
            Yes,
        )
        .rule("scope.retirement_age", Passed),
        c(
            "§5.2 2021/27 level 1: reaching 60 on 2020-12-31 excludes",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.birth_date = Some(date!(1960 - 12 - 31));
            },
            No,
        )
        .rule("scope.retirement_age", Failed),
        c(
            "§3 2023: reaching 60 on 2023-03-10, after the Luoyang relay of 2023-03-09",
            R23,
            L3,
            |f| f.birth_date = Some(date!(1963 - 03 - 10)),
            Yes,
        ),
        c(
            "§3 2023: reaching 60 on 2023-02-01, inside the window → review",
            R23,
            L3,
            |f| f.birth_date = Some(date!(1963 - 02 - 01)),
            Review,
        ),
        // ---- sanctions (2020 notice 六(四)) ----
        c(
            "2020 notice 六(四): false information in 2019 bars 2020 and 2021",
            R20,
            L3,
            |f| {
                f.sanctions =
                    vec![Sanction { kind: SanctionKind::FalseInformation, decided_on: Some(date!(2019 - 05 - 01)), bars_until: None }];
            },
            No,
        )
        .rule("sanction.no_active_ban", Failed),
        c(
            "2020 notice 六(四): a 2017 decision has run out by 2020",
            R20,
            L3,
            |f| {
                f.sanctions =
                    vec![Sanction { kind: SanctionKind::FalseInformation, decided_on: Some(date!(2017 - 05 - 01)), bars_until: None }];
            },
            Yes,
        ),
        c(
            "2020 notice 六(四): a ban ending on the evaluation day is still active",
            R20,
            L3,
            |f| {
                f.sanctions = vec![Sanction {
                    kind: SanctionKind::FalseInformation,
                    decided_on: Some(date!(2018 - 05 - 01)),
                    bars_until: Some(date!(2020 - 04 - 20)),
                }];
            },
            No,
        ),
        c(
            "2020 notice 六(四): a ban that ended the day before",
            R20,
            L3,
            |f| {
                f.sanctions = vec![Sanction {
                    kind: SanctionKind::FalseInformation,
                    decided_on: Some(date!(2018 - 05 - 01)),
                    bars_until: Some(date!(2020 - 04 - 19)),
                }];
            },
            Yes,
        ),
        c(
            "2020 notice 六(四): a sanction with no dates → review",
            R20,
            L3,
            |f| {
                f.sanctions = vec![Sanction { kind: SanctionKind::FalseInformation, decided_on: None, bars_until: None }];
            },
            Review,
        ),
        // ---- work types (§4.1 对岗报考, §5.1) ----
        c(
            "§15.6 catalogue not fully known: an unlisted work type → review",
            R20,
            L3,
            |f| f.current_work_type = Some("量子调试工".into()),
            Review,
        )
        .rule("work_type.catalogue", Nd),
        c(
            "§4.1 对岗报考: applying in another work type than the one performed",
            R20,
            L3,
            |f| f.applied_work_type = Some("木工".into()),
            No,
        )
        .rule("work_type.matches_post", Failed),
        c("§4.1 对岗报考: work type performed unknown → review", R20, L3, |f| f.current_work_type = None, Review),
        c(
            "§5.1 2023: every work type may apply for level 1",
            R23,
            L1,
            |f| {
                level1_2021(f);
                f.current_work_type = Some("电工".into());
                f.certificates = vec![cert(2, "电工", date!(2017 - 06 - 01))];
                f.annual_appraisals.extend([2021, 2022].map(|year| Appraisal { year, grade: Grade::Excellent }));
            },
            Yes,
        )
        .rule("l1.work_type_listed", Passed),
        c(
            "§5.1 2021: 42 work types, list not public; 电工 not among the known names → review",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.current_work_type = Some("电工".into());
                f.certificates = vec![cert(2, "电工", date!(2015 - 06 - 01))];
            },
            Review,
        )
        .rule("l1.work_type_listed", Nd),
        // ---- level 1, 2020 campaign (§5.3 + 2020 notice 二(二)) ----
        c("§5.3 + 2020 notice: level-1 applicant meeting every 2020 condition", R20, L1, level1_2020, Yes),
        c(
            "2020 notice 二(二): no CN-journal paper in 2020 → not eligible",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.cn_journal_paper = Some(false);
            },
            No,
        )
        .rule("l1.cn_journal_paper", Failed),
        c(
            "2020 notice 二(二): CN-journal paper unknown → review",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.cn_journal_paper = None;
            },
            Review,
        ),
        c(
            "2020 notice 二(二): no wage approval form for level-2 pay",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.wage_approval_form_level2 = Some(false);
            },
            No,
        )
        .rule("l1.wage_approval_form", Failed),
        c(
            "2020 notice 一(二): 电工 is not among the 62 level-1 work types of 2020",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.current_work_type = Some("电工".into());
                f.certificates = vec![cert(2, "电工", date!(2014 - 06 - 01))];
            },
            No,
        )
        .rule("l1.work_type_listed", Failed),
        c(
            "§5.3: no listed achievement after the level-2 certificate",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.achievements = vec![achievement("skill_achievement_2017", None, date!(2013 - 05 - 01), None)];
            },
            No,
        )
        .rule("l1.achievement_after_l2", Failed),
        c(
            "§5.3: achievement list of 2017 unseen; a commendation needs a person to judge",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.achievements = vec![achievement("commendation", Some(AwardScope::Provincial), date!(2016 - 05 - 01), None)];
            },
            Review,
        )
        .rule("l1.achievement_after_l2", Nd),
        c(
            "§5.3: junior high relaxed by two listed achievements",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.education = Some(Education::JuniorHigh);
                f.achievements.push(achievement("skill_achievement_2017", None, date!(2018 - 05 - 01), None));
            },
            Yes,
        )
        .rule("l1.education_relaxed_route", Passed),
        c(
            "§5.3: junior high with one achievement is not relaxed",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.education = Some(Education::JuniorHigh);
            },
            No,
        )
        .rule("l1.education", Failed),
        c(
            "§5.3: level-2 certificate of 2016 is under five years",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.certificates = vec![cert(2, "印刷工", date!(2016 - 06 - 01))];
            },
            No,
        ),
        c(
            "§5.3: appraisal of the last 3 years is off by default (SEC 'possibly')",
            R20,
            L1,
            |f| {
                level1_2020(f);
                f.annual_appraisals = vec![Appraisal { year: 2019, grade: Grade::Incompetent }];
            },
            Yes,
        ),
        // ---- level 1, 2021/27 (§5.2) ----
        c("§5.2: level-1 applicant meeting every 2021/27 condition", R21, L1, level1_2021, Yes).rule("l1.standard_route", Passed),
        c(
            "§5.2 vs 2020: the CN-paper rule is gone from 2021 and no wage form is asked",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.cn_journal_paper = Some(false);
                f.wage_approval_form_level2 = Some(false);
            },
            Yes,
        ),
        c(
            "§5.2 (二): 25 working years exactly (1997..2021)",
            R21,
            L1,
            |f| {
                level1_2021(f);
                start(f, 1997);
            },
            Yes,
        ),
        c(
            "§5.2 (二): 24 working years",
            R21,
            L1,
            |f| {
                level1_2021(f);
                start(f, 1998);
            },
            No,
        )
        .rule("l1.work_years_25", Failed),
        c(
            "§5.2 (二): level-2 certificate from 2016 is five years in 2021",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.certificates = vec![cert(2, "保管工", date!(2016 - 12 - 31))];
            },
            Yes,
        ),
        c(
            "§5.2 (二): level-2 certificate from 2017 is four years",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.certificates = vec![cert(2, "保管工", date!(2017 - 01 - 01))];
            },
            No,
        )
        .rule("l1.years_at_l2", Failed),
        c(
            "§5.2 (二): appointed to a level-3 post only",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.appointed_post_level = Some(3);
            },
            No,
        )
        .rule("l1.appointed_l2", Failed),
        c(
            "§5.2 (二): appointment unknown → review",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.appointed_post_level = None;
            },
            Review,
        ),
        c(
            "§5.2 (四): one year 基本合格 breaks the five-year window",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.annual_appraisals.retain(|a| a.year != 2018);
                f.annual_appraisals.push(Appraisal { year: 2018, grade: Grade::BasicallyCompetent });
            },
            No,
        )
        .rule("l1.appraisal_5_years", Failed),
        c(
            "§5.2 (四): one year missing → review",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.annual_appraisals.retain(|a| a.year != 2018);
            },
            Review,
        )
        .rule("l1.appraisal_5_years", Nd),
        c(
            "§8: an ungraded year does not break the window by default",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.annual_appraisals.retain(|a| a.year != 2018);
                f.annual_appraisals.push(Appraisal { year: 2018, grade: Grade::Ungraded });
            },
            Yes,
        ),
        c(
            "§5.2 (四): only one 优秀 year",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.annual_appraisals.retain(|a| a.year != 2019);
                f.annual_appraisals.push(Appraisal { year: 2019, grade: Grade::Competent });
            },
            No,
        )
        .rule("l1.excellent_2_years", Failed),
        c(
            "§5.2 (四): one 优秀 year plus one 优秀共产党员 year",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.annual_appraisals.retain(|a| a.year != 2019);
                f.annual_appraisals.push(Appraisal { year: 2019, grade: Grade::Competent });
                f.party_excellence_years = vec![2020];
            },
            Yes,
        ),
        c(
            "§5.2 (四): 优秀 years outside the five-year window do not count",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.annual_appraisals = (2016..=2020).map(|y| Appraisal { year: y, grade: Grade::Competent }).collect();
                f.party_excellence_years = vec![2014, 2015];
            },
            No,
        ),
        c(
            "§5.2 (三): junior high without exemption",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.education = Some(Education::JuniorHigh);
            },
            No,
        )
        .rule("l1.education_appraisal", Failed),
        c(
            "§5.2 (六)1: municipal commendation after level 2 exempts education and appraisal",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("commendation", Some(AwardScope::Municipal), date!(2018 - 05 - 01), None)];
            },
            Yes,
        )
        .rule("l1.exemption_route", Passed),
        c(
            "§5.2 (六)1: county commendation is below 省辖市",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("commendation", Some(AwardScope::County), date!(2018 - 05 - 01), None)];
            },
            No,
        ),
        c(
            "§5.2 (六)2: provincial May Day Labour Medal",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("may_day_medal", Some(AwardScope::Provincial), date!(2018 - 05 - 01), None)];
            },
            Yes,
        ),
        c(
            "§5.2 (六)2: a municipal May Day medal is not enough",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("may_day_medal", Some(AwardScope::Municipal), date!(2018 - 05 - 01), None)];
            },
            No,
        ),
        c(
            "§5.2 (六)3: municipal 技术能手",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("skill_expert", Some(AwardScope::Municipal), date!(2018 - 05 - 01), None)];
            },
            Yes,
        ),
        c(
            "§5.2 (六)4: third prize in a municipal competition",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("competition_prize", Some(AwardScope::Municipal), date!(2018 - 05 - 01), Some(3))];
            },
            Yes,
        ),
        c(
            "§5.2 (六)4: fourth place is below third prize",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("competition_prize", Some(AwardScope::Municipal), date!(2018 - 05 - 01), Some(4))];
            },
            No,
        ),
        c(
            "§5.2 (六)5: one invention patent, fifth inventor",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("patent_invention", None, date!(2018 - 05 - 01), Some(5))];
            },
            Yes,
        ),
        c(
            "§5.2 (六)5: sixth inventor does not count",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("patent_invention", None, date!(2018 - 05 - 01), Some(6))];
            },
            No,
        ),
        c(
            "§5.2 (六)5: one utility-model patent is not enough",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("patent_utility_model", None, date!(2018 - 05 - 01), Some(1))];
            },
            No,
        ),
        c(
            "§5.2 (六)5: two utility-model patents",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![
                    achievement("patent_utility_model", None, date!(2018 - 05 - 01), Some(1)),
                    achievement("patent_utility_model", None, date!(2019 - 05 - 01), Some(2)),
                ];
            },
            Yes,
        ),
        c(
            "§5.2 (六)6: text cut off ('特别…'), so it needs a person",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("special_talent", None, date!(2018 - 05 - 01), None)];
            },
            Review,
        )
        .rule("l1.exemption_achievement", Nd),
        c(
            "§5.2 (六): an honour from before the level-2 certificate does not exempt",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("commendation", Some(AwardScope::Provincial), date!(2014 - 05 - 01), None)];
            },
            No,
        ),
        c(
            "§5.2 (六): an honour without a scope needs a person",
            R21,
            L1,
            |f| {
                level1_2021_exempt_only(f);
                f.achievements = vec![achievement("commendation", None, date!(2018 - 05 - 01), None)];
            },
            Review,
        ),
        // ---- 破格 (§4.1) ----
        c(
            "§4.1 破格: provincial model worker waives years at level 4 → review",
            R20,
            L3,
            |f| {
                start(f, 2011);
                f.certificates = vec![cert(4, "电工", date!(2018 - 06 - 01))];
                f.achievements = vec![achievement("model_worker", Some(AwardScope::Provincial), date!(2019 - 04 - 30), None)];
            },
            Review,
        )
        .rule("exceptional_promotion.review", Nd),
        c(
            "§4.1 破格: a municipal model worker is not a ground",
            R20,
            L3,
            |f| {
                start(f, 2011);
                f.certificates = vec![cert(4, "电工", date!(2018 - 06 - 01))];
                f.achievements = vec![achievement("model_worker", Some(AwardScope::Municipal), date!(2019 - 04 - 30), None)];
            },
            No,
        ),
        c(
            "§4.1 破格 never skips a level (skip_level: false)",
            R20,
            L3,
            |f| {
                start(f, 2011);
                f.certificates = vec![cert(5, "电工", date!(2012 - 06 - 01))];
                f.achievements = vec![achievement("model_worker", Some(AwardScope::National), date!(2019 - 04 - 30), None)];
            },
            No,
        )
        .rule("l3.holds_l4", Failed),
        c(
            "§4.1 破格 is not needed when the normal rules pass",
            R20,
            L3,
            |f| {
                f.certificates = vec![cert(4, "电工", date!(2012 - 06 - 01))];
                f.achievements = vec![achievement("model_worker", Some(AwardScope::National), date!(2019 - 04 - 30), None)];
            },
            Yes,
        ),
        // ---- special categories (2020 notice 二(三)) ----
        c(
            "2020 notice 二(三): front-line health workers → review under the unpublished notice",
            R20,
            L3,
            |f| {
                f.special_policies = vec!["2020-frontline-health".into()];
            },
            Review,
        )
        .rule("policy.2020_frontline_health.review", Nd),
        c(
            "2020 notice 二(三): the policy is not in the 2021 rule set; flag is only a warning",
            R21,
            L3,
            |f| {
                f.special_policies = vec!["2020-frontline-health".into()];
            },
            Yes,
        ),
        // ---- bad input ----
        c("bad input: certificate dated before birth", R20, L4, |f| f.certificates = vec![cert(5, "电工", date!(1970 - 01 - 01))], Review)
            .rule("input.consistent", Nd),
        c("bad input: work start before age 16", R20, L3, |f| f.work_start_date = Some(date!(1989 - 01 - 01)), Review),
        c("bad input: regularised before work start", R20, L3, |f| f.regularised_on = Some(date!(2000 - 01 - 01)), Review),
        c("bad input: unknown certificate level", R20, L3, |f| f.certificates = vec![cert(7, "电工", date!(2010 - 01 - 01))], Review),
        c("bad input: work start in the future", R20, L5, |f| f.work_start_date = Some(date!(2021 - 01 - 01)), Review),
        c("bad input: birth date contradicts the ID number", R20, L3, |f| f.id_number = Some("11010519491231002X".into()), Review),
        c("bad input: invalid ID number", R20, L3, |f| f.id_number = Some("110105194912310021".into()), Review),
        c(
            "bad input: one year with two grades",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.annual_appraisals.push(Appraisal { year: 2018, grade: Grade::Incompetent });
            },
            Review,
        ),
        c("bad input: 原55 women's category for a man", R20, L3, |f| f.retirement_category = Some(RetirementCategory::Female55), Review),
        c("bad input: nothing known at all", R20, L5, |f| *f = PersonFacts::default(), Review),
        c("bad input: nothing known at all, level 1", R21, L1, |f| *f = PersonFacts::default(), Review),
        c(
            "bad input: invalid appointed post level",
            R21,
            L1,
            |f| {
                level1_2021(f);
                f.appointed_post_level = Some(0);
            },
            Review,
        ),
    ]
}

/// Checks every result carries what the issue asks of a trace.
fn assert_trace_complete(reference: &str, v: &LevelVerdict<'_>) {
    assert!(!v.results.is_empty(), "{reference}");
    for r in &v.results {
        assert!(!r.facts_used.truncated, "{reference}: {} cites too many facts", r.rule_id);
        assert!(!r.rule_id.is_empty());
        if r.outcome != Outcome::Passed || r.waived_by.is_some() {
            assert!(!r.explanation_text().trim().is_empty(), "{reference}: {} has no explanation", r.rule_id);
            assert!(!r.source.document.trim().is_empty() && !r.source.clause.trim().is_empty(), "{reference}: {} has no source", r.rule_id);
        }
    }
}

#[test]
fn table_of_cases() {
    let cases = cases();
    assert!(cases.len() >= 80, "the issue asks for at least 80 cases, have {}", cases.len());
    let sets: Vec<RuleSet> = [R20, R21, R23].iter().map(|id| rules(id)).collect();
    let mut failures = Vec::new();
    for case in &cases {
        let rs = sets.iter().find(|r| r.id == case.rules).unwrap();
        let mut facts = base();
        (case.edit)(&mut facts);
        let eval = evaluate(&facts, rs, on_for(case.rules), &[case.level]);
        let v = eval.level(case.level).unwrap();
        assert_trace_complete(case.reference, v);
        serde_json::to_string(&eval).unwrap();
        if v.verdict != case.verdict {
            failures.push(format!("{}: expected {:?}, got {:?}\n{}", case.reference, case.verdict, v.verdict, v.report()));
            continue;
        }
        if let Some((id, outcome)) = case.rule {
            // A route id stands for the `all_of` of the results tagged with it.
            let route_outcome = v.results.iter().filter(|r| r.route == Some(id)).map(|r| r.outcome).reduce(Outcome::and);
            match v.result(id) {
                None if route_outcome == Some(outcome) => {}
                Some(r) if r.outcome == outcome => {}
                Some(r) => {
                    failures.push(format!("{}: rule {id} expected {outcome:?}, got {:?}\n{}", case.reference, r.outcome, v.report()))
                }
                None => failures.push(format!("{}: rule {id} missing\n{}", case.reference, v.report())),
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ---- focused tests --------------------------------------------------------------------------

#[test]
fn builtin_rule_sets_load_and_are_pinned_to_their_version() {
    // A rule set is immutable once a campaign opens: changing the file means bumping `version`
    // and updating the fingerprint here, so stored evaluations keep pointing at the right text.
    let pinned = [
        (R20, 1, "e6e84efe49e7815ca835dc146bed230d246d748f45cf6729d49cdd6fddbf6f25"),
        (R21, 1, "93c5d79a56752e3ffc2f75a61bb4712bce57583361bc15ff9f1053301801e55f"),
        (R23, 1, "cacf79a415922a7aee7bff8325e8b1872ce1e2641113f6edbaf4c30b73a8f4d0"),
    ];
    let ids: Vec<&str> = RuleSet::builtin_ids().collect();
    assert_eq!(ids, vec![R20, R21, R23]);
    for (id, version, fingerprint) in pinned {
        let rs = rules(id);
        assert_eq!(rs.id, id);
        assert_eq!((rs.version, rs.fingerprint()), (version, fingerprint), "{id} changed: bump its version and update the pin");
        for level in 1..=5 {
            assert!(rs.level_rules(level).is_some(), "{id} defines level {level}");
        }
    }
    assert!(RuleSet::builtin("HN-GK-1999").is_none());
    assert_eq!(rules(R20).campaign_year, 2020);
}

#[test]
fn rule_sets_express_the_year_differences() {
    let r20 = rules(R20);
    let r21 = rules(R21);
    let r23 = rules(R23);
    let ids = |rs: &RuleSet, level: u8| -> Vec<String> {
        fn walk(nodes: &[RuleNode], out: &mut Vec<String>) {
            for n in nodes {
                out.push(n.id.clone());
                if let Check::AnyOf { routes } = &n.check {
                    for r in routes {
                        walk(&r.all_of, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&rs.level_rules(level).unwrap().requires, &mut out);
        out
    };
    assert!(ids(&r20, 1).contains(&"l1.cn_journal_paper".to_string()));
    assert!(ids(&r20, 1).contains(&"l1.wage_approval_form".to_string()));
    assert!(!ids(&r21, 1).contains(&"l1.cn_journal_paper".to_string()), "abolished from 2021");
    assert!(ids(&r21, 1).contains(&"l1.work_years_25".to_string()));
    assert_eq!(r20.work_types.level1.membership("装饰美工"), Membership::In);
    assert_eq!(r20.work_types.level1.membership("电工"), Membership::NotIn);
    assert_eq!(r23.work_types.level1.membership("任何工种"), Membership::In);
    if let WorkTypeList::List { names, complete, .. } = &r20.work_types.level1 {
        assert_eq!(names.len(), 62);
        assert!(complete);
        for n in crate::work_type::HENAN_2020_LEVEL1_WORK_TYPES {
            assert!(names.iter().any(|x| x == n), "{n}");
        }
    } else {
        panic!("2020 level 1 is a list");
    }
    assert_eq!(r20.work_types.car_reform.work_types, vec!["汽车驾驶员", "汽车维修工", "汽车驾驶维修员"]);
    assert_eq!(r20.special_policies.len(), 1);
    assert!(r21.special_policies.is_empty());
    // Confidence tags stay visible in the trace.
    let facts = base();
    let e = evaluate(&facts, &r20, on_for(R20), &[Level::L3]);
    let v = e.level(Level::L3).unwrap();
    assert_eq!(v.result("l3.work_years_18").unwrap().source.confidence, Confidence::OffStar);
    assert_eq!(v.result("l3.work_years_18").unwrap().source.document, "豫人社工考〔2013〕1号");
}

#[test]
fn evaluation_records_rule_set_version_and_serialises_in_chinese() {
    let rs = rules(R20);
    let facts = base();
    let e = evaluate(&facts, &rs, on_for(R20), &[Level::L3, Level::L4, Level::L2]);
    assert_eq!((e.rule_set_id, e.rule_set_version, e.campaign_year), (R20, 1, 2020));
    assert_eq!(e.rule_set_fingerprint, rs.fingerprint());
    assert_eq!(e.levels.len(), 3);
    let json: serde_json::Value = serde_json::to_value(&e).unwrap();
    assert_eq!(json["rule_set_id"], R20);
    assert_eq!(json["evaluated_on"], "2020-04-20");
    let l3 = &json["levels"][0];
    assert_eq!(l3["level"], 3);
    assert_eq!(l3["verdict"], "eligible");
    assert_eq!(l3["verdict_label"], "符合");
    let results = l3["results"].as_array().unwrap();
    let routes = results.iter().find(|r| r["rule_id"] == "l3.routes").unwrap();
    assert_eq!(routes["outcome_label"], "通过");
    assert!(routes["explanation"].as_str().unwrap().contains("满足途径“工作年限18年（含）以上”"), "{routes}");
    assert!(routes["explanation"].as_str().unwrap().contains("未满足"), "names the route that failed: {routes}");
    let cert_rule = results.iter().find(|r| r["rule_id"] == "l3.holds_l4").unwrap();
    assert_eq!(cert_rule["route"], "l3.cert_route");
    assert_eq!(cert_rule["outcome_label"], "未通过");
    assert_eq!(cert_rule["source"]["confidence"], "OFF*");
    let wy = results.iter().find(|r| r["rule_id"] == "l3.work_years_18").unwrap();
    assert_eq!(wy["threshold"], "18年（含）以上");
    assert_eq!(wy["facts_used"][1]["value"], "20年");
    assert!(wy["explanation"].as_str().unwrap().contains("为20年"));
    assert_eq!(json["levels"][2]["verdict_label"], "不符合");
    let report = e.level(Level::L3).unwrap().report();
    assert!(report.starts_with("三级（高级工）：符合"), "{report}");
}

#[test]
fn level_verdict_warnings() {
    let rs = rules(R20);
    let mut f = base();
    f.birth_date = Some(date!(1960 - 04 - 03));
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L3]);
    let v = e.level(Level::L3).unwrap();
    assert_eq!(v.verdict, Verdict::Eligible, "§3: retiring during the year is a warning, not an exclusion");
    assert!(v.warnings.iter().any(|w| matches!(w, Warning::RetiresDuringCampaignYear { date, .. } if *date == date!(2020 - 04 - 03))));
    assert!(v.warnings.iter().any(|w| w.to_string().contains("自主决定")));

    let mut f = base();
    f.birth_date = Some(date!(1961 - 01 - 01));
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L3]);
    assert!(e.level(Level::L3).unwrap().warnings.is_empty(), "reaches 60 in 2021");

    let mut f = base();
    f.certificates = vec![cert(3, "电工", date!(2015 - 01 - 01))];
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L4]);
    assert!(e.level(Level::L4).unwrap().warnings.iter().any(|w| matches!(w, Warning::AlreadyHoldsLevel { level: 4 })));

    let mut f = base();
    f.special_policies = vec!["no-such-policy".into()];
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L3]);
    let v = e.level(Level::L3).unwrap();
    assert_eq!(v.verdict, Verdict::Eligible);
    assert!(v.warnings.iter().any(|w| matches!(w, Warning::UnknownPolicy("no-such-policy"))));

    let mut f = base();
    f.certificates = vec![cert(3, "电工", date!(2015 - 01 - 01))];
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L2]);
    assert!(e.level(Level::L2).unwrap().warnings.iter().any(|w| matches!(w, Warning::Note(n) if n.contains("单位审核"))));
}

#[test]
fn exceptional_promotion_trace_and_configurable_waiver() {
    let rs = rules(R20);
    let mut f = base();
    start(&mut f, 2011);
    f.certificates = vec![cert(4, "电工", date!(2018 - 06 - 01))];
    f.achievements = vec![achievement("model_worker", Some(AwardScope::Provincial), date!(2019 - 04 - 30), None)];
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L3]);
    let v = e.level(Level::L3).unwrap();
    let waived = v.result("l3.years_at_l4").unwrap();
    assert_eq!(waived.outcome, Outcome::Passed);
    assert_eq!(waived.waived_by, Some("省（部）级以上劳动模范或先进工作者"));
    assert!(waived.explanation_text().contains("予以免除"), "{}", waived.explanation_text());
    assert!(v.result("exceptional_promotion.review").unwrap().explanation_text().contains("须人工审核"));

    // What 破格 waives and whether it goes to a person are data.
    let mut rs2 = rs.clone();
    rs2.exceptional_promotion.requires_review = false;
    let e = evaluate(&f, &rs2, on_for(R20), &[Level::L3]);
    assert_eq!(e.level(Level::L3).unwrap().verdict, Verdict::Eligible);
    rs2.exceptional_promotion.waives = vec![];
    let e = evaluate(&f, &rs2, on_for(R20), &[Level::L3]);
    assert_eq!(e.level(Level::L3).unwrap().verdict, Verdict::NotEligible);
    // And the loader refuses a waiver that would skip a level.
    let text = RuleSet::builtin_source(R20).unwrap().replace(
        r#""waives": [
      "years_at_level"
    ]"#,
        r#""waives": ["years_at_level", "holds_certificate"]"#,
    );
    assert!(text.contains("holds_certificate\"]"));
    assert!(RuleSet::from_json(&text).unwrap_err().to_string().contains("skip_level"));
}

#[test]
fn special_policy_can_add_and_relax_rules_without_code() {
    // A made-up policy, written only as data: it waives working years and adds an education rule.
    let text = RuleSet::builtin_source(R21).unwrap().replace(
        r#""special_policies": [],"#,
        r#""special_policies": [{
            "id": "test-policy", "label": "测试政策", "levels": [3],
            "waives": ["work_years"],
            "adds": [{"id": "policy.test.education", "doc": "2013-1", "clause": "测试条款", "confidence": "INF",
                      "check": "education_at_least", "at_least": "junior_college"}],
            "doc": "2013-1", "clause": "测试", "confidence": "INF"}],"#,
    );
    let rs = RuleSet::from_json(&text).unwrap();
    assert_ne!(rs.fingerprint(), rules(R21).fingerprint());
    let mut f = base();
    start(&mut f, 2010); // 12 years: the level-3 route on working years fails
    f.special_policies = vec!["test-policy".into()];
    f.education = Some(Education::JuniorCollege);
    let e = evaluate(&f, &rs, on_for(R21), &[Level::L3, Level::L4]);
    let v = e.level(Level::L3).unwrap();
    assert_eq!(v.verdict, Verdict::Eligible, "{}", v.report());
    assert_eq!(v.result("l3.work_years_18").unwrap().waived_by, Some("测试政策"));
    f.education = Some(Education::SeniorHigh);
    let e = evaluate(&f, &rs, on_for(R21), &[Level::L3]);
    assert_eq!(e.level(Level::L3).unwrap().verdict, Verdict::NotEligible, "the added rule applies");
    assert_eq!(e.level(Level::L3).unwrap().result("policy.test.education").unwrap().outcome, Outcome::Failed);
    // Without the flag, nothing changes.
    f.special_policies.clear();
    start(&mut f, 2010);
    let e = evaluate(&f, &rs, on_for(R21), &[Level::L3]);
    assert_eq!(e.level(Level::L3).unwrap().verdict, Verdict::NotEligible);
}

#[test]
fn frontline_policy_cites_the_unpublished_notice() {
    let rs = rules(R20);
    let mut f = base();
    f.special_policies = vec!["2020-frontline-health".into()];
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L3]);
    let r = e.level(Level::L3).unwrap().result("policy.2020_frontline_health.review").unwrap();
    assert_eq!(r.source.document, "另行发文通知（未公开）");
    assert_eq!(r.source.confidence, Confidence::Missing);
    assert!(r.explanation_text().contains("未公开"));
}

#[test]
fn year_counting_mode_is_a_parameter() {
    // §4.2: started 2003-07-01; counted inclusively that is 18 years in 2020, in full years to
    // 31 Dec 2020 only 17.
    let mut rs = rules(R20);
    let mut f = base();
    start(&mut f, 2003);
    assert_eq!(evaluate(&f, &rs, on_for(R20), &[Level::L3]).levels[0].verdict, Verdict::Eligible);
    rs.counting.work_years = YearCounting::FullYearsToDate { cutoff: DateSpec::parse("{Y}-12-31").unwrap() };
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L3]);
    assert_eq!(e.levels[0].verdict, Verdict::NotEligible);
    assert_eq!(e.levels[0].result("l3.work_years_18").unwrap().facts_used.get(FactName::WorkYears), Some(FactValue::Years(17)));
}

#[test]
fn appraisal_ungraded_years_are_configurable() {
    let mut rs = rules(R21);
    let mut f = base();
    level1_2021(&mut f);
    f.annual_appraisals.retain(|a| a.year != 2018);
    f.annual_appraisals.push(Appraisal { year: 2018, grade: Grade::Ungraded });
    assert_eq!(evaluate(&f, &rs, on_for(R21), &[Level::L1]).levels[0].verdict, Verdict::Eligible);
    rs.appraisal.ungraded_breaks_window = true;
    assert_eq!(evaluate(&f, &rs, on_for(R21), &[Level::L1]).levels[0].verdict, Verdict::NotEligible);
}

#[test]
fn retirement_reform_is_used_after_2025() {
    // §10.4: a 2025 campaign with a notice on 2025-03-01. A man born 1965-02-10 reaches 60 on
    // 2025-02-10 under the old rule (excluded) but 60岁1个月 on 2025-03-10 under the reform.
    let text = RuleSet::builtin_source(R23).unwrap().replace("\"campaign_year\": 2023", "\"campaign_year\": 2025").replace(
        r#""kind": "unknown_between",
        "from": "2023-01-01",
        "to": "2023-03-09","#,
        r#""kind": "on_or_before",
        "date": "2025-03-01","#,
    );
    let rs = RuleSet::from_json(&text).unwrap();
    assert_eq!(rs.campaign_year, 2025);
    let mut f = base();
    f.birth_date = Some(date!(1965 - 02 - 10));
    let e = evaluate(&f, &rs, date!(2025 - 03 - 20), &[Level::L3]);
    let v = e.level(Level::L3).unwrap();
    assert_eq!(v.verdict, Verdict::Eligible, "{}", v.report());
    assert_eq!(
        v.result("scope.retirement_age").unwrap().facts_used.get(FactName::RetirementDate),
        Some(FactValue::Date(date!(2025 - 03 - 10)))
    );
    f.birth_date = Some(date!(1965 - 01 - 10)); // 60岁1个月 → 2025-02-10
    assert_eq!(evaluate(&f, &rs, date!(2025 - 03 - 20), &[Level::L3]).levels[0].verdict, Verdict::NotEligible);
}

#[test]
fn undefined_level_and_broken_rule_sets() {
    let text = RuleSet::builtin_source(R20).unwrap();
    let mut rs = RuleSet::from_json(text).unwrap();
    rs.levels.retain(|l| l.level != 5);
    let mut f = base();
    start(&mut f, 2018);
    let e = evaluate(&f, &rs, on_for(R20), &[Level::L5]);
    assert_eq!(e.levels[0].verdict, Verdict::NeedsReview);
    assert_eq!(e.levels[0].result("level.defined").unwrap().outcome, Outcome::NotDecidable);

    let bad = [
        (text.replace("\"version\": 1", "\"version\": 0"), "version"),
        (text.replace("\"doc\": \"2017-18\"", "\"doc\": \"nope\""), "unknown document"),
        (text.replace("\"id\": \"l4.years_at_l5\"", "\"id\": \"l4.holds_l5\""), "duplicate"),
        (text.replace("\"cutoff\": \"{Y}-09-30\"", "\"cutoff\": \"{Y}-02-30\""), "bad date"),
        (text.replace("\"list\": \"level1_2017_achievements\"", "\"list\": \"missing\""), "unknown ground list"),
        (text.replace("\"up_to_level\": 2", "\"up_to_level\": 7"), "up_to_level"),
        ("{".to_string(), "EOF"),
    ];
    for (t, expect) in bad {
        let err = RuleSet::from_json(&t).unwrap_err().to_string();
        assert!(err.contains(expect), "{expect}: {err}");
    }
}

#[test]
fn date_specs() {
    assert_eq!(DateSpec::parse("{Y}-09-30").unwrap().resolve(2020), Some(date!(2020 - 09 - 30)));
    assert_eq!(DateSpec::parse("{Y-1}-12-31").unwrap().resolve(2021), Some(date!(2020 - 12 - 31)));
    assert_eq!(DateSpec::parse("{Y+1}-01-01").unwrap().resolve(2021), Some(date!(2022 - 01 - 01)));
    assert_eq!(DateSpec::parse("2020-04-02").unwrap().resolve(1999), Some(date!(2020 - 04 - 02)));
    assert_eq!(DateSpec::parse("{Y}-02-29").unwrap().resolve(2021), None);
    for bad in ["", "{Y}", "{Y}-13-01", "{Q}-01-01", "2020-02-30", "{Yx}-01-01"] {
        assert!(DateSpec::parse(bad).is_none(), "{bad}");
    }
    for s in ["{Y}-09-30", "{Y-1}-12-31", "{Y+2}-01-05", "2020-04-02"] {
        assert_eq!(DateSpec::parse(s).unwrap().to_string(), s);
    }
}

#[test]
fn chinese_labels_parse() {
    for (s, e) in
        [("高中", Education::SeniorHigh), ("职高", Education::SeniorHigh), ("技校", Education::SeniorHigh), ("职专", Education::SeniorHigh)]
    {
        assert_eq!(Education::parse(s), Some(e));
    }
    assert_eq!(Education::parse("初中"), Some(Education::JuniorHigh));
    assert_eq!(Education::parse("研究生"), Some(Education::Postgraduate));
    assert!(Education::Primary < Education::JuniorHigh && Education::JuniorHigh < Education::SeniorHigh);
    assert!(Education::SeniorHigh < Education::JuniorCollege && Education::Bachelor < Education::Postgraduate);
    assert_eq!(Grade::parse("称职"), Some(Grade::Competent));
    assert_eq!(Grade::parse("基本称职"), Some(Grade::BasicallyCompetent));
    assert_eq!(Grade::parse("不定等次"), Some(Grade::Ungraded));
    assert_eq!(serde_json::from_str::<Grade>("\"优秀\"").unwrap(), Grade::Excellent);
    assert_eq!(serde_json::to_string(&Grade::Excellent).unwrap(), "\"excellent\"");
    assert!(serde_json::from_str::<Education>("\"幼儿园\"").is_err());
    assert_eq!(AwardScope::parse("省辖市（厅）级"), Some(AwardScope::Municipal));
    assert!(AwardScope::National > AwardScope::Provincial);
    assert_eq!(Verdict::NeedsReview.label(), "需人工审核");
    assert_eq!(Outcome::NotDecidable.label(), "无法判断");
    assert_eq!(Confidence::parse("OFF*"), Some(Confidence::OffStar));
}

#[test]
fn validate_facts_reports_each_contradiction() {
    let on = date!(2020 - 04 - 20);
    assert!(validate_facts(&base(), on).is_empty());
    let mut f = base();
    f.certificates = vec![cert(5, "电工", date!(1970 - 01 - 01)), cert(9, "电工", date!(2021 - 01 - 01))];
    f.work_start_date = Some(date!(1989 - 06 - 14));
    f.regularised_on = Some(date!(1989 - 01 - 01));
    f.appointed_post_level = Some(6);
    f.achievements = vec![achievement("", None, date!(2030 - 01 - 01), None)];
    f.sanctions = vec![Sanction {
        kind: SanctionKind::FalseInformation,
        decided_on: Some(date!(2019 - 01 - 01)),
        bars_until: Some(date!(2018 - 01 - 01)),
    }];
    f.party_excellence_years = vec![2030];
    let problems = validate_facts(&f, on);
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    for expected in [
        "certificates[0].issued_on",
        "certificates[1].level",
        "certificates[1].issued_on",
        "work_start_date",
        "regularised_on",
        "appointed_post_level",
        "achievements[0].date",
        "achievements[0].kind",
        "sanctions[0].bars_until",
        "party_excellence_years[0]",
    ] {
        assert!(fields.contains(&expected), "{expected} in {fields:?}");
    }
    assert!(problems.iter().all(|p| !p.reason.is_empty()));
    let start_problem = problems.iter().find(|p| p.field == "work_start_date").unwrap();
    assert!(start_problem.reason.contains("16周岁"), "{}", start_problem.reason);
}

#[test]
fn example_facts_file_deserialises_and_evaluates() {
    let text = include_str!("../../rulesets/example-facts.jsonl");
    let people: Vec<PersonFacts> = text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(people.len(), 5);
    let rs = rules(R20);
    let mut verdicts = Vec::new();
    for p in &people {
        let e = evaluate(p, &rs, on_for(R20), &Level::ALL);
        for v in &e.levels {
            assert_trace_complete("example", v);
        }
        verdicts.push(e.levels.iter().map(|v| v.verdict).collect::<Vec<_>>());
        // Round trip keeps the facts.
        let again: PersonFacts = serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap();
        assert_eq!(&again, p);
    }
    assert!(verdicts.iter().flatten().any(|v| *v == Verdict::Eligible));
    assert!(verdicts.iter().flatten().any(|v| *v == Verdict::NotEligible));
    assert!(verdicts.iter().flatten().any(|v| *v == Verdict::NeedsReview));
    assert!(serde_json::from_str::<PersonFacts>(r#"{"sex":"男","unknown_field":1}"#).is_err(), "typos surface");
    let p: PersonFacts =
        serde_json::from_str(r#"{"sex":"女","education":"职高","annual_appraisals":[{"year":2019,"grade":"称职"}]}"#).unwrap();
    assert_eq!(p.education, Some(Education::SeniorHigh));
    assert_eq!(p.annual_appraisals[0].grade, Grade::Competent);
}

// ---- property tests -------------------------------------------------------------------------

const WORK_TYPES: [&str; 4] = ["电工", "保管工", "印刷工", "汽车驾驶员"];
const KINDS: [&str; 8] =
    ["commendation", "may_day_medal", "skill_expert", "competition_prize", "patent_utility_model", "model_worker", "special_talent", "x"];

fn arb_date(from: i32, to: i32) -> impl Strategy<Value = Date> {
    (from..=to, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap())
}

fn arb_certificate() -> impl Strategy<Value = Certificate> {
    (0u8..=6, 0usize..4, proptest::option::weighted(0.9, arb_date(1985, 2021)), 0usize..6).prop_map(|(level, wt, issued_on, source)| {
        Certificate { level, work_type: Some(WORK_TYPES[wt].into()), issued_on, source: CertificateSource::ALL.get(source).copied() }
    })
}

fn arb_achievement() -> impl Strategy<Value = Achievement> {
    (0usize..KINDS.len(), 0usize..6, proptest::option::of(arb_date(2005, 2021)), proptest::option::of(1u32..8)).prop_map(
        |(k, s, date, rank)| Achievement { kind: KINDS[k].into(), scope: AwardScope::ALL.get(s).copied(), date, rank, note: None },
    )
}

fn arb_appraisal() -> impl Strategy<Value = Appraisal> {
    (2012i32..=2022, 0usize..5).prop_map(|(year, g)| Appraisal { year, grade: Grade::ALL[g] })
}

fn arb_facts() -> impl Strategy<Value = PersonFacts> {
    (
        (any::<bool>(), arb_date(1955, 2000), proptest::option::of(arb_date(1970, 2021)), 0usize..4, 0usize..4),
        (proptest::collection::vec(arb_certificate(), 0..5), proptest::collection::vec(arb_appraisal(), 0..8)),
        (proptest::collection::vec(arb_achievement(), 0..5), proptest::collection::vec(2012i32..=2021, 0..3)),
        (0usize..7, proptest::option::of(any::<bool>()), proptest::option::of(1u8..=4), any::<bool>(), 0u8..4),
    )
        .prop_map(
            |(
                (male, birth, start, wt, staff),
                (certificates, annual_appraisals),
                (achievements, party),
                (edu, flag, post, car, policy),
            )| PersonFacts {
                sex: Some(if male { Sex::Male } else { Sex::Female }),
                birth_date: Some(birth),
                staff_type: StaffType::ALL.get(staff).copied(),
                in_post: Some(true),
                work_start_date: start,
                regularised_on: start,
                education: Education::ALL.get(edu).copied(),
                current_work_type: Some(WORK_TYPES[wt].into()),
                work_type_changed_by_car_reform: car,
                certificates,
                years_at_level_continuous: flag,
                appointed_post_level: post,
                annual_appraisals,
                party_excellence_years: party,
                achievements,
                unit_attests_high_skill: flag,
                wage_approval_form_level2: flag,
                cn_journal_paper: flag.map(|b| !b),
                special_policies: if policy == 0 { vec!["2020-frontline-health".into()] } else { vec![] },
                ..PersonFacts::default()
            },
        )
}

/// Verdicts plus every rule's outcome, for comparing two evaluations.
type Summary = Vec<(Level, Verdict, Vec<(String, Outcome)>)>;

fn summary(e: &Evaluation<'_>) -> Summary {
    e.levels.iter().map(|v| (v.level, v.verdict, v.results.iter().map(|r| (r.rule_id.to_owned(), r.outcome)).collect())).collect()
}

fn all_rule_sets() -> &'static [RuleSet] {
    static SETS: std::sync::OnceLock<Vec<RuleSet>> = std::sync::OnceLock::new();
    SETS.get_or_init(|| [R20, R21, R23].iter().map(|id| rules(id)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn verdict_does_not_depend_on_record_order(facts in arb_facts(), rot in 0usize..5, which in 0usize..3) {
        let rs = &all_rule_sets()[which];
        let on = on_for(&rs.id);
        let before = summary(&evaluate(&facts, rs, on, &Level::ALL));
        let mut shuffled = facts.clone();
        shuffled.certificates.reverse();
        let n = shuffled.certificates.len().max(1);
        shuffled.certificates.rotate_left(rot % n);
        shuffled.annual_appraisals.reverse();
        let n = shuffled.annual_appraisals.len().max(1);
        shuffled.annual_appraisals.rotate_left(rot % n);
        shuffled.achievements.reverse();
        let n = shuffled.achievements.len().max(1);
        shuffled.achievements.rotate_left(rot % n);
        shuffled.party_excellence_years.reverse();
        let after = summary(&evaluate(&shuffled, rs, on, &Level::ALL));
        prop_assert_eq!(before, after);
    }

    #[test]
    fn another_year_of_work_never_hurts_the_level4_working_years_route(birth_year in 1962i32..=1990, offset in 0i32..30, which in 0usize..3) {
        let rs = &all_rule_sets()[which];
        let on = on_for(&rs.id);
        let mut f = base();
        f.birth_date = Some(Date::from_calendar_date(birth_year, time::Month::August, 8).unwrap());
        let start_year = (birth_year + 16 + offset).min(on.year());
        f.work_start_date = Some(Date::from_calendar_date(start_year, time::Month::September, 1).unwrap());
        f.regularised_on = f.work_start_date;
        let e = evaluate(&f, rs, on, &[Level::L4]);
        if e.levels[0].verdict == Verdict::Eligible && start_year > birth_year + 17 {
            let mut older = f.clone();
            older.work_start_date = Some(Date::from_calendar_date(start_year - 1, time::Month::September, 1).unwrap());
            older.regularised_on = older.work_start_date;
            let e2 = evaluate(&older, rs, on, &[Level::L4]);
            prop_assert_eq!(e2.levels[0].verdict, Verdict::Eligible, "{}", e2.levels[0].report());
        }
    }

    #[test]
    fn failed_or_undecided_rules_always_explain_themselves(facts in arb_facts(), which in 0usize..3, day in 0i64..900) {
        let rs = &all_rule_sets()[which];
        let on = on_for(&rs.id) + time::Duration::days(day - 450);
        let e = evaluate(&facts, rs, on, &Level::ALL);
        prop_assert_eq!(e.levels.len(), 5);
        for v in &e.levels {
            assert_trace_complete("proptest", v);
            if !e.input_problems.is_empty() {
                prop_assert_eq!(v.verdict, Verdict::NeedsReview);
            }
            if v.verdict == Verdict::Eligible {
                // Inside an any_of a route may fail while another passes; top-level rules may not.
                prop_assert!(v.results.iter().all(|r| r.route.is_some() || r.outcome == Outcome::Passed), "{}", v.report());
            }
        }
        prop_assert!(serde_json::to_string(&e).is_ok());
    }

    #[test]
    fn arbitrary_json_facts_never_panic(json in "\\PC{0,200}") {
        if let Ok(f) = serde_json::from_str::<PersonFacts>(&json) {
            let _ = evaluate(&f, &all_rule_sets()[0], date!(2020 - 04 - 20), &Level::ALL);
        }
    }
}
