//! Photos and attachments through HTTP on both engines: checked on upload, stored once per
//! content, served only to those who may see the application, and required for submission.
//! Every refusal leaves the file rows, the folder and the audit log as they were.
use gongkao_domain::role::Role;
use gongkao_storage::accounts::{self, NewAccount};
use gongkao_storage::applications;
use gongkao_web::passwords::{Argon2Params, hash_blocking};
use image::{GenericImageView, ImageFormat};
use sea_orm::{ConnectionTrait, Statement};

use crate::kit::{PASSWORD, TestApp, photo};

/// (file rows, stored contents, audit entries): what a refusal must leave unchanged.
async fn counts(app: &TestApp) -> (u64, usize, u64) {
    let db = app.state.store().conn();
    let files = gongkao_storage::files::count_all(db).await.unwrap();
    let audit = gongkao_storage::audit::list(db, &Default::default(), gongkao_domain::paging::Page::new(None, None)).await.unwrap().total;
    (files, app.state.blobs().count(), audit)
}

async fn add_account(app: &TestApp, username: &str, role: Role, agency: Option<&str>, applicant: Option<i64>) {
    let hash = hash_blocking(PASSWORD, Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 }).unwrap();
    accounts::create(
        app.state.store().conn(),
        NewAccount {
            username: username.into(),
            display_name: username.into(),
            role: role.as_str().into(),
            agency_code: agency.map(str::to_owned),
            applicant_id: applicant,
            password_hash: Some(hash),
            ..Default::default()
        },
        app.state.now(),
    )
    .await
    .unwrap();
}

/// The URLs of the files on the applicant's page, in page order (photo first).
fn file_urls(page: &str, application: i64) -> Vec<String> {
    let marker = format!("/applications/{application}/files/");
    page.match_indices(&marker).map(|(i, _)| page[i..].split('"').next().unwrap().to_owned()).fold(Vec::new(), |mut v, u| {
        if !v.contains(&u) {
            v.push(u);
        }
        v
    })
}

fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n% test\n".to_vec();
    b.extend((0..len.saturating_sub(b.len())).map(|i| (i % 251) as u8));
    b
}

async fn status_of(app: &TestApp, id: i64) -> String {
    applications::get(app.state.store().conn(), id).await.unwrap().unwrap().status
}

#[tokio::test]
async fn photos_are_reencoded_to_the_portrait_size_and_replaced() {
    let app = TestApp::spawn().await;
    let (me, csrf) = app.login("t.applicant").await;
    for (format, name, w, h) in [(ImageFormat::Jpeg, "a.jpg", 1180, 1652), (ImageFormat::Png, "b.png", 300, 410)] {
        let r = app.upload(&me, &csrf, "/application/photo", None, name, photo(w, h, format)).await;
        assert_eq!(r.status(), 303, "{name}: {}", r.text().await.unwrap());
        let page = me.get(app.url("/application")).send().await.unwrap().text().await.unwrap();
        let urls = file_urls(&page, app.application_a);
        assert_eq!(urls.len(), 1, "one photo at a time: {urls:?}");
        let r = me.get(app.url(&urls[0])).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("inline;"));
        assert_eq!(r.headers()["cache-control"], "private, no-store");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.len() <= 200 * 1024, "{name}: {} bytes", bytes.len());
        let img = image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg).unwrap();
        assert_eq!(img.dimensions(), (295, 413), "{name}");
    }
    let db = app.state.store().conn();
    assert_eq!(gongkao_storage::files::count_all(db).await.unwrap(), 2, "the replaced photo is kept as history");
    assert_eq!(gongkao_storage::files::active_for(db, app.application_a).await.unwrap().len(), 1);
    let events: Vec<String> = applications::events(db, app.application_a).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(events, ["photo_upload", "photo_upload"]);
    app.cleanup().await;
}

#[tokio::test]
async fn bad_photos_are_refused_with_the_field_named_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let (me, csrf) = app.login("t.applicant").await;
    let before = counts(&app).await;
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("fake.jpg", "这不是图片，只是改了扩展名的文本文件".as_bytes().to_vec(), "照片：文件不是有效的 JPEG 或 PNG 图片"),
        ("broken.jpg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F'].repeat(50), "照片：文件不是有效的 JPEG 或 PNG 图片"),
        ("wide.png", photo(600, 400, ImageFormat::Png), "照片：须为竖版一寸证件照"),
        ("tiny.png", photo(100, 140, ImageFormat::Png), "照片：图片太小"),
    ];
    for (name, bytes, message) in cases {
        let r = app.upload(&me, &csrf, "/application/photo", None, name, bytes).await;
        assert_eq!(r.status(), 422, "{name}");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{name}: expected {message}");
    }
    // Over 5 MB is refused before decoding, even when it is a real image.
    let mut big = photo(295, 413, ImageFormat::Png);
    big.resize(5 * 1024 * 1024 + 1, 0);
    let r = app.upload(&me, &csrf, "/application/photo", None, "big.png", big).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("照片：文件大小不能超过 5MB"));
    // Without the CSRF field the upload is refused as any other form is.
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(photo(295, 413, ImageFormat::Png)).file_name("x.png"));
    let r = me.post(app.url("/application/photo")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", "wrong")
        .part("file", reqwest::multipart::Part::bytes(photo(295, 413, ImageFormat::Png)).file_name("x.png"));
    assert_eq!(me.post(app.url("/application/photo")).multipart(form).send().await.unwrap().status(), 409);
    assert_eq!(counts(&app).await, before, "refusals change nothing");
    app.cleanup().await;
}

