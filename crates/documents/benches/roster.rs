//! Time to render a 1,000-row roster to PDF (target: under 2 s on one core).
//!
//! Run with
//! `CARGO_TARGET_DIR=/tmp/target-docs cargo bench -p gongkao-documents --bench roster`
//! (about 0.27 s cold on this project's 2-core machine).

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gongkao_documents::{Documents, ReceiptDoc, RosterDoc};

fn roster(rows: usize) -> RosterDoc {
    RosterDoc {
        title: "网上资格审查通过人员名册".into(),
        campaign_title: "2020年全省机关事业单位工勤技能岗位等级考核".into(),
        unit_name: "郑州市金水区园林绿化管理所".into(),
        agency_name: "郑州市工考管理办公室".into(),
        printed_at: "2020-04-30 16:20".into(),
        columns: ["序号", "姓名", "身份证号码", "工种", "申报等级", "审核意见"].map(String::from).to_vec(),
        rows: (1..=rows)
            .map(|i| {
                vec![
                    i.to_string(),
                    format!("测试人员{i:04}"),
                    format!("4101021980{:02}{:02}{:04}", i % 12 + 1, i % 28 + 1, i),
                    ["汽车驾驶员", "电工", "园林绿化工", "收银员", "中式烹调师"][i % 5].to_owned(),
                    ["初级工", "中级工", "高级工", "技师", "高级技师"][i % 5].to_owned(),
                    if i % 7 == 0 { "需现场审查：工作年限证明材料不全".to_owned() } else { "通过".to_owned() },
                ]
            })
            .collect(),
        note: Some("注：本名册经单位人事部门审核盖章后报送工考管理机构。".into()),
    }
}

fn bench(c: &mut Criterion) {
    let docs = Documents::new().unwrap();
    let thousand = roster(1000);
    let mut group = c.benchmark_group("documents");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    // Cold: typst's memo cache is emptied before each iteration, as for a new roster.
    group.bench_function("roster_1000_rows_cold", |b| {
        b.iter_batched(|| typst::comemo::evict(0), |()| docs.roster(black_box(&thousand)).unwrap(), BatchSize::PerIteration)
    });
    // Warm: the same roster again (a re-print), memoized layout reused.
    group.bench_function("roster_1000_rows_warm", |b| b.iter(|| docs.roster(black_box(&thousand)).unwrap()));
    let small = roster(30);
    group.bench_function("roster_30_rows_cold", |b| {
        b.iter_batched(|| typst::comemo::evict(0), |()| docs.roster(black_box(&small)).unwrap(), BatchSize::PerIteration)
    });
    let receipt = ReceiptDoc {
        receipt_no: "000123".into(),
        payer_unit: "郑州市金水区园林绿化管理所".into(),
        agency_name: "郑州市工考管理办公室".into(),
        campaign_title: "2020年全省机关事业单位工勤技能岗位等级考核".into(),
        items: vec![("考核费（高级工）".into(), 3, 15_000, 45_000)],
        total_fen: 45_000,
        cashier: "李会计".into(),
        issued_at: "2020-05-06".into(),
    };
    group.bench_function("receipt", |b| b.iter(|| docs.receipt(black_box(&receipt)).unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
