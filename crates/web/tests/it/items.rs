//! The item bank through HTTP: writing, the second-person review, versions, encryption at rest,
//! audited views and exports, and QTI 2.1 import and export (round trip, bad files refused whole).
use std::io::{Cursor, Read, Write};

use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use gongkao_domain::item_bank::qti::{self, ManifestEntry};
use gongkao_domain::item_bank::{ItemContent, TRUE_FALSE_OPTIONS};
use gongkao_domain::paging::Page;
use gongkao_storage::audit::{self, AuditFilter};
use gongkao_storage::items::{self as store, ItemFilter};

use crate::kit::{TestApp, post};

fn single_choice(stem: &str) -> Vec<(&str, &str)> {
    vec![
        ("subject", "post_skills"),
        ("level", "3"),
        ("work_type", "护理员"),
        ("kind", "single_choice"),
        ("difficulty", "3"),
        ("knowledge_point", "基础护理"),
        ("points", "1"),
        ("stem", stem),
        ("option_a", "每日一次"),
        ("option_b", "每两小时一次"),
        ("option_c", "每周一次"),
        ("option_d", "不需要"),
        ("key", "B"),
    ]
}

fn id_from(resp: &reqwest::Response) -> i64 {
    let loc = resp.headers().get("location").unwrap().to_str().unwrap();
    loc.trim_start_matches("/items/").split('?').next().unwrap().parse().unwrap()
}

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    audit::list(app.state.store().conn(), &AuditFilter { action: Some(action.into()), ..Default::default() }, Page::new(None, None))
        .await
        .unwrap()
        .total
}

async fn version_of(app: &TestApp, id: i64) -> String {
    store::by_id(app.state.store().conn(), id).await.unwrap().unwrap().current_version.to_string()
}

