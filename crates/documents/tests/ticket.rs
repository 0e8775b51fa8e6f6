//! Admission tickets (准考证): renders real PDFs, reads their text back with `pdf-extract`,
//! looks at their image objects with the `lopdf` it re-exports, and decodes the QR code
//! with `rqrr`.

#![allow(clippy::unwrap_used)]

use std::io::Cursor;
use std::time::Instant;

use gongkao_documents::{DEFAULT_RULES, Documents, TicketDoc, TicketSubject, default_rules, ticket_qr};
use pdf_extract::{Document, Object};

/// Text of each page, whitespace removed (extraction spaces and breaks lines freely).
fn pages_text(pdf: &[u8]) -> Vec<String> {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    pdf_extract::extract_text_from_mem_by_pages(pdf)
        .unwrap()
        .into_iter()
        .map(|page| page.chars().filter(|c| !c.is_whitespace()).collect())
        .collect()
}

fn assert_contains(haystack: &str, needle: &str) {
    let needle: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(haystack.contains(&needle), "{needle:?} not found in extracted text:\n{haystack}");
}

fn subject(subject: &str, date: &str, time: &str, room: &str, seat: &str) -> TicketSubject {
    TicketSubject {
        subject: subject.into(),
        date: date.into(),
        time: time.into(),
        centre_name: "郑州市第十九中学考点".into(),
        centre_address: "郑州市金水区纬五路21号".into(),
        room: room.into(),
        seat: seat.into(),
    }
}

fn ticket(name: &str, number: &str) -> TicketDoc {
    TicketDoc {
        campaign_title: "2020年度河南省机关事业单位工勤技能岗位等级考核".into(),
        agency_name: "郑州市机关事业单位工勤技能岗位考核管理办公室".into(),
        name: name.into(),
        sex: "男".into(),
        id_number_masked: "410105********1234".into(),
        unit_name: "郑州市金水区园林绿化管理所".into(),
        work_type: "园林绿化工".into(),
        level: "三级（高级工）".into(),
        ticket_number: number.into(),
        photo: None,
        subjects: vec![
            subject("岗位技能", "2020年7月18日", "09:00—10:30", "第012考场", "27"),
            subject("职业道德", "2020年7月18日", "14:00—15:00", "第112考场", "05"),
            subject("职业能力", "2020年7月19日", "09:00—11:00", "第212考场", "13"),
        ],
        rules: default_rules(),
        pledge: Some("本人已阅读并知悉考生须知，承诺所填信息真实准确，自觉遵守考试纪律。".into()),
        qr_payload: format!("GK1.{number}.MEUCIQDx4Yk0f3c9a8b7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0"),
        printed_at: "2020-07-10 09:30".into(),
    }
}

/// A 一寸 photo (295×413 px) in the given format, a plain picture that is not all one colour.
fn photo(format: image::ImageFormat) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(295, 413, |x, y| {
        if x.abs_diff(147).pow(2) / 4 + y.abs_diff(170).pow(2) / 9 < 1600 {
            image::Rgb([230, 190, 160])
        } else {
            image::Rgb([60, 110, 200])
        }
    });
    let mut bytes = Cursor::new(Vec::new());
    picture.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// (width, height, decoded bytes) of every image XObject in the PDF.
fn images(pdf: &[u8]) -> Vec<(i64, i64, Vec<u8>)> {
    let document = Document::load_mem(pdf).unwrap();
    let mut found = Vec::new();
    for object in document.objects.values() {
        let Object::Stream(stream) = object else { continue };
        let dict = &stream.dict;
        if dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image".as_slice()) {
            continue;
        }
        let size = |key: &[u8]| dict.get(key).and_then(Object::as_i64).unwrap();
        let bytes = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
        found.push((size(b"Width"), size(b"Height"), bytes));
    }
    found.sort_by_key(|(width, height, _)| (*width, *height));
    found
}

