//! Throughput of `evaluate` for a typical level-3 applicant (one level asked).
//!
//! Target: ≥ 1,000,000 evaluations per second on one core. Run with
//! `CARGO_TARGET_DIR=/tmp/target-domain cargo bench -p gongkao-domain --bench eligibility -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gongkao_domain::campaign::Level;
use gongkao_domain::eligibility::{Certificate, CertificateSource, Education, PersonFacts, RuleSet, StaffType, Verdict, evaluate};
use gongkao_domain::person::Sex;
use time::macros::date;

/// A permanent worker with an ID number, a level-5 and a level-4 certificate in the work type
/// performed, and 20 working years: both level-3 routes are evaluated in full.
fn typical_level3_applicant() -> PersonFacts {
    PersonFacts {
        id_number: Some("513101198201130014".into()),
        sex: Some(Sex::Male),
        birth_date: Some(date!(1982 - 01 - 13)),
        staff_type: Some(StaffType::Permanent),
        in_post: Some(true),
        retired: Some(false),
        work_start_date: Some(date!(2001 - 07 - 01)),
        regularised_on: Some(date!(2002 - 07 - 01)),
        education: Some(Education::SeniorHigh),
        current_work_type: Some("电工".into()),
        certificates: vec![
            Certificate {
                level: 5,
                work_type: Some("电工".into()),
                issued_on: Some(date!(2006 - 10 - 01)),
                source: Some(CertificateSource::Exam),
            },
            Certificate {
                level: 4,
                work_type: Some("电工".into()),
                issued_on: Some(date!(2013 - 10 - 01)),
                source: Some(CertificateSource::Exam),
            },
        ],
        years_at_level_continuous: Some(true),
        annual_appraisals: vec![],
        ..PersonFacts::default()
    }
}

fn bench(c: &mut Criterion) {
    let Some(rules) = RuleSet::builtin("HN-GK-2020") else {
        eprintln!("rule set HN-GK-2020 missing");
        return;
    };
    let facts = typical_level3_applicant();
    let on = date!(2020 - 04 - 20);
    let check = evaluate(&facts, &rules, on, &[Level::L3]);
    assert_eq!(check.levels.first().map(|l| l.verdict), Some(Verdict::Eligible), "the benchmark applicant must be eligible");

    let mut group = c.benchmark_group("eligibility");
    group.throughput(Throughput::Elements(1));
    group.bench_function("evaluate_level3_typical", |b| {
        b.iter(|| evaluate(black_box(&facts), black_box(&rules), black_box(on), black_box(&[Level::L3])))
    });
    group.bench_function("evaluate_level3_and_render_json", |b| {
        b.iter(|| {
            let e = evaluate(black_box(&facts), black_box(&rules), black_box(on), black_box(&[Level::L3]));
            serde_json::to_vec(&e).map(|v| v.len()).unwrap_or(0)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
