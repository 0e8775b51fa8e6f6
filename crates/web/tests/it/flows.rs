//! Behaviour through HTTP: sign-in and lockout, bad input, the audit chain, 附件2 onboarding.
use gongkao_storage::{accounts, audit, units};
use sea_orm::ConnectionTrait;

use crate::kit::{PASSWORD, TestApp, credit, csrf_of};

#[tokio::test]
async fn lockout_after_five_failures_and_audit() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let token = csrf_of(&c.get(app.url("/login")).send().await.unwrap().text().await.unwrap());
    for i in 1..=5 {
        let r = c
            .post(app.url("/login"))
            .form(&[("username", "t.cashier"), ("password", "wrong-Passw0rd"), ("csrf_token", &token)])
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        if i < 5 {
            assert!(body.contains("用户名或密码错误"), "attempt {i}");
        } else {
            assert!(body.contains("锁定"), "attempt 5 locks");
        }
    }
    // Even the right password is refused while locked (the client address is locked too).
    let r =
        c.post(app.url("/login")).form(&[("username", "t.cashier"), ("password", PASSWORD), ("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let failed = audit::list(
        app.state.store().conn(),
        &audit::AuditFilter { outcome: Some("failed".into()), ..Default::default() },
        gongkao_domain::paging::Page::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(failed.total, 6);
    app.cleanup().await;
}

#[tokio::test]
async fn login_without_csrf_is_refused() {
    let app = TestApp::spawn().await;
    let r = app.client().post(app.url("/login")).form(&[("username", "t.cashier"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("CSRF"));
    app.cleanup().await;
}

#[tokio::test]
async fn bad_unit_input_names_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.reviewer").await;
    let before = units::count_in_scope(app.state.store().conn(), None).await.unwrap();
    let mut bad = credit("12410100", "NEWX00001");
    bad.pop();
    bad.push(if bad.ends_with('0') { '1' } else { '0' });
    let r = c
        .post(app.url("/units"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "郑州市测试新单位"),
            ("credit_code", &bad),
            ("unit_type", "institution"),
            ("category", "local"),
            ("supervising_department", "郑州市卫生健康委员会"),
            ("agency_code", "410100"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("统一社会信用代码"));
    // Another city's agency is outside the reviewer's jurisdiction.
    let r = c
        .post(app.url("/units"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "开封市测试新单位"),
            ("credit_code", &credit("12410200", "NEWY00001")),
            ("unit_type", "institution"),
            ("category", "local"),
            ("supervising_department", "开封市卫生健康委员会"),
            ("agency_code", "410200"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("超出您的管辖范围"));
    assert_eq!(units::count_in_scope(app.state.store().conn(), None).await.unwrap(), before);
    // A valid unit is created and audited.
    let r = c
        .post(app.url("/units"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "郑州市测试新单位"),
            ("credit_code", &credit("12410100", "NEWZ00001")),
            ("unit_type", "institution"),
            ("category", "local"),
            ("supervising_department", "郑州市卫生健康委员会"),
            ("agency_code", "410100"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(units::count_in_scope(app.state.store().conn(), None).await.unwrap(), before + 1);
    app.cleanup().await;
}

#[tokio::test]
async fn signup_checks_id_number_against_typed_facts() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let token = csrf_of(&c.get(app.url("/signup")).send().await.unwrap().text().await.unwrap());
    let r = c
        .post(app.url("/signup"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("id_number", "440524188001010015"),
            ("name", "王测试"),
            ("birth_date", "1980-01-01"),
            ("sex", "male"),
            ("mobile", "13700137000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("身份证号码"));
    let r = c
        .post(app.url("/signup"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("id_number", "34052419800101001X"),
            ("name", "王测试"),
            ("birth_date", "1981-01-01"),
            ("sex", "male"),
            ("mobile", "13700137000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("出生日期"));
    app.cleanup().await;
}

#[tokio::test]
async fn unit_admin_form_approved_creates_one_time_account() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.reviewer").await;
    let r = c.post(app.url(&format!("/unit-admin-requests/{}/approve", app.request_a))).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let username = credit("11410100", "NEWA00001").to_lowercase();
    assert!(body.contains(&username));
    let account = accounts::by_username(app.state.store().conn(), &username).await.unwrap().unwrap();
    assert!(account.must_change_password);
    assert_eq!(account.role, "unit_admin");
    // Deciding twice is refused.
    let r = c.post(app.url(&format!("/unit-admin-requests/{}/approve", app.request_a))).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), 409);
    app.cleanup().await;
}

#[tokio::test]
async fn edited_audit_row_is_found_by_verify() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.login("t.auditadmin").await;
    }
    let db = app.state.store().conn();
    assert!(audit::verify(app.state.store()).await.unwrap().is_ok());
    db.execute_unprepared("UPDATE audit_log SET summary = 'tampered' WHERE seq = 2").await.unwrap();
    let broken = audit::verify(app.state.store()).await.unwrap().unwrap_err();
    assert_eq!(broken.seq(), 2, "{broken}");
    let (c, _) = app.login("t.auditadmin").await;
    let page = c.get(app.url("/audit")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("哈希链校验失败"));
    app.cleanup().await;
}

#[tokio::test]
async fn province_exam_officer_edits_the_schedule_all_or_nothing() {
    use gongkao_domain::campaign::WindowKind;
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.provexam").await;
    let page = c.get(app.url("/campaign")).send().await.unwrap().text().await.unwrap();
    // Every window's current values, as the form shows them.
    let mut form: Vec<(String, String)> = vec![("csrf_token".into(), csrf.clone())];
    for kind in WindowKind::ALL {
        for end in ["starts_at", "ends_at"] {
            let name = format!("{}_{end}", kind.as_str());
            let marker = format!("name=\"{name}\" type=\"text\" value=\"");
            let value = page.split(&marker).nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("{name} missing")).to_owned();
            form.push((name, value));
        }
    }
    let set = |form: &mut Vec<(String, String)>, k: &str, v: &str| form.iter_mut().find(|(n, _)| n == k).unwrap().1 = v.to_owned();
    let mut bad = form.clone();
    set(&mut bad, "unit_initial_review_ends_at", "2020-06-30 24:00");
    let r = c.post(app.url("/campaign/schedule")).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("单位初审"));
    let mut good = form.clone();
    set(&mut good, "registration_ends_at", "2020-04-30 24:00");
    let r = c.post(app.url("/campaign/schedule")).form(&good).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, schedule) = gongkao_web::services::campaigns::current(&app.state).await.unwrap();
    let reg = schedule.window(WindowKind::Registration).unwrap();
    assert_eq!(gongkao_domain::campaign::format_shanghai_end(reg.ends_at), "2020-04-30 24:00");
    let review = schedule.window(WindowKind::UnitInitialReview).unwrap();
    assert_eq!(gongkao_domain::campaign::format_shanghai_end(review.ends_at), "2020-04-30 24:00", "the refused edit left nothing behind");
    let log = audit::list(
        app.state.store().conn(),
        &audit::AuditFilter { action: Some("campaign.schedule".into()), ..Default::default() },
        gongkao_domain::paging::Page::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(log.total, 1);
    assert!(log.items[0].summary.contains("registration"));
    app.cleanup().await;
}

#[tokio::test]
async fn applicant_recovers_password_with_sms_code() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let id = "11010519491231002X";
    let applicant = gongkao_storage::units::applicant_by_id_number(db, id).await.unwrap().unwrap();
    accounts::create(
        db,
        accounts::NewAccount {
            username: id.into(),
            display_name: "张测试".into(),
            role: "applicant".into(),
            applicant_id: Some(applicant.id),
            mobile: Some("13800138000".into()),
            password_hash: Some("x".into()),
            ..Default::default()
        },
        app.state.now(),
    )
    .await
    .unwrap();
    let c = app.client();
    let token = csrf_of(&c.get(app.url("/password-reset")).send().await.unwrap().text().await.unwrap());
    // A wrong mobile gets the same answer and no message.
    let r = c
        .post(app.url("/password-reset"))
        .form(&[("csrf_token", token.as_str()), ("step", "code"), ("id_number", id), ("mobile", "13900000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(app.state.sender().recent().is_empty());
    let r = c
        .post(app.url("/password-reset"))
        .form(&[("csrf_token", token.as_str()), ("step", "code"), ("id_number", id), ("mobile", "13800138000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sms = app.state.sender().recent();
    assert_eq!(sms.len(), 1);
    let code: String = sms[0].body.split("验证码 ").nth(1).unwrap().chars().take(6).collect();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let form = |code: &str| {
        vec![
            ("csrf_token", token.clone()),
            ("step", "complete".into()),
            ("id_number", id.into()),
            ("mobile", "13800138000".into()),
            ("code", code.into()),
            ("password", "New-Passw0rd!z".into()),
            ("confirm_password", "New-Passw0rd!z".into()),
        ]
    };
    let r = c.post(app.url("/password-reset")).form(&form(wrong)).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("短信验证码"));
    let r = c.post(app.url("/password-reset")).form(&form(&code)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // The new password signs in; the code cannot be used twice.
    let login = app.client();
    let t = csrf_of(&login.get(app.url("/login")).send().await.unwrap().text().await.unwrap());
    let r =
        login.post(app.url("/login")).form(&[("username", id), ("password", "New-Passw0rd!z"), ("csrf_token", &t)]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = c.post(app.url("/password-reset")).form(&form(&code)).send().await.unwrap();
    assert_eq!(r.status(), 422);
    app.cleanup().await;
}

#[tokio::test]
async fn staff_sessions_end_after_thirty_idle_minutes() {
    let app = TestApp::spawn().await;
    let (c, _) = app.login("t.reviewer").await;
    let (a, _) = app.login("t.applicant").await;
    let clock = app.clock.clone();
    clock.advance(time::Duration::minutes(29));
    assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), 200);
    clock.advance(time::Duration::minutes(31));
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    // Applicants have a longer idle allowance (120 minutes by default).
    assert_eq!(a.get(app.url("/")).send().await.unwrap().status(), 200);
    app.cleanup().await;
}

#[tokio::test]
async fn security_headers_and_cookie_flags() {
    let app = TestApp::spawn().await;
    let r = app.client().get(app.url("/login")).send().await.unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    let c = app.client();
    let token = csrf_of(&c.get(app.url("/login")).send().await.unwrap().text().await.unwrap());
    let r =
        c.post(app.url("/login")).form(&[("username", "t.cashier"), ("password", PASSWORD), ("csrf_token", &token)]).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("gk_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    // A POST from another site is refused even with a valid session.
    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&home);
    let r = c
        .post(app.url("/account/password"))
        .header("origin", "http://evil.example")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.cleanup().await;
}

fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

#[tokio::test]
async fn exports_are_scoped_read_back_and_audited() {
    let app = TestApp::spawn().await;
    // The unit admin's export holds only the unit's own people, unmasked.
    let (c, _) = app.login("t.unitadmin").await;
    let r = c.get(app.url("/applicants/export.xlsx")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let rows = xlsx_rows(r.bytes().await.unwrap().to_vec());
    assert_eq!(rows[0][1], "身份证号码");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][1], "11010519491231002X");
    // The list page masks the same number.
    let page = c.get(app.url("/applicants")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("1101**********002X") && !page.contains("11010519491231002X"));
    // A reviewer of another city sees nobody from this unit.
    let (audit_admin, _) = app.login("t.auditadmin").await;
    let r = audit_admin.get(app.url("/audit/export.xlsx?action=personal_data")).send().await.unwrap();
    let rows = xlsx_rows(r.bytes().await.unwrap().to_vec());
    assert_eq!(rows.len(), 2, "one personal-data export was logged: {rows:?}");
    assert_eq!(rows[1][2], "t.unitadmin");
    assert!(rows[1][7].contains("1 条"));
    // And the audit export is itself in the log.
    let log = audit::list(
        app.state.store().conn(),
        &audit::AuditFilter { action: Some("audit.export".into()), ..Default::default() },
        gongkao_domain::paging::Page::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(log.total, 1);
    app.cleanup().await;
}

#[tokio::test]
async fn work_type_import_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.provexam").await;
    let catalogue = |app: &TestApp| {
        let app_state = app.state.clone();
        async move {
            let (campaign, _) = gongkao_web::services::campaigns::current(&app_state).await.unwrap();
            gongkao_storage::campaigns::work_types(app_state.store().conn(), campaign.catalogue_id).await.unwrap()
        }
    };
    let before = catalogue(&app).await;
    let book = |names: &[&str]| {
        let mut b = rust_xlsxwriter::Workbook::new();
        let ws = b.add_worksheet();
        ws.write_string(0, 0, "工种名称").unwrap();
        for (i, n) in names.iter().enumerate() {
            ws.write_string(u32::try_from(i + 1).unwrap(), 0, *n).unwrap();
        }
        b.save_to_buffer().unwrap()
    };
    let upload = |bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("w.xlsx");
        c.post(app.url(&format!("/campaign/work-types/import?csrf_token={csrf}")))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let r = upload(book(&["园林绿化工", "X", "园林绿化工"])).await.unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("第 3 行") && body.contains("第 4 行"), "{body}");
    assert_eq!(catalogue(&app).await, before, "nothing imported");
    let r = upload(book(&["园林绿化工", "桥梁养护工"])).await.unwrap();
    assert_eq!(r.status(), 303);
    let after = catalogue(&app).await;
    assert_eq!(after.len(), before.len() + 2);
    // The template downloads and reads back with its header.
    let t = c.get(app.url("/campaign/work-types/template.xlsx")).send().await.unwrap();
    assert_eq!(xlsx_rows(t.bytes().await.unwrap().to_vec())[0][0], "工种名称");
    app.cleanup().await;
}

/// Someone with database write access but without the key edits entry 2 and recomputes every
/// hash after it, and the head: the chain is consistent again, but the seals give it away.
#[tokio::test]
async fn recomputed_chain_without_the_key_is_caught() {
    use gongkao_domain::audit::GENESIS_HASH;
    use gongkao_storage::entity::audit_log;
    use sea_orm::{EntityTrait, QueryOrder};
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.login("t.cashier").await;
    }
    let db = app.state.store().conn();
    let rows = audit_log::Entity::find().order_by_asc(audit_log::Column::Seq).all(db).await.unwrap();
    assert!(rows.len() >= 4);
    let mut prev = GENESIS_HASH.to_owned();
    for row in &rows {
        let mut content = audit::content_of(row);
        if row.seq == 2 {
            content.summary = "伪造".to_owned();
        }
        let hash = content.chain_hash(&prev);
        let sql = format!(
            "UPDATE audit_log SET summary = '{}', prev_hash = '{prev}', hash = '{hash}' WHERE seq = {}",
            content.summary.replace('\'', "''"),
            row.seq
        );
        db.execute_unprepared(&sql).await.unwrap();
        prev = hash;
    }
    db.execute_unprepared(&format!("UPDATE audit_head SET hash = '{prev}' WHERE id = 1")).await.unwrap();
    // Without the key the forgery passes; with it, entry 2 is named.
    let unkeyed = app.state.store().without_audit_key();
    assert!(audit::verify(&unkeyed).await.unwrap().is_ok());
    let broken = audit::verify(app.state.store()).await.unwrap().unwrap_err();
    assert_eq!(broken.seq(), 2, "{broken}");
    app.cleanup().await;
}

#[tokio::test]
async fn two_reviewers_deciding_at_once_only_one_wins() {
    let app = TestApp::spawn().await;
    let (a, csrf_a) = app.login("t.reviewer").await;
    let (b, csrf_b) = app.login("t.reviewer").await;
    let url = |what: &str| app.url(&format!("/unit-admin-requests/{}/{what}", app.request_a));
    let (ra, rb) = tokio::join!(
        a.post(url("approve")).header("x-csrf-token", &csrf_a).send(),
        b.post(url("reject")).header("x-csrf-token", &csrf_b).form(&[("reason", "信息不全，请重新填报")]).send()
    );
    let mut statuses = [ra.unwrap().status().as_u16(), rb.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert!(statuses == [200, 409] || statuses == [303, 409], "{statuses:?}");
    let req = gongkao_storage::misc::unit_admin_request(app.state.store().conn(), app.request_a).await.unwrap().unwrap();
    let decisions = audit::list(
        app.state.store().conn(),
        &audit::AuditFilter { action: Some("unit_admin_request.".into()), ..Default::default() },
        gongkao_domain::paging::Page::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(decisions.total, 1, "one decision, one audit entry");
    assert!(decisions.items[0].action.ends_with(if req.status == "approved" { "approve" } else { "reject" }));
    app.cleanup().await;
}

#[tokio::test]
async fn unit_admin_completes_own_unit_details_but_not_a_locked_name() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.unitadmin").await;
    let page = c.get(app.url(&format!("/units/{}", app.unit_a))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("action=\"/units/{}/details\"", app.unit_a)));
    let version = page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let post = |name: &'static str, dept: &'static str, version: String| {
        c.post(app.url(&format!("/units/{}/details", app.unit_a)))
            .form(&[
                ("csrf_token", csrf.clone()),
                ("version", version),
                ("name", name.to_owned()),
                ("supervising_department", dept.to_owned()),
            ])
            .send()
    };
    // The name is locked from 2020-04-13 (the demo clock stands at 04-14).
    let r = post("郑州市第一测试医院（改名）", "郑州市卫生健康委员会", version.clone()).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("单位名称已锁定"));
    let r = post("郑州市第一测试医院", "郑州市卫生健康委员会", version.clone()).await.unwrap();
    assert_eq!(r.status(), 303);
    let unit = units::get(app.state.store().conn(), app.unit_a).await.unwrap().unwrap();
    assert_eq!(unit.supervising_department, "郑州市卫生健康委员会");
    // A stale page (old version) does not overwrite the newer edit.
    let r = post("郑州市第一测试医院", "别的部门", version).await.unwrap();
    assert_eq!(r.status(), 409);
    app.cleanup().await;
}

#[tokio::test]
async fn next_campaign_is_copied_then_activated() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.provexam").await;
    let r = c.post(app.url("/campaign/copy")).form(&[("csrf_token", csrf.as_str()), ("year", "2021")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let db = app.state.store().conn();
    let draft = gongkao_storage::campaigns::by_year(db, 2021).await.unwrap().unwrap();
    assert_eq!(draft.status, "draft");
    // The copy keeps the tree, fees and level-1 list, with windows a year later.
    assert_eq!(gongkao_storage::campaigns::agencies(db, draft.id).await.unwrap().len(), 29);
    assert_eq!(gongkao_storage::campaigns::level1_work_types(db, draft.id).await.unwrap().len(), 62);
    let schedule = gongkao_storage::campaigns::schedule(db, draft.id).await.unwrap();
    let reg = schedule.window(gongkao_domain::campaign::WindowKind::Registration).unwrap();
    assert_eq!(gongkao_domain::campaign::format_shanghai_end(reg.ends_at), "2021-04-28 24:00");
    // Copying the same year again, or a year in the past, is refused.
    for year in ["2021", "2019"] {
        let r = c.post(app.url("/campaign/copy")).form(&[("csrf_token", csrf.as_str()), ("year", year)]).send().await.unwrap();
        assert_eq!(r.status(), 422, "{year}");
    }
    let r = c.post(app.url("/campaign/activate")).form(&[("csrf_token", csrf.as_str()), ("year", "2021")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (current, _) = gongkao_web::services::campaigns::current(&app.state).await.unwrap();
    assert_eq!(current.year, 2021);
    assert_eq!(gongkao_storage::campaigns::by_year(db, 2020).await.unwrap().unwrap().status, "archived");
    let r = c.post(app.url("/campaign/activate")).form(&[("csrf_token", csrf.as_str()), ("year", "2021")]).send().await.unwrap();
    assert_eq!(r.status(), 422, "an active campaign cannot be activated again");
    app.cleanup().await;
}

#[tokio::test]
async fn agency_tree_is_edited_per_campaign_with_guards() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.provexam").await;
    let post = |path: &str, form: Vec<(&str, &str)>| c.post(app.url(path)).form(&form).send();
    let r =
        post("/agencies", vec![("csrf_token", &csrf), ("code", "4101"), ("name", "x"), ("region_name", ""), ("kind", "province_centre")])
            .await
            .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("机构代码") && body.contains("机构名称") && body.contains("机构类别"), "{body}");
    let r = post(
        "/agencies",
        vec![("csrf_token", &csrf), ("code", "410100"), ("name", "重复机构"), ("region_name", "郑州市"), ("kind", "city")],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422, "duplicate code");
    let r = post(
        "/agencies",
        vec![("csrf_token", &csrf), ("code", "410122"), ("name", "中牟县工考办"), ("region_name", "中牟县"), ("kind", "direct_county")],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    // 郑州 still has a unit: it cannot be removed.
    let r = post("/agencies/410100/remove", vec![("csrf_token", &csrf)]).await.unwrap();
    assert_eq!(r.status(), 409);
    let r = post("/agencies/410122/rename", vec![("csrf_token", &csrf), ("name", "中牟县人社局工考办"), ("region_name", "中牟县")])
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = post("/agencies/410122/remove", vec![("csrf_token", &csrf)]).await.unwrap();
    assert_eq!(r.status(), 303);
    let tree = gongkao_web::services::jurisdiction::tree(&app.state).await.unwrap();
    assert_eq!(tree.len(), 29);
    let log = audit::list(
        app.state.store().conn(),
        &audit::AuditFilter { action: Some("agency.".into()), ..Default::default() },
        gongkao_domain::paging::Page::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(log.total, 3);
    app.cleanup().await;
}
