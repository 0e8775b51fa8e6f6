//! Renders real PDFs and reads their text back with `pdf-extract` (through the ToUnicode
//! maps typst writes), so these tests need no fonts or tools on the machine.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use gongkao_documents::{Documents, ReceiptDoc, RosterDoc};

/// Text of each page, whitespace removed (extraction spaces and breaks lines freely).
fn pages_text(pdf: &[u8]) -> Vec<String> {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    pdf_extract::extract_text_from_mem_by_pages(pdf)
        .unwrap()
        .into_iter()
        .map(|page| page.chars().filter(|c| !c.is_whitespace()).collect())
        .collect()
}

fn text(pdf: &[u8]) -> String {
    pages_text(pdf).concat()
}

fn assert_contains(haystack: &str, needle: &str) {
    let needle: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(haystack.contains(&needle), "{needle:?} not found in extracted text:\n{haystack}");
}

fn columns() -> Vec<String> {
    ["序号", "姓名", "身份证号码", "工种", "申报等级", "审核意见"].map(String::from).to_vec()
}

fn roster(rows: Vec<Vec<String>>) -> RosterDoc {
    RosterDoc {
        title: "网上资格审查通过人员名册".into(),
        campaign_title: "2020年全省机关事业单位工勤技能岗位等级考核".into(),
        unit_name: "郑州市金水区园林绿化管理所".into(),
        agency_name: "郑州市工考管理办公室".into(),
        printed_at: "2020-04-30 16:20".into(),
        columns: columns(),
        rows,
        note: Some("注：本名册经单位人事部门审核盖章后报送工考管理机构。".into()),
    }
}

fn row(values: [&str; 6]) -> Vec<String> {
    values.map(String::from).to_vec()
}

#[test]
fn three_row_roster_reads_back_with_rare_characters_and_literal_markup() {
    let docs = Documents::new().unwrap();
    let doc = roster(vec![
        row(["1", "吉𠮷祥", "410105198503150021", "汽车驾驶员", "高级工", "通过"]),
        row(["2", "刘䶮", "41010219900101123X", "电工", "中级工", r"<b>粗体</b> #set text(red) $x^2$ a\b"]),
        row(["3", "张三", "410102197001017654", "园林绿化工", "技师", "*强调* _下划_ @ref = 标题"]),
    ]);
    let started = Instant::now();
    let pdf = docs.roster(&doc).unwrap();
    eprintln!("3-row roster: {} bytes in {:?}", pdf.len(), started.elapsed());
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for needle in [
        "网上资格审查通过人员名册",
        "2020年全省机关事业单位工勤技能岗位等级考核",
        "郑州市金水区园林绿化管理所",
        "郑州市工考管理办公室",
        "2020-04-30 16:20",
        "身份证号码",
        "吉𠮷祥",
        "刘䶮",
        "张三",
        "410105198503150021",
        "41010219900101123X",
        r"<b>粗体</b> #set text(red) $x^2$ a\b",
        "*强调* _下划_ @ref = 标题",
        "本名册经单位人事部门审核盖章后报送工考管理机构",
        "单位人事部门（盖章）",
        "经办人：＿＿＿＿",
        "联系电话：＿＿＿＿",
        "日期：＿＿＿＿",
        "第 1 页 共 1 页",
    ] {
        assert_contains(text, needle);
    }
}

#[test]
fn cells_of_every_unicode_kind_are_shown_literally() {
    let docs = Documents::new().unwrap();
    let nasty = [
        "\"quoted\" 'single'",
        "#{panic()}",
        "#import \"/etc/passwd\"",
        "]) #read(\"/data.json\") [",
        "// not a comment",
        "/* nor this */",
        "`raw` ```block```",
        "~ -- --- ... \\\\",
        "€ ½ → ✓",
    ];
    let rows = nasty
        .iter()
        .enumerate()
        .map(|(i, cell)| row([&(i + 1).to_string(), "王五", "410102197001017654", "电工", "初级工", cell]))
        .collect();
    let pdf = docs.roster(&roster(rows)).unwrap();
    let text = text(&pdf);
    for cell in nasty {
        assert_contains(&text, cell);
    }
}

#[test]
fn wide_roster_is_landscape_and_short_rows_are_padded() {
    let docs = Documents::new().unwrap();
    let mut doc = roster(vec![vec!["1".into(), "赵六".into()]]);
    doc.columns.push("联系电话".into()); // 7 columns
    doc.note = None;
    let pdf = docs.roster(&doc).unwrap();
    let text = text(&pdf);
    assert_contains(&text, "赵六");
    assert_contains(&text, "联系电话");
    assert_eq!(page_sizes(&pdf), vec![(842, 595)], "A4 landscape");

    doc.columns.pop(); // 6 columns
    let pdf = docs.roster(&doc).unwrap();
    assert_eq!(page_sizes(&pdf), vec![(595, 842)], "A4 portrait");
}

/// Width and height of each page in whole points.
fn page_sizes(pdf: &[u8]) -> Vec<(i64, i64)> {
    let document = pdf_extract::Document::load_mem(pdf).unwrap();
    document
        .get_pages()
        .values()
        .map(|&id| {
            let page = document.get_dictionary(id).unwrap();
            let media_box = page.get(b"MediaBox").unwrap().as_array().unwrap();
            let number = |i: usize| media_box[i].as_float().unwrap().round() as i64;
            (number(2) - number(0), number(3) - number(1))
        })
        .collect()
}