#[test]
fn ticket_reads_back_with_every_subject_and_rare_characters() {
    let docs = Documents::new().unwrap();
    let t = ticket("赵𠮷䶮", "20204101000301227");
    let started = Instant::now();
    let pdf = docs.admission_ticket(&t).unwrap();
    eprintln!("one ticket: {} bytes in {:?} (this build profile)", pdf.len(), started.elapsed());
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for needle in [
        "准考证",
        "2020年度河南省机关事业单位工勤技能岗位等级考核",
        "赵𠮷䶮",
        "20204101000301227",
        "410105********1234",
        "郑州市金水区园林绿化管理所",
        "园林绿化工",
        "三级（高级工）",
        "郑州市第十九中学考点",
        "郑州市金水区纬五路21号",
        "考生须知",
        "开考30分钟后不得进入考场",
        "人力资源社会保障部令第31号",
        "扫码核验准考证",
        "本人已阅读并知悉考生须知",
        "考生签名",
        "签发机构：郑州市机关事业单位工勤技能岗位考核管理办公室",
        "打印时间：2020-07-10 09:30",
        "照片",
    ] {
        assert_contains(text, needle);
    }
    for s in &t.subjects {
        // A row reads back in column order: subject, date, time, centre, room, seat.
        let row = format!("{}{}{}{}{}{}{}", s.subject, s.date, s.time, s.centre_name, s.centre_address, s.room, s.seat);
        assert_contains(text, &row);
    }
    for rule in DEFAULT_RULES {
        assert_contains(text, rule);
    }
}

#[test]
fn markup_in_fields_is_printed_literally() {
    let docs = Documents::new().unwrap();
    let mut t = ticket("刘䶮", "20204101000301228");
    let fields = [
        "#set text(size: 100pt) 郑州市<b>园林</b>所",
        "*bold* _em_ $x^2$ `raw` @ref <label> = 标题",
        "]) #read(\"/data.json\") [ #image(\"/photo-0.png\")",
        "// not a comment /* nor this */ \\ ~ --- ...",
    ];
    t.unit_name = fields[0].into();
    t.work_type = fields[1].into();
    t.subjects[0].centre_address = fields[2].into();
    t.rules.push(fields[3].into());
    t.pledge = Some("#pagebreak() 承诺 #{panic()}".into());
    let pdf = docs.admission_ticket(&t).unwrap();
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1, "a #pagebreak() in the data must not break the page");
    for field in fields {
        assert_contains(&pages[0], field);
    }
    assert_contains(&pages[0], "#pagebreak() 承诺 #{panic()}");
}

#[test]
fn photo_is_embedded_as_an_image_and_the_qr_as_given() {
    let docs = Documents::new().unwrap();
    let mut t = ticket("王五", "20204101000301229");
    let qr = ticket_qr(&t.qr_payload).unwrap();
    let side = i64::try_from(qr.side).unwrap();

    let without = images(&docs.admission_ticket(&t).unwrap());
    assert_eq!(without.len(), 1, "only the QR code");
    assert_eq!((without[0].0, without[0].1), (side, side));
    assert_eq!(without[0].2, qr.pixels, "the PDF holds the bitmap ticket_qr made");

    for format in [image::ImageFormat::Png, image::ImageFormat::Jpeg] {
        t.photo = Some(photo(format));
        let pdf = docs.admission_ticket(&t).unwrap();
        let found: Vec<(i64, i64)> = images(&pdf).iter().map(|(w, h, _)| (*w, *h)).collect();
        assert_eq!(found, vec![(side, side), (295, 413)], "{format:?}");
        assert!(!pages_text(&pdf)[0].contains("照片"), "the label is only for an empty box");
    }

    t.photo = Some(b"GIF89a\x01\x00\x01\x00".to_vec());
    assert!(docs.admission_ticket(&t).unwrap_err().to_string().contains("JPEG 或 PNG"));
}

#[test]
fn qr_payload_round_trips_through_a_decoder() {
    let signed = format!("GK1.20204101000301227.1594345800.{}", "q2Vx9_-Ab3".repeat(12));
    for payload in ["20204101000301227", signed.as_str(), "GK1|赵𠮷|20204101000301227"] {
        let qr = ticket_qr(payload).unwrap();
        // Scaled up as a printer would, so the decoder sees modules several pixels wide.
        let scale = 6;
        let size = qr.side * scale;
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| qr.pixels[(y / scale) * qr.side + x / scale]);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "{payload}");
        let (meta, content) = grids[0].decode().unwrap();
        assert_eq!(content, payload);
        assert_eq!(meta.ecc_level, 0, "medium error correction (rqrr numbers M as 0)");
    }
}

#[test]
fn batch_gives_one_page_per_ticket_in_order() {
    let docs = Documents::new().unwrap();
    let mut batch = vec![ticket("赵𠮷", "20204101000301201"), ticket("钱䶮", "20204101000301202"), ticket("孙三", "20204101000301203")];
    batch[1].photo = Some(photo(image::ImageFormat::Jpeg));
    batch[2].pledge = None;
    let pdf = docs.admission_tickets(&batch).unwrap();
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 3);
    for (page, t) in pages.iter().zip(&batch) {
        assert_contains(page, &t.name);
        assert_contains(page, &t.ticket_number);
    }
    assert!(!pages[2].contains("考生签名"), "no pledge, no signature line");
    assert_eq!(images(&pdf).len(), 4, "three QR codes and one photo");
}