#[tokio::test]
async fn items_are_written_reviewed_by_someone_else_and_stored_encrypted() {
    let app = TestApp::spawn().await;
    let (writer, wcsrf) = app.login("t.itemwriter").await;
    let stem = "长期卧床病人翻身的间隔是？𠮷<script>alert(1)</script>";
    let r = post(&writer, &app, "/items", &wcsrf, &single_choice(stem)).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let id = id_from(&r);

    // At rest: the stem and the options are nowhere in the row, in clear or as their bytes.
    let db = app.state.store().conn();
    let v1 = store::version(db, id, 1).await.unwrap().unwrap();
    assert_eq!(v1.cipher, "sm4-gcm");
    assert_eq!(v1.nonce.len(), 12);
    let needle = "翻身".as_bytes();
    assert!(!v1.ciphertext.windows(needle.len()).any(|w| w == needle));
    let item = store::by_id(db, id).await.unwrap().unwrap();
    assert_eq!((item.status.as_str(), item.current_version, item.kind.as_str()), ("draft", 1, "single_choice"));

    // The page shows the content as text, and the view is audited.
    let views_before = audit_count(&app, "item.view").await;
    let page = writer.get(app.url(&format!("/items/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("长期卧床病人翻身的间隔是？𠮷&#60;script&#62;"), "markup shown as text");
    assert!(!page.contains("<script>alert(1)"));
    assert_eq!(audit_count(&app, "item.view").await, views_before + 1);

    // The writer submits; only a reviewer decides.
    let v = version_of(&app, id).await;
    assert_eq!(post(&writer, &app, &format!("/items/{id}/submit"), &wcsrf, &[("version", &v)]).await.status(), 303);
    let denied = post(&writer, &app, &format!("/items/{id}/review"), &wcsrf, &[("version", &v), ("decision", "approve")]).await;
    assert_eq!(denied.status(), 403);

    // A send-back needs a reason, and then the item is a draft again.
    let (rev, rcsrf) = app.login("t.itemreviewer").await;
    let no_reason = post(&rev, &app, &format!("/items/{id}/review"), &rcsrf, &[("version", &v), ("decision", "reject")]).await;
    assert_eq!(no_reason.status(), 422);
    assert!(no_reason.text().await.unwrap().contains("退回原因"));
    let back =
        post(&rev, &app, &format!("/items/{id}/review"), &rcsrf, &[("version", &v), ("decision", "reject"), ("note", "选项C表述不清")])
            .await;
    assert_eq!(back.status(), 303);
    assert_eq!(store::by_id(db, id).await.unwrap().unwrap().review_note.as_deref(), Some("选项C表述不清"));

    // The reviewer corrects it (a new version) and cannot approve their own version.
    let mut edited = single_choice("长期卧床病人一般每隔多久翻身一次？");
    edited.push(("version", "1"));
    edited.push(("change_note", "改写题干"));
    let r = post(&rev, &app, &format!("/items/{id}"), &rcsrf, &edited).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(version_of(&app, id).await, "2");
    assert_eq!(post(&rev, &app, &format!("/items/{id}/submit"), &rcsrf, &[("version", "2")]).await.status(), 303);
    let own = post(&rev, &app, &format!("/items/{id}/review"), &rcsrf, &[("version", "2"), ("decision", "approve")]).await;
    assert_eq!(own.status(), 409);
    assert!(own.text().await.unwrap().contains("不能审核自己"));
    assert_eq!(store::by_id(db, id).await.unwrap().unwrap().status, "in_review", "a refusal changes nothing");

    // Another reviewer approves; a second approval of the same version finds it decided.
    let (rev2, r2csrf) = app.login("t.itemreviewer2").await;
    let ok = post(&rev2, &app, &format!("/items/{id}/review"), &r2csrf, &[("version", "2"), ("decision", "approve")]).await;
    assert_eq!(ok.status(), 303);
    let again = post(&rev2, &app, &format!("/items/{id}/review"), &r2csrf, &[("version", "2"), ("decision", "approve")]).await;
    assert_eq!(again.status(), 409);
    let item = store::by_id(db, id).await.unwrap().unwrap();
    assert_eq!((item.status.as_str(), item.reviewed_by.as_deref()), ("active", Some("t.itemreviewer2")));

    // Version 1 is kept as it was, for papers that used it.
    let old = writer.get(app.url(&format!("/items/{id}?version=1"))).send().await.unwrap().text().await.unwrap();
    assert!(old.contains("长期卧床病人翻身的间隔是？"));
    assert!(old.contains("历史版本"));

    // A stale edit (version 1 after version 2) is refused and adds nothing.
    let (items_before, versions_before) = store::count_rows(db).await.unwrap();
    let mut stale = single_choice("过期的修改");
    stale.push(("version", "1"));
    assert_eq!(post(&writer, &app, &format!("/items/{id}"), &wcsrf, &stale).await.status(), 409);
    assert_eq!(store::count_rows(db).await.unwrap(), (items_before, versions_before));
    app.cleanup().await;
}

#[tokio::test]
async fn bad_items_are_refused_with_every_field_named_and_nothing_saved() {
    let app = TestApp::spawn().await;
    let (writer, csrf) = app.login("t.itemwriter").await;
    let before = store::count_rows(app.state.store().conn()).await.unwrap();
    let r = post(
        &writer,
        &app,
        "/items",
        &csrf,
        &[
            ("subject", "ethics"),
            ("level", "3"),
            ("work_type", "护理员"),
            ("kind", "multiple_choice"),
            ("difficulty", "9"),
            ("knowledge_point", ""),
            ("points", "1.25"),
            ("stem", ""),
            ("option_a", "甲"),
            ("option_b", "乙"),
            ("option_c", "丙"),
            ("key", "A"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    for message in ["难度：", "分值：", "请更正以下问题"] {
        assert!(body.contains(message), "{message} missing");
    }
    // With the readable fields fixed, the domain names the rest.
    let r = post(
        &writer,
        &app,
        "/items",
        &csrf,
        &[
            ("subject", "ethics"),
            ("level", "3"),
            ("work_type", "护理员"),
            ("kind", "multiple_choice"),
            ("difficulty", "2"),
            ("knowledge_point", ""),
            ("points", "2"),
            ("stem", ""),
            ("option_a", "甲"),
            ("option_b", "乙"),
            ("option_c", "丙"),
            ("key", "A"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    for message in ["工种：职业道德为各工种共用科目", "知识点：请填写", "题干：请填写", "答案：多选题应有至少2个正确选项"]
    {
        assert!(body.contains(message), "{message} missing");
    }
    let unknown_work_type = [("subject", "post_skills"), ("level", "3"), ("work_type", "宇航员")];
    let r = post(&writer, &app, "/items", &csrf, &unknown_work_type).await;
    assert!(r.text().await.unwrap().contains("“宇航员”不在本年度工种目录中"));
    assert_eq!(store::count_rows(app.state.store().conn()).await.unwrap(), before);
    app.cleanup().await;
}

#[tokio::test]
async fn only_item_bank_staff_of_the_province_reach_the_bank() {
    let app = TestApp::spawn().await;
    for user in ["t.applicant", "t.reviewer", "t.provexam", "t.examiner", "t.sysadmin", "t.auditadmin"] {
        let (c, _) = app.login(user).await;
        assert_eq!(c.get(app.url("/items")).send().await.unwrap().status(), 403, "{user}");
        assert_eq!(c.get(app.url("/items/export.zip")).send().await.unwrap().status(), 403, "{user}");
    }
    let (c, _) = app.login("t.itemreviewer").await;
    let page = c.get(app.url("/items")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("题库"));
    app.cleanup().await;
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.push((f.name().unwrap().into_owned(), data));
    }
    out
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(40, 20, image::Rgb([200, 30, 30]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A package as another platform would send it: an image item, a true/false and an essay.
fn package() -> Vec<u8> {
    let choice = ItemContent {
        stem: "如图所示的标志表示？".into(),
        options: vec!["禁止通行".into(), "注意安全".into(), "前方施工".into()],
        key: vec![1],
        ..Default::default()
    };
    let tf = ItemContent {
        stem: "护理员应遵守职业道德。".into(),
        options: TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(),
        key: vec![0],
        ..Default::default()
    };
    let essay = ItemContent {
        stem: "论述护理工作中的人文关怀。".into(),
        marking_guide: "一、尊重（10分）\n二、沟通（10分）".into(),
        ..Default::default()
    };
    let entries = vec![
        ManifestEntry {
            identifier: "c1".into(),
            href: "items/c1.xml".into(),
            files: vec!["images/sign.png".into()],
            knowledge_point: Some("安全标志".into()),
            difficulty: Difficulty::new(2),
            ..Default::default()
        },
        ManifestEntry {
            identifier: "t1".into(),
            href: "items/t1.xml".into(),
            knowledge_point: Some("职业守则".into()),
            ..Default::default()
        },
        ManifestEntry {
            identifier: "e1".into(),
            href: "items/e1.xml".into(),
            knowledge_point: Some("人文关怀".into()),
            subject: Some(Subject::WrittenTest),
            level: Some(1),
            work_type: Some("护理员".into()),
            kind: Some(ItemKind::Essay),
            difficulty: Difficulty::new(5),
            ..Default::default()
        },
    ];
    zip_of(&[
        ("imsmanifest.xml", qti::write_manifest("pkg", &entries).into_bytes()),
        ("items/c1.xml", qti::write_item("c1", "", ItemKind::SingleChoice, &choice, 20, &["../images/sign.png".into()]).into_bytes()),
        ("items/t1.xml", qti::write_item("t1", "", ItemKind::TrueFalse, &tf, 10, &[]).into_bytes()),
        ("items/e1.xml", qti::write_item("e1", "", ItemKind::Essay, &essay, 200, &[]).into_bytes()),
        ("images/sign.png", png()),
    ])
}

async fn import(app: &TestApp, c: &reqwest::Client, csrf: &str, name: &str, bytes: Vec<u8>, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("csrf_token", csrf.to_owned());
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    let form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    c.post(app.url("/items/import")).multipart(form).send().await.unwrap()
}

const DEFAULTS: [(&str, &str); 4] = [("subject", "post_skills"), ("level", "3"), ("work_type", "护理员"), ("difficulty", "3")];

#[tokio::test]
async fn qti_packages_round_trip_through_export_and_import() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.itemwriter").await;
    let r = import(&app, &c, &csrf, "pkg.zip", package(), &DEFAULTS).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/items?imported=3");
    let db = app.state.store().conn();
    let first = store::all(db, &ItemFilter::default(), 100).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|i| i.status == "draft"), "imports still need a review");
    let essay = first.iter().find(|i| i.kind == "essay").unwrap();
    assert_eq!((essay.subject.as_str(), essay.level, essay.difficulty, essay.points_tenths), ("written_test", 1, 5, 200));
    let choice = first.iter().find(|i| i.kind == "single_choice").unwrap();
    assert_eq!((choice.knowledge_point.as_str(), choice.difficulty, choice.points_tenths), ("安全标志", 2, 20));
    let detail = c.get(app.url(&format!("/items/{}", choice.id))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains("data:image/png;base64,"), "the image is shown inline from the encrypted content");

    // Export everything, import the export: the same items come back.
    let exports_before = audit_count(&app, "item.export").await;
    let r = c.get(app.url("/items/export.zip")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let exported = r.bytes().await.unwrap().to_vec();
    assert_eq!(audit_count(&app, "item.export").await, exports_before + 1);
    let files = unzip(&exported);
    assert!(files.iter().any(|(n, _)| n == "imsmanifest.xml"));
    assert_eq!(files.iter().filter(|(n, _)| n.starts_with("items/")).count(), 3);
    assert!(files.iter().any(|(n, _)| n.starts_with("images/") && n.ends_with(".png")));
    let r = import(&app, &c, &csrf, "export.zip", exported.clone(), &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let all = store::all(db, &ItemFilter::default(), 100).await.unwrap();
    assert_eq!(all.len(), 6);
    let key = |i: &store::Item| {
        (i.subject.clone(), i.level, i.work_type.clone(), i.kind.clone(), i.difficulty, i.knowledge_point.clone(), i.points_tenths)
    };
    let mut a: Vec<_> = all[..3].iter().map(key).collect();
    let mut b: Vec<_> = all[3..].iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "metadata survives the round trip");
    // Content too: exporting the copies gives the same item files, apart from identifiers.
    let uids: Vec<String> = all.iter().map(|i| i.uid.clone()).collect();
    let normalise = |files: Vec<(String, Vec<u8>)>| {
        let mut items: Vec<String> = files
            .into_iter()
            .filter(|(n, _)| n.starts_with("items/"))
            .map(|(_, d)| {
                let mut s = String::from_utf8(d).unwrap();
                for u in &uids {
                    s = s.replace(u.as_str(), "UID");
                }
                s
            })
            .collect();
        items.sort();
        items
    };
    let ids: Vec<String> = all[3..].iter().map(|i| i.id.to_string()).collect();
    let mut second = Vec::new();
    for id in &ids {
        let r = c.get(app.url(&format!("/items/{id}"))).send().await.unwrap().text().await.unwrap();
        second.push(r);
    }
    assert!(second.iter().any(|p| p.contains("data:image/png;base64,")), "the copy keeps its image");
    let originals = normalise(files);
    let again = c.get(app.url("/items/export.zip?status=draft")).send().await.unwrap().bytes().await.unwrap().to_vec();
    let copies = normalise(unzip(&again));
    assert_eq!(copies.len(), 6);
    for original in &originals {
        assert_eq!(copies.iter().filter(|c| *c == original).count(), 2, "{original}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn bad_qti_files_are_refused_whole_with_reasons() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.itemwriter").await;
    let db = app.state.store().conn();
    let before = store::count_rows(db).await.unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "xxe.xml",
            br#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><assessmentItem identifier="a"><itemBody><p>&x;</p></itemBody></assessmentItem>"#.to_vec(),
            "DOCTYPE",
        ),
        ("broken.xml", b"<assessmentItem identifier=\"a\"><itemBody><p>".to_vec(), "XML"),
        (
            "order.xml",
            br#"<assessmentItem identifier="a"><itemBody><orderInteraction responseIdentifier="R"/></itemBody></assessmentItem>"#.to_vec(),
            "orderInteraction",
        ),
        ("empty.xml", Vec::new(), "请选择要导入的 QTI 文件"),
        ("junk.zip", b"PK\x03\x04garbage".to_vec(), "不是有效的ZIP内容包"),
    ];
    for (name, bytes, expected) in cases {
        let r = import(&app, &c, &csrf, name, bytes, &DEFAULTS).await;
        assert_eq!(r.status(), 422, "{name}");
        let body = r.text().await.unwrap();
        assert!(body.contains(expected), "{name}: {expected} not in the page");
        assert!(body.contains("未导入任何试题") || body.contains("请选择要导入"), "{name}");
    }
    // One good item and one with an image over the limit: nothing is imported, the bad one named.
    let good = ItemContent { stem: "题一".into(), options: vec!["甲".into(), "乙".into()], key: vec![0], ..Default::default() };
    let entries = vec![
        ManifestEntry { identifier: "g".into(), href: "g.xml".into(), knowledge_point: Some("甲".into()), ..Default::default() },
        ManifestEntry { identifier: "big".into(), href: "big.xml".into(), knowledge_point: Some("乙".into()), ..Default::default() },
    ];
    let mut huge = png();
    huge.resize(600 * 1024, 0);
    let pkg = zip_of(&[
        ("imsmanifest.xml", qti::write_manifest("p", &entries).into_bytes()),
        ("g.xml", qti::write_item("g", "", ItemKind::SingleChoice, &good, 10, &[]).into_bytes()),
        ("big.xml", qti::write_item("big", "", ItemKind::SingleChoice, &good, 10, &["huge.png".into()]).into_bytes()),
        ("huge.png", huge),
    ]);
    let r = import(&app, &c, &csrf, "p.zip", pkg, &DEFAULTS).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("第2题（big）"), "the refused item is named");
    assert!(body.contains("过大"));
    // Metadata the file lacks and the form does not give is named too.
    let no_points = qti::write_item("n", "", ItemKind::SingleChoice, &good, 10, &[]).replace("MAXSCORE", "OTHER");
    let r = import(&app, &c, &csrf, "n.xml", no_points.into_bytes(), &[("subject", "ethics"), ("level", "4"), ("difficulty", "2")]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("缺少知识点") || body.contains("缺少分值"), "missing metadata named");
    assert_eq!(store::count_rows(db).await.unwrap(), before, "nothing half-imported");
    app.cleanup().await;
}

/// No page or API reachable by an applicant (the future candidate) or a unit admin carries item
/// content: every GET route of the table is fetched with an item's id where it takes one.
#[tokio::test]
async fn item_content_never_reaches_applicants_or_units() {
    let app = TestApp::spawn().await;
    let (writer, csrf) = app.login("t.itemwriter").await;
    let mut fields = single_choice("机密题干标记QX7");
    fields.retain(|(k, _)| *k != "option_b");
    fields.push(("option_b", "机密选项标记QX8"));
    let r = post(&writer, &app, "/items", &csrf, &fields).await;
    assert_eq!(r.status(), 303);
    let id = id_from(&r).to_string();
    let shown = writer.get(app.url(&format!("/items/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(shown.contains("QX7") && shown.contains("QX8"), "the markers are what the item page shows");
    for user in ["t.applicant", "t.unitadmin"] {
        let (c, _) = app.login(user).await;
        for spec in gongkao_web::routes::table() {
            if spec.method != axum::http::Method::GET {
                continue;
            }
            let path = spec.path.replace("{id}", &id).replace("{code}", "410100");
            let body = c.get(app.url(&path)).send().await.unwrap().text().await.unwrap_or_default();
            assert!(!body.contains("QX7") && !body.contains("QX8"), "{user} GET {path} shows item content");
        }
    }
    app.cleanup().await;
}

fn sheet(rows: &[&[&str]], merge: bool) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in gongkao_web::services::item_sheet::HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    if merge {
        ws.merge_range(5, 0, 5, 1, "合并", &rust_xlsxwriter::Format::new()).unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn the_excel_template_imports_all_rows_or_none() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.itemwriter").await;
    let template = c.get(app.url("/items/import-template.xlsx")).send().await.unwrap();
    assert_eq!(template.status(), 200);
    let db = app.state.store().conn();
    let before = store::count_rows(db).await.unwrap();
    let single: &[&str] =
        &["岗位技能", "3", "护理员", "单选题", "3", "基础护理", "1.5", "翻身间隔？𠮷", "1小时", "2小时", "", "", "", "", "", "", "B", ""];
    let tf: &[&str] = &["职业道德", "4", "", "判断题", "2", "爱岗敬业", "1", "应当爱岗敬业。", "", "", "", "", "", "", "", "", "正确", ""];
    let bad: &[&str] = &["职业道德", "4", "", "多选题", "2", "爱岗敬业", "2", "多选？", "甲", "乙", "丙", "", "", "", "", "", "A", ""];
    let r = import(&app, &c, &csrf, "items.xlsx", sheet(&[single, tf, bad], true), &[]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("第 4 行 Q 列：答案：多选题应有至少2个正确选项"), "the bad row and column are named");
    assert!(body.contains("合并单元格"));
    assert_eq!(store::count_rows(db).await.unwrap(), before, "nothing imported");
    let r = import(&app, &c, &csrf, "items.xlsx", sheet(&[single, tf], false), &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/items?imported=2");
    let all = store::all(db, &ItemFilter::default(), 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].kind.as_str(), all[0].points_tenths, all[0].work_type.as_deref()), ("single_choice", 15, Some("护理员")));
    assert_eq!((all[1].kind.as_str(), all[1].subject.as_str(), all[1].level), ("true_false", "ethics", 4));
    let page = c.get(app.url(&format!("/items/{}", all[0].id))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("翻身间隔？𠮷"));
    app.cleanup().await;
}
