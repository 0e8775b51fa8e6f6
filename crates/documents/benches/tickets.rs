//! Time to render admission tickets (准考证), per ticket, by how many go into one PDF.
//! The requirement: 10,000 tickets in under 60 s in the background on this project's
//! 2-core machine, so under about 5 ms per ticket on one core.
//!
//! Run with
//! `CARGO_TARGET_DIR=/work/wt-ticket/target cargo bench -p gongkao-documents --bench tickets`.
//! Criterion reports time per iteration and tickets per second (its "thrpt"). Medians on
//! the 2-core machine, release: 100 tickets as 100 PDFs 753 ms, as 5 PDFs of 20 260 ms,
//! as one PDF 221 ms; 200 in one PDF 427 ms; 1,000 in one PDF 2.47 s; 200 as two PDFs of
//! 100 rendered on two threads at once 859 ms (slower than one after the other).
//!
//! Every ticket rendered is new (name, number, seats, QR payload, and JPEG photo bytes
//! as the web stores them), made before each iteration and not timed, so typst's memo
//! cache can reuse only what real batches share: the labels, the rules, the centres.
//!
//! typst already lays out the pages of one PDF on all cores (rayon): set
//! `RAYON_NUM_THREADS=1` to see the time on one core.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::io::Cursor;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use gongkao_documents::{Documents, TicketDoc, TicketSubject, default_rules};

/// Distinct pictures; each ticket's bytes are made unique on top of them (see `ticket`).
const PICTURES: usize = 32;

fn picture(seed: usize) -> Vec<u8> {
    let tone = u8::try_from(seed % 200).unwrap();
    let picture = image::RgbImage::from_fn(295, 413, |x, y| {
        let face = x.abs_diff(147).pow(2) / 4 + y.abs_diff(170).pow(2) / 9 < 1600;
        let grain = u8::try_from((x * 7 + y * 13 + u32::try_from(seed).unwrap()) % 23).unwrap();
        if face { image::Rgb([220 + grain / 2, 180 + grain, tone]) } else { image::Rgb([60, 110 + grain, 200]) }
    });
    let mut bytes = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&picture).unwrap();
    bytes.into_inner()
}

/// The picture with a JPEG comment naming the ticket: other bytes, as every candidate's
/// photo is, so typst decodes each one, at no cost to the bench's setup.
fn photo(pictures: &[Vec<u8>], i: usize) -> Vec<u8> {
    let base = &pictures[i % pictures.len()];
    let comment = format!("ticket {i}");
    let length = u16::try_from(comment.len() + 2).unwrap();
    let mut bytes = Vec::with_capacity(base.len() + comment.len() + 4);
    bytes.extend_from_slice(&base[..2]); // SOI
    bytes.extend_from_slice(&[0xFF, 0xFE]); // COM
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(comment.as_bytes());
    bytes.extend_from_slice(&base[2..]);
    bytes
}

fn ticket(pictures: &[Vec<u8>], i: usize) -> TicketDoc {
    let centre = i / 600 % 99 + 1;
    let room = i / 30 % 20 + 1;
    let seat = i % 30 + 1;
    let number = format!("2020410100{centre:02}{room:03}{seat:02}");
    let subject = |name: &str, date: &str, time: &str, offset: usize| TicketSubject {
        subject: name.into(),
        date: date.into(),
        time: time.into(),
        centre_name: format!("郑州市第{centre}考点"),
        centre_address: format!("郑州市金水区纬五路{centre}号"),
        room: format!("第{:03}考场", room + offset),
        seat: format!("{seat:02}"),
    };
    TicketDoc {
        campaign_title: "2020年度河南省机关事业单位工勤技能岗位等级考核".into(),
        agency_name: "郑州市机关事业单位工勤技能岗位考核管理办公室".into(),
        name: format!("测试考生{i:05}"),
        sex: if i.is_multiple_of(2) { "男" } else { "女" }.into(),
        id_number_masked: format!("410105********{:04}", i % 10_000),
        unit_name: format!("郑州市第{}园林绿化管理所", i % 97 + 1),
        work_type: ["汽车驾驶员", "电工", "园林绿化工", "收银员", "中式烹调师"][i % 5].into(),
        level: ["五级（初级工）", "四级（中级工）", "三级（高级工）", "二级（技师）"][i % 4].into(),
        ticket_number: number.clone(),
        photo: Some(photo(pictures, i)),
        subjects: vec![subject("岗位技能", "2020年7月18日", "09:00—10:30", 0), subject("职业道德", "2020年7月18日", "14:00—15:00", 100)],
        rules: default_rules(),
        pledge: Some("本人已阅读并知悉考生须知，承诺所填信息真实准确，自觉遵守考试纪律。".into()),
        qr_payload: format!("GK1.{number}.1594345800.{:064x}", i * 2_654_435_761),
        printed_at: "2020-07-10 09:30".into(),
    }
}

fn bench(c: &mut Criterion) {
    let docs = Documents::new().unwrap();
    let pictures: Vec<Vec<u8>> = (0..PICTURES).map(picture).collect();
    let mut next = 0;
    let mut fresh = |n: usize| {
        next += n;
        (next - n..next).map(|i| ticket(&pictures, i)).collect::<Vec<_>>()
    };
    let mut group = c.benchmark_group("tickets");
    group.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(10));

    // 100 tickets per iteration, by PDF size: 1 (one download each), 20, 100.
    for per_pdf in [1, 20, 100] {
        group.throughput(Throughput::Elements(100));
        group.bench_function(format!("100_tickets_{per_pdf}_per_pdf"), |b| {
            b.iter_batched(
                || fresh(100),
                |batch| {
                    for chunk in batch.chunks(per_pdf) {
                        black_box(docs.admission_tickets(black_box(chunk)).unwrap());
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    // Bigger PDFs: does one compile of many tickets still scale linearly?
    for per_pdf in [200, 1000] {
        group.throughput(Throughput::Elements(per_pdf as u64));
        group.bench_function(format!("{per_pdf}_tickets_in_one_pdf"), |b| {
            b.iter_batched(
                || fresh(per_pdf),
                |batch| black_box(docs.admission_tickets(black_box(&batch)).unwrap()),
                BatchSize::PerIteration,
            )
        });
    }
    // Two PDFs of 100 on two threads at once, against typst's own parallel layout.
    group.throughput(Throughput::Elements(200));
    group.bench_function("200_tickets_100_per_pdf_2_threads", |b| {
        b.iter_batched(
            || fresh(200),
            |batch| {
                std::thread::scope(|scope| {
                    for chunk in batch.chunks(100) {
                        let docs = &docs;
                        scope.spawn(move || black_box(docs.admission_tickets(chunk).unwrap()));
                    }
                });
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