#[tokio::test]
async fn attachments_are_sniffed_limited_and_served_only_within_the_policy() {
    let app = TestApp::spawn().await;
    let (me, csrf) = app.login("t.applicant").await;
    let before = counts(&app).await;
    let r = app.upload(&me, &csrf, "/application/attachments", Some("award_certificate"), "big.pdf", pdf(6 * 1024 * 1024)).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("获奖证书：文件大小不能超过 5MB"));
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    exe.extend([0u8; 2048]);
    let r = app.upload(&me, &csrf, "/application/attachments", Some("wage_approval_form"), "工资审批表.pdf", exe).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("工资审批表（主管部门盖章）：只接受 PDF、JPEG 或 PNG 文件"));
    let r = app.upload(&me, &csrf, "/application/attachments", Some("passport"), "x.pdf", pdf(1000)).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("材料类别"));
    assert_eq!(counts(&app).await, before, "refusals change nothing");

    let doc = pdf(300 * 1024);
    let r = app.upload(&me, &csrf, "/application/attachments", Some("wage_approval_form"), "工资审批表 2020.pdf", doc.clone()).await;
    assert_eq!(r.status(), 303);
    let page = me.get(app.url("/application")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("工资审批表 2020.pdf") && page.contains("300 KB"), "listed with name and size");
    let url = file_urls(&page, app.application_a).pop().unwrap();
    let public_id = url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(public_id.len(), 32, "128-bit id in the URL, not the row id");

    let (ua, _) = app.login("t.unitadmin").await;
    let (reviewer, _) = app.login("t.reviewer").await;
    for (who, client) in [("applicant", &me), ("unit admin", &ua), ("reviewer", &reviewer)] {
        let r = client.get(app.url(&url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{who}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(r.headers()["cache-control"], "private, no-store");
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''%E5%B7%A5"), "{cd}");
        assert_eq!(r.bytes().await.unwrap().to_vec(), doc, "{who}: byte-identical");
    }
    // The detail page shows the file to the unit admin.
    let detail = ua.get(app.url(&format!("/applications/{}", app.application_a))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains(&url) && detail.contains("工资审批表（主管部门盖章）"));

    // A reviewer of another city, and the applicant of another application: 403.
    add_account(&app, "t.kfreviewer", Role::AgencyReviewer, Some("410200"), None).await;
    let other = applications::get(app.state.store().conn(), app.application_b).await.unwrap().unwrap();
    add_account(&app, "t.other", Role::Applicant, None, Some(other.applicant_id)).await;
    let (kf, _) = app.login("t.kfreviewer").await;
    let (stranger, _) = app.login("t.other").await;
    assert_eq!(kf.get(app.url(&url)).send().await.unwrap().status(), 403);
    assert_eq!(stranger.get(app.url(&url)).send().await.unwrap().status(), 403);
    // Nor through an application they may see: the file is not that application's.
    let foreign = format!("/applications/{}/files/{public_id}", app.application_b);
    assert_eq!(stranger.get(app.url(&foreign)).send().await.unwrap().status(), 404);
    assert_eq!(kf.get(app.url(&foreign)).send().await.unwrap().status(), 404);
    // Another applicant cannot delete it either.
    let (_, stranger_csrf) = app.login("t.other").await;
    let del = format!("/application/attachments/{public_id}/delete");
    let before = counts(&app).await;
    let r = stranger.post(app.url(&del)).form(&[("csrf_token", stranger_csrf.as_str())]).send().await.unwrap();
    assert!(r.status() == 404 || r.status() == 409, "{}", r.status());
    assert_eq!(counts(&app).await.0, before.0);

    // The owner deletes it: gone from the page and from the URL, kept as history.
    let audit_before = counts(&app).await.2;
    let r = me.post(app.url(&del)).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(me.get(app.url(&url)).send().await.unwrap().status(), 404);
    assert_eq!(counts(&app).await.2, audit_before + 1, "the deletion is audited");
    let events: Vec<String> =
        applications::events(app.state.store().conn(), app.application_a).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(events, ["attachment_upload", "attachment_delete"]);
    app.cleanup().await;
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    let app = TestApp::spawn().await;
    let (me, csrf) = app.login("t.applicant").await;
    let doc = pdf(50_000);
    for kind in ["award_certificate", "other"] {
        let r = app.upload(&me, &csrf, "/application/attachments", Some(kind), "证书.pdf", doc.clone()).await;
        assert_eq!(r.status(), 303);
    }
    let png = photo(295, 413, ImageFormat::Png);
    let r = app.upload(&me, &csrf, "/application/attachments", Some("award_certificate"), "scan.png", png).await;
    assert_eq!(r.status(), 303);
    let (rows, blobs, _) = counts(&app).await;
    assert_eq!((rows, blobs), (3, 2), "two rows share one file on disk");
    let hash = gongkao_storage::files::content_hash(&doc);
    let on_disk = app.state.config().files_dir.join(&hash[..2]).join(&hash);
    assert_eq!(std::fs::read(on_disk).unwrap(), doc);
    app.cleanup().await;
}

#[tokio::test]
async fn submission_requires_the_photo_and_the_level_one_papers() {
    let app = TestApp::spawn().await;
    let (me, csrf) = app.login("t.applicant").await;
    let submit = [("csrf_token", csrf.as_str()), ("pledge", "yes")];
    let before = counts(&app).await;
    let r = me.post(app.url("/application/submit")).form(&submit).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("照片：提交前须上传本人近期一寸免冠证件照"));
    assert_eq!(status_of(&app, app.application_a).await, "draft");
    assert_eq!(counts(&app).await, before, "the refused submission changed nothing");

    // Level 1 under the 2020 rule set also needs the stamped wage approval form and the paper.
    let db = app.state.store().conn();
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE application SET target_level = 1 WHERE id = $1",
        [app.application_a.into()],
    ))
    .await
    .unwrap();
    app.upload_photo(&me, &csrf).await;
    let r = me.post(app.url("/application/submit")).form(&submit).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("工资审批表：申报一级须上传经主管部门盖章的工资审批表") && body.contains("论文：2020 年申报一级须上传"));
    assert!(!body.contains("照片：提交前"), "the photo is there");
    let app_row = applications::get(db, app.application_a).await.unwrap().unwrap();
    let missing = gongkao_web::services::files::missing_for_submission(&app.state, &app_row).await.unwrap();
    assert_eq!(missing.len(), 2, "{missing:?}");
    for (kind, name) in [("wage_approval_form", "工资审批表.pdf"), ("cn_paper", "论文.pdf")] {
        let r = app.upload(&me, &csrf, "/application/attachments", Some(kind), name, pdf(4096)).await;
        assert_eq!(r.status(), 303);
    }
    let r = me.post(app.url("/application/submit")).form(&submit).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, app.application_a).await, "submitted");

    // Once the unit has approved it, the files can no longer be changed.
    let (ua, ua_csrf) = app.login("t.unitadmin").await;
    let url = app.url(&format!("/applications/{}/unit-decision", app.application_a));
    let mut approve = vec![("csrf_token", ua_csrf.as_str()), ("decision", "approve")];
    approve.extend(gongkao_domain::application::UNIT_CHECK_FIELDS.iter().map(|(c, _)| ("checked", *c)));
    assert_eq!(ua.post(&url).form(&approve).send().await.unwrap().status(), 303);
    let before = counts(&app).await;
    let r = app.upload(&me, &csrf, "/application/attachments", Some("other"), "late.pdf", pdf(2048)).await;
    assert_eq!(r.status(), 409);
    let r = app.upload(&me, &csrf, "/application/photo", None, "late.png", photo(295, 413, ImageFormat::Png)).await;
    assert_eq!(r.status(), 409);
    assert_eq!(counts(&app).await, before);
    app.cleanup().await;
}

#[tokio::test]
async fn at_most_ten_attachments() {
    let app = TestApp::spawn().await;
    let (me, csrf) = app.login("t.applicant").await;
    for i in 0..10 {
        let r = app.upload(&me, &csrf, "/application/attachments", Some("other"), &format!("{i}.pdf"), pdf(1000 + i)).await;
        assert_eq!(r.status(), 303);
    }
    let before = counts(&app).await;
    let r = app.upload(&me, &csrf, "/application/attachments", Some("other"), "11.pdf", pdf(999)).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("最多上传 10 个附件"));
    assert_eq!(counts(&app).await, before);
    app.cleanup().await;
}