#[test]
fn rendering_a_ticket_is_deterministic() {
    let docs = Documents::new().unwrap();
    let mut t = ticket("赵𠮷", "20204101000301227");
    t.photo = Some(photo(image::ImageFormat::Png));
    assert_eq!(docs.admission_ticket(&t).unwrap(), docs.admission_ticket(&t).unwrap());
}

/// The product requirement, end to end: 10,000 different tickets (each with its own
/// photo bytes) in PDFs of `GONGKAO_TICKETS_PER_PDF` (default 200) in under 60 s in the
/// background on this project's 2-core machine. The check is on CPU time, under 5 ms a
/// ticket (50 s), since the machine's cores are shared and wall time depends on what else
/// runs. Run with
/// `CARGO_TARGET_DIR=/work/wt-ticket/target cargo test --release -p gongkao-documents --test ticket time_ten_thousand -- --ignored --nocapture`
/// (prefix `RAYON_NUM_THREADS=1` for one core; `/usr/bin/time -v` for the CPU time).
#[test]
#[ignore = "timing; run in release"]
fn time_ten_thousand_tickets() {
    let per_pdf: usize = std::env::var("GONGKAO_TICKETS_PER_PDF").map_or(200, |n| n.parse().unwrap());
    let docs = Documents::new().unwrap();
    let picture = photo(image::ImageFormat::Jpeg);
    let mut rendering = std::time::Duration::ZERO;
    let mut cpu = 0.0;
    let (mut pdfs, mut bytes) = (0, 0);
    for start in (0..10_000).step_by(per_pdf) {
        let batch: Vec<TicketDoc> = (start..(start + per_pdf).min(10_000))
            .map(|i| {
                let mut t =
                    ticket(&format!("考生{i:05}"), &format!("2020410100{:02}{:03}{:02}", i / 3000 + 1, i / 30 % 100 + 1, i % 30 + 1));
                // A JPEG comment makes every photo other bytes, as real photos are.
                let mut jpeg = picture.clone();
                let comment = format!("{i:05}");
                jpeg.splice(2..2, [&[0xFF, 0xFE, 0, 7][..], comment.as_bytes()].concat());
                t.photo = Some(jpeg);
                t.unit_name = format!("郑州市第{}园林绿化管理所", i % 97 + 1);
                t
            })
            .collect();
        let (started, cpu_before) = (Instant::now(), cpu_seconds());
        let pdf = docs.admission_tickets(&batch).unwrap();
        rendering += started.elapsed();
        cpu += cpu_seconds() - cpu_before;
        pdfs += 1;
        bytes += pdf.len();
    }
    eprintln!(
        "10,000 tickets in {pdfs} PDFs of {per_pdf}: {rendering:?} rendering ({:.2} ms per ticket), \
         {cpu:.1} s of CPU ({:.2} ms per ticket), {} MB of PDF",
        rendering.as_secs_f64() / 10.0,
        cpu / 10.0,
        bytes / 1_000_000
    );
    assert!(cpu < 50.0 || cfg!(debug_assertions), "{cpu} s of CPU");
}

/// User and system CPU time of this process, all threads, from `/proc/self/stat` (Linux,
/// in the usual 100 ticks a second): the machine is shared, so wall time alone misleads.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// Writes sample tickets to look at (`pdftoppm -png -r 80 …`). Run with
/// `cargo test -p gongkao-documents --test ticket write_ticket_samples -- --ignored`;
/// files go to `$GONGKAO_DOCS_SAMPLES` or the temp directory.
#[test]
#[ignore = "writes files for manual inspection"]
fn write_ticket_samples() {
    let dir = std::env::var_os("GONGKAO_DOCS_SAMPLES").map_or_else(std::env::temp_dir, Into::into);
    let docs = Documents::new().unwrap();
    let mut with_photo = ticket("赵𠮷䶮", "20204101000301227");
    with_photo.photo = Some(photo(image::ImageFormat::Jpeg));
    std::fs::write(dir.join("ticket.pdf"), docs.admission_ticket(&with_photo).unwrap()).unwrap();
    let without = ticket("钱䶮", "20204101000301228");
    std::fs::write(dir.join("tickets-2.pdf"), docs.admission_tickets(&[with_photo, without]).unwrap()).unwrap();
    eprintln!("samples written to {}", dir.display());
}
