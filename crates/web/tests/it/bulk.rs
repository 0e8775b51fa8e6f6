//! The unit admin's bulk registration through HTTP on both engines: the template downloads and
//! round-trips into drafts with verdicts; every kind of bad file is refused with each error
//! named by row and column and nothing written; other roles are refused; the window applies.
use calamine::{Reader, Xlsx};
use gongkao_domain::paging::Page;
use gongkao_storage::{applications, audit, units};
use gongkao_web::services::eligibility::ROSTER_COLUMNS;
use rust_xlsxwriter::{Workbook, Worksheet};

use crate::kit::TestApp;

const TEMPLATE: &str = "/unit-applications/import-template.xlsx";
const IMPORT: &str = "/unit-applications/import";

/// A valid GB 11643 ID number from its first 17 digits.
fn id_number(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

fn headers() -> Vec<String> {
    ROSTER_COLUMNS.iter().map(|c| c.1.to_owned()).chain(["手机号码".to_owned()]).collect()
}

/// A complete row of a level-4 nurse born 1980-01-01; `seq` picks the ID number (odd: male).
fn person(name: &str, seq: u32, level: &str) -> Vec<String> {
    let id = id_number(&format!("41010219800101{seq:03}"));
    let sex = if seq % 2 == 1 { "男" } else { "女" };
    [
        name,
        &id,
        sex,
        "1980-01-01",
        "在岗正式工作人员",
        "是",
        "1999-07-01",
        "2000-07-01",
        "高中",
        "护理员",
        "护理员",
        level,
        "5",
        "护理员",
        "2010-10-20",
        "考核取得",
        "是",
        "5",
        "2015优秀,2016合格,2017合格,2018合格,2019合格",
        "",
        "",
        "",
        "否",
        &format!("139{seq:08}"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// A workbook with `header` and `rows` as text, after `tweak` (merges, formulas).
fn book(header: &[String], rows: &[Vec<String>], tweak: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut b = Workbook::new();
    let ws = b.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    tweak(ws);
    b.save_to_buffer().unwrap()
}

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    let db = app.state.store().conn();
    let people = units::list_applicants(db, &units::ApplicantFilter::default(), Page::new(None, None)).await.unwrap().total;
    let apps = applications::count(db, 1).await.unwrap();
    let entries = audit::list(db, &audit::AuditFilter::default(), Page::new(None, None)).await.unwrap().total;
    (people, apps, entries)
}

async fn post(app: &TestApp, c: &reqwest::Client, csrf: &str, bytes: Vec<u8>) -> (u16, String) {
    let r = app.upload(c, csrf, IMPORT, None, "名单.xlsx", bytes).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn template_round_trip_registers_drafts() {
    let app = TestApp::spawn().await;
    let (ua, csrf) = app.login("t.unitadmin").await;
    let page = ua.get(app.url("/unit-applications")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("批量登记") && page.contains(TEMPLATE) && page.contains("承诺须本人签署"));

    let r = ua.get(app.url(TEMPLATE)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let mut tpl: Xlsx<_> = Xlsx::new(std::io::Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
    assert_eq!(tpl.sheet_names()[1], "填写说明");
    let sheet = tpl.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header, headers(), "mobile is the last column, after the roster columns");
    assert_eq!(sheet.rows().count(), 2, "header and one example row");

    // The example row left in is refused by name.
    let example: Vec<String> = sheet.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
    let (status, body) = post(&app, &ua, &csrf, book(&header, &[example], |_| {})).await;
    assert_eq!(status, 422);
    assert!(body.contains("第 2 行 B 列（身份证号码）：这是模板中的示例行"), "{body}");

    let before = counts(&app).await;
    let rows = vec![person("赵𠮷", 11, "4"), person("<b>䶮</b>", 22, "四级"), person("王测试", 31, "3")];
    let ids: Vec<String> = rows.iter().map(|r| r[1].clone()).collect();
    let (status, body) = post(&app, &ua, &csrf, book(&header, &rows, |_| {})).await;
    assert_eq!(status, 303, "{body}");
    let after = counts(&app).await;
    assert_eq!((after.0 - before.0, after.1 - before.1, after.2 - before.2), (3, 3, 1), "3 people, 3 drafts, one audit entry");

    let db = app.state.store().conn();
    for (i, id) in ids.iter().enumerate() {
        let p = units::applicant_by_id_number(db, id).await.unwrap().unwrap();
        assert_eq!(p.name, ["赵𠮷", "<b>䶮</b>", "王测试"][i], "rare characters stored as typed");
        assert_eq!(p.unit_id, Some(app.unit_a));
        assert_eq!((p.birth_date.as_str(), p.mobile.len()), ("1980-01-01", 11));
        let a = applications::live_for(db, 1, p.id).await.unwrap().unwrap();
        assert_eq!((a.status.as_str(), a.unit_id), ("draft", Some(app.unit_a)));
        assert!(["eligible", "not_eligible", "needs_review"].contains(&a.verdict.as_str()));
        assert_eq!(a.rule_set_id, "HN-GK-2020");
        assert!(a.facts.contains(id.as_str()), "the facts carry the ID number");
        let events = applications::events(db, a.id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].action.as_str(), events[0].actor.as_str(), events[0].reason.as_str()),
            ("create", "t.unitadmin", "单位批量登记")
        );
    }
    let filter = audit::AuditFilter { action: Some("application.bulk_import".into()), ..Default::default() };
    let entries = audit::list(db, &filter, Page::new(None, None)).await.unwrap();
    assert_eq!(entries.total, 1);
    assert!(entries.items[0].summary.contains("批量登记 3 人"), "{}", entries.items[0].summary);

    let done = ua.get(app.url("/unit-applications?imported=3")).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("已登记 3 人（草稿），请通知本人登录上传照片、签署承诺并提交"));
    let drafts = ua.get(app.url("/unit-applications?status=draft")).send().await.unwrap().text().await.unwrap();
    assert!(
        drafts.contains("赵𠮷") && drafts.contains("&#60;b&#62;䶮&#60;/b&#62;") && !drafts.contains("<b>䶮"),
        "names escaped, printed intact"
    );

    // The same file again: everyone already has a live application now.
    let (status, body) = post(&app, &ua, &csrf, book(&header, &rows, |_| {})).await;
    assert_eq!(status, 422);
    assert!(body.contains("第 4 行 B 列（身份证号码）：此人本年度已有申报，状态为“草稿（未提交）”，不能重复登记"), "{body}");
    assert_eq!(counts(&app).await, after);
    app.cleanup().await;
}

#[tokio::test]
async fn bad_files_are_refused_whole_with_every_error_named() {
    let app = TestApp::spawn().await;
    let (ua, csrf) = app.login("t.unitadmin").await;
    let before = counts(&app).await;
    let h = headers();
    let good = person("好人", 11, "4");

    // Wrong template: one error naming the first wrong column.
    let mut wrong = h.clone();
    wrong[2] = "性 别".into();
    let (status, body) = post(&app, &ua, &csrf, book(&wrong, std::slice::from_ref(&good), |_| {})).await;
    assert_eq!(status, 422);
    assert!(body.contains("第 1 行 C 列应为表头“性别”（现为“性 别”）"), "{body}");
    let (status, body) = post(&app, &ua, &csrf, book(&h[..23], std::slice::from_ref(&good), |_| {})).await;
    assert_eq!(status, 422);
    assert!(body.contains("第 1 行 X 列应为表头“手机号码”（现为空白）"), "{body}");

    // An empty sheet (the header only), and a file that is not Excel at all.
    let (status, body) = post(&app, &ua, &csrf, book(&h, &[], |_| {})).await;
    assert_eq!(status, 422);
    assert!(body.contains("表头下方没有人员"), "{body}");
    let (status, body) = post(&app, &ua, &csrf, b"name,id\n".to_vec()).await;
    assert_eq!(status, 422);
    assert!(body.contains("不是有效的 Excel"), "{body}");

    // Merged cells and a formula in the data area.
    let two = [good.clone(), person("二号", 31, "4")];
    let merged = book(&h, &two, |ws| {
        ws.merge_range(1, 9, 2, 9, "护理员", &rust_xlsxwriter::Format::new()).unwrap();
    });
    let (status, body) = post(&app, &ua, &csrf, merged).await;
    assert_eq!(status, 422);
    assert!(body.contains("第 2 行 J 列：J2:J3 是合并单元格"), "{body}");
    let formula = book(&h, &two, |ws| {
        ws.write_formula(2, 23, "=\"1390000\"&\"0031\"").unwrap();
    });
    let (status, body) = post(&app, &ua, &csrf, formula).await;
    assert_eq!(status, 422);
    assert!(body.contains("第 3 行 X 列（手机号码）：是公式"), "{body}");

    // Row errors all at once: a text date that is no date, a duplicate ID, a bad check digit,
    // a person with a live application, a person of another unit, two levels, a bad mobile,
    // sex against the ID number; the good row is not imported either.
    let mut bad_date = person("日期错", 51, "4");
    bad_date[6] = "1990年13月".into();
    let dup = person("重复", 11, "4");
    let mut check = person("校验错", 71, "4");
    let wrong_digit = if check[1].ends_with('0') { "1" } else { "0" };
    check[1].replace_range(17..18, wrong_digit);
    let mut live = person("张测试", 0, "4");
    live[1] = "11010519491231002X".into();
    live[2] = "女".into();
    live[3] = "1949-12-31".into();
    let mut other = person("李开封", 0, "4");
    other[1] = "440524188001010014".into();
    other[2] = "男".into();
    other[3] = "1880-01-01".into();
    let two_levels = person("两级", 91, "3,4");
    let mut mobile = person("手机错", 93, "4");
    mobile[23] = "2391234567".into();
    let mut sex = person("性别错", 95, "4");
    sex[2] = "女".into();
    let rows = [good, bad_date, dup, check, live, other, two_levels, mobile, sex];
    let (status, body) = post(&app, &ua, &csrf, book(&h, &rows, |_| {})).await;
    assert_eq!(status, 422);
    for want in [
        "第 3 行 G 列（参加工作时间）：“1990年13月”不是有效日期",
        "第 4 行 B 列（身份证号码）：与第 2 行的身份证号码重复",
        "第 5 行 B 列（身份证号码）：校验位不正确",
        "第 6 行 B 列（身份证号码）：此人本年度已有申报",
        "第 7 行 B 列（身份证号码）：此人已由其他单位登记",
        "第 8 行 L 列（申报等级）：每行只能申报一个等级",
        "第 9 行 X 列（手机号码）：",
        "第 10 行 C 列（性别）：与身份证号码不一致",
    ] {
        assert!(body.contains(want), "missing “{want}” in {body}");
    }
    assert!(!body.contains("第 2 行 "), "the good row has no error");
    assert_eq!(counts(&app).await, before, "nothing written by any refused file");
    app.cleanup().await;
}

#[tokio::test]
async fn other_roles_and_the_closed_window_are_refused() {
    let app = TestApp::spawn().await;
    let file = book(&headers(), &[person("某人", 11, "4")], |_| {});
    for who in ["t.reviewer", "t.applicant"] {
        let (c, csrf) = app.login(who).await;
        assert_eq!(c.get(app.url(TEMPLATE)).send().await.unwrap().status(), 403, "{who}");
        assert_eq!(post(&app, &c, &csrf, file.clone()).await.0, 403, "{who}");
    }
    let before = counts(&app).await;
    app.clock.set(gongkao_domain::campaign::shanghai_datetime(time::macros::date!(2020 - 04 - 30), 9, 0));
    let (ua, csrf) = app.login("t.unitadmin").await;
    let (status, body) = post(&app, &ua, &csrf, file).await;
    assert_eq!(status, 409);
    assert!(body.contains("不在网上报名时间内"), "{body}");
    // Only the logins and the refusals were audited; nobody was registered.
    let after = counts(&app).await;
    assert_eq!((after.0, after.1), (before.0, before.1));
    app.cleanup().await;
}