fn thousand_rows() -> Vec<Vec<String>> {
    (1..=1000)
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
        .collect()
}

#[test]
fn thousand_row_roster_spans_many_pages_with_the_header_on_each() {
    let docs = Documents::new().unwrap();
    let doc = roster(thousand_rows());
    let started = Instant::now();
    let pdf = docs.roster(&doc).unwrap();
    eprintln!("1,000-row roster: {} bytes in {:?} (this build profile)", pdf.len(), started.elapsed());
    let pages = pages_text(&pdf);
    let count = pages.len();
    assert!(count > 10, "only {count} pages");
    let all = pages.concat();
    assert_contains(&all, "测试人员0001");
    assert_contains(&all, "测试人员1000");
    for (index, page) in pages.iter().enumerate() {
        assert_contains(page, "身份证号码");
        assert_contains(page, "审核意见");
        assert_contains(page, &format!("第 {} 页 共 {count} 页", index + 1));
    }
    assert_contains(pages.last().unwrap(), "单位人事部门（盖章）");
}

/// Release timing of the 1,000-row roster (target: under 2 s), cold: typst's memo cache
/// is emptied and the names change before each run, so nothing is reused. Run with
/// `CARGO_TARGET_DIR=/tmp/target-docs cargo test --release -p gongkao-documents --test render time_thousand -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn time_thousand_row_roster() {
    let docs = Documents::new().unwrap();
    for run in 1..=5 {
        let mut doc = roster(thousand_rows());
        for row in &mut doc.rows {
            row[1] = format!("{}{run}", row[1]);
        }
        typst::comemo::evict(0);
        let started = Instant::now();
        let pdf = docs.roster(&doc).unwrap();
        let elapsed = started.elapsed();
        eprintln!("run {run}: 1,000-row roster, {} pages, {} bytes, {elapsed:?}", pages_text(&pdf).len(), pdf.len());
        assert!(elapsed.as_secs_f64() < 2.0 || cfg!(debug_assertions), "{elapsed:?}");
    }
}

fn receipt() -> ReceiptDoc {
    ReceiptDoc {
        receipt_no: "豫工考收〔2020〕第000123号".into(),
        payer_unit: "郑州市金水区园林绿化管理所".into(),
        agency_name: "郑州市工考管理办公室".into(),
        campaign_title: "2020年全省机关事业单位工勤技能岗位等级考核".into(),
        items: vec![
            ("考核费（高级工）".into(), 3, 15_000, 45_000),
            ("考核费（中级工）".into(), 2, 12_000, 24_000),
            ("证书工本费".into(), 5, 1_010, 5_050),
        ],
        total_fen: 74_050,
        cashier: "李会计".into(),
        issued_at: "2020-05-06".into(),
    }
}

#[test]
fn receipt_reads_back_with_the_capital_total() {
    let docs = Documents::new().unwrap();
    let pdf = docs.receipt(&receipt()).unwrap();
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for needle in [
        "河南省机关事业单位工勤技能岗位等级考核收费收据",
        "豫工考收〔2020〕第000123号",
        "交款单位：郑州市金水区园林绿化管理所",
        "2020年全省机关事业单位工勤技能岗位等级考核",
        "考核费（高级工）",
        "150.00",
        "450.00",
        "10.10",
        "50.50",
        "740.50",
        "柒佰肆拾元零伍角整",
        "收款人：李会计",
        "2020-05-06",
        "收款单位（盖章）",
        "郑州市工考管理办公室",
    ] {
        assert_contains(text, needle);
    }
}

#[test]
fn rendering_is_deterministic_and_shares_fonts_across_threads() {
    let docs = Documents::new().unwrap();
    let first = docs.receipt(&receipt()).unwrap();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let docs = docs.clone();
            std::thread::spawn(move || docs.receipt(&receipt()).unwrap())
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), first);
    }
}

/// Writes sample PDFs to look at (`pdftoppm -png -r 60 …`). Run with
/// `CARGO_TARGET_DIR=/tmp/target-docs cargo test -p gongkao-documents --test render write_samples -- --ignored`;
/// files go to `$GONGKAO_DOCS_SAMPLES` or the temp directory.
#[test]
#[ignore = "writes files for manual inspection"]
fn write_samples() {
    let dir = std::env::var_os("GONGKAO_DOCS_SAMPLES").map_or_else(std::env::temp_dir, Into::into);
    let docs = Documents::new().unwrap();
    let mut small = roster(vec![
        row(["1", "吉𠮷祥", "410105198503150021", "汽车驾驶员", "高级工", "通过"]),
        row(["2", "刘䶮", "41010219900101123X", "电工", "中级工", r"<b>粗体</b> #set $x$ a\b"]),
    ]);
    std::fs::write(dir.join("roster-small.pdf"), docs.roster(&small).unwrap()).unwrap();
    small.columns.push("联系电话".into());
    small.title = "需现场审查人员名册".into();
    std::fs::write(dir.join("roster-wide.pdf"), docs.roster(&small).unwrap()).unwrap();
    std::fs::write(dir.join("roster-1000.pdf"), docs.roster(&roster(thousand_rows())).unwrap()).unwrap();
    std::fs::write(dir.join("receipt.pdf"), docs.receipt(&receipt()).unwrap()).unwrap();
    eprintln!("samples written to {}", dir.display());
}
