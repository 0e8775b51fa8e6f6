//! The agency's review through HTTP on both engines: the unit's per-field check, online approval,
//! the on-site check with its documents, bulk decisions (all or none), reopening after the
//! deadline, level-1 dossiers, and the two rosters read back from the PDF and the XLSX.
use gongkao_domain::application::{ApplicationAction as A, UNIT_CHECK_FIELDS};
use gongkao_domain::campaign::shanghai_datetime;
use gongkao_storage::applications::{self, Content};
use gongkao_storage::units::{self, NewApplicant};
use time::macros::date;

use crate::kit::TestApp;

/// A valid GB 11643 ID number from its first 17 digits.
fn id_number(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// A person of `unit` with an application at `level` in `status` (set directly: the paths up to
/// there are covered elsewhere). Returns the application id.
async fn seed(app: &TestApp, unit: i64, n: u32, name: &str, level: i32, status: &str) -> i64 {
    let db = app.state.store().conn();
    let agency = units::get(db, unit).await.unwrap().unwrap().agency_code;
    let person = units::create_applicant(
        db,
        NewApplicant {
            id_number: id_number(&format!("41010519800101{:03}", n)),
            name: name.into(),
            sex: "male".into(),
            birth_date: "1980-01-01".into(),
            mobile: format!("13700{:06}", n),
            unit_id: Some(unit),
            work_type: Some("护理员".into()),
            current_level: None,
            work_start_date: None,
            education: None,
        },
        app.state.now(),
    )
    .await
    .unwrap();
    let c = Content {
        unit_id: Some(unit),
        agency_code: Some(agency),
        work_type: "护理员".into(),
        target_level: level,
        facts: "{}".into(),
        verdict: "eligible".into(),
        rule_set_id: "HN-GK-2020".into(),
        rule_set_version: 1,
        trace: "[]".into(),
    };
    let id = applications::create(db, 1, person, c, app.state.now()).await.unwrap();
    if status != "draft" {
        applications::transition(db, id, "draft", status, app.state.now(), true, true).await.unwrap();
    }
    id
}

async fn status_of(app: &TestApp, id: i64) -> String {
    applications::get(app.state.store().conn(), id).await.unwrap().unwrap().status
}

async fn audit_count(app: &TestApp) -> u64 {
    gongkao_storage::audit::list(
        app.state.store().conn(),
        &gongkao_storage::audit::AuditFilter::default(),
        gongkao_domain::paging::Page::new(None, None),
    )
    .await
    .unwrap()
    .total
}

fn all_checks(csrf: &str) -> Vec<(String, String)> {
    let mut f = vec![("csrf_token".to_owned(), csrf.to_owned()), ("decision".to_owned(), "approve".to_owned())];
    f.extend(UNIT_CHECK_FIELDS.iter().map(|(c, _)| ("checked".to_owned(), (*c).to_owned())));
    f
}

#[tokio::test]
async fn unit_check_online_review_on_site_check_and_rosters() {
    let app = TestApp::spawn().await;
    let id = seed(&app, app.unit_a, 1, "赵𠮷䶮", 4, "submitted").await;
    let (ua, ua_csrf) = app.login("t.unitadmin").await;
    let url = app.url(&format!("/applications/{id}/unit-decision"));
    // Approval without checking every field against the personnel file is refused, naming what is missing.
    let mut partial = all_checks(&ua_csrf);
    partial.retain(|(k, v)| !(k == "checked" && v == "rewards_sanctions"));
    let r = ua.post(&url).form(&partial).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("尚未确认：奖惩情况"));
    assert_eq!(status_of(&app, id).await, "submitted", "a refused approval changes nothing");
    let r = ua.post(&url).form(&all_checks(&ua_csrf)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let a = applications::get(app.state.store().conn(), id).await.unwrap().unwrap();
    assert_eq!(a.status, "unit_approved");
    let checks: Vec<serde_json::Value> = serde_json::from_str(a.unit_checks.as_deref().unwrap()).unwrap();
    assert_eq!(checks.len(), 6);
    assert!(checks.iter().all(|c| c["username"] == "t.unitadmin" && c["at"].as_i64().is_some()), "recorded with name and time");

    // The agency sees it in its list, masked, with the rare characters intact.
    let (rv, rv_csrf) = app.login("t.reviewer").await;
    let list = rv.get(app.url("/agency-applications")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("赵𠮷䶮") && list.contains("4101**********"), "{}", &list[..list.len().min(2000)]);
    let detail = rv.get(app.url(&format!("/applications/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains("奖惩情况：与人事档案一致"), "the unit's check is shown to the agency");
    // An on-site check needs its reason and the documents to bring.
    let decide = app.url(&format!("/applications/{id}/agency-decision"));
    let r =
        rv.post(&decide).form(&[("csrf_token", rv_csrf.as_str()), ("decision", "on_site"), ("reason", "学历存疑")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("需携带的材料"));
    assert_eq!(status_of(&app, id).await, "unit_approved");
    let r = rv
        .post(&decide)
        .form(&[
            ("csrf_token", rv_csrf.as_str()),
            ("decision", "on_site"),
            ("reason", "学历存疑<script>alert(1)</script>"),
            ("documents", "毕业证书原件"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, id).await, "on_site_required");
    let detail = rv.get(app.url(&format!("/applications/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains("alert(1)") && !detail.contains("<script>alert"), "HTML in a reason is shown as text");
    assert!(app.state.sender().recent().iter().any(|m| m.body.contains("需现场审查确认") && m.body.contains("毕业证书原件")));

    // The unit's rosters: the on-site one lists the person with the full ID number and the reason.
    let person = units::applicant(app.state.store().conn(), a.applicant_id).await.unwrap().unwrap();
    let r = ua.get(app.url("/unit-applications/roster.pdf?kind=on_site")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    let flat: String = text.split_whitespace().collect();
    assert!(flat.contains("需现场审查人员名册"), "{flat}");
    assert!(flat.contains("赵𠮷䶮") && flat.contains(&person.id_number) && flat.contains("毕业证书原件"), "{flat}");
    let r = ua.get(app.url("/unit-applications/roster.xlsx?kind=passed")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.height(), 1, "nobody passed online yet: the header only");
    let r = ua.get(app.url("/unit-applications/roster.pdf?kind=bogus")).send().await.unwrap();
    assert_eq!(r.status(), 422);

    // At the counter the agency confirms the on-site check.
    let r = rv.post(&decide).form(&[("csrf_token", rv_csrf.as_str()), ("decision", "confirm_on_site")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, id).await, "on_site_confirmed");
    // Confirming twice is refused: the state moved on.
    let r = rv.post(&decide).form(&[("csrf_token", rv_csrf.as_str()), ("decision", "confirm_on_site")]).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let events: Vec<String> = applications::events(app.state.store().conn(), id).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(events, ["unit_approve", "agency_require_on_site", "agency_confirm_on_site"]);
    app.cleanup().await;
}

#[tokio::test]
async fn bulk_decisions_are_all_or_none() {
    let app = TestApp::spawn().await;
    let ids = [
        seed(&app, app.unit_a, 11, "钱一", 4, "unit_approved").await,
        seed(&app, app.unit_a, 12, "钱二", 3, "unit_approved").await,
        seed(&app, app.unit_a, 13, "钱三", 5, "unit_approved").await,
    ];
    let stale = seed(&app, app.unit_a, 14, "钱四", 4, "submitted").await;
    let other_city = seed(&app, app.unit_b, 15, "孙五", 4, "unit_approved").await;
    let (rv, csrf) = app.login("t.reviewer").await;
    let list = rv.get(app.url("/agency-applications")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("钱一") && list.contains("钱三") && !list.contains("孙五"), "only the agency's own");
    let filtered = rv.get(app.url("/agency-applications?level=3")).send().await.unwrap().text().await.unwrap();
    assert!(filtered.contains("钱二") && !filtered.contains("钱一"), "the level filter narrows");
    let before = audit_count(&app).await;
    let post = |extra: &[i64]| {
        let mut f: Vec<(String, String)> = vec![("csrf_token".into(), csrf.clone()), ("decision".into(), "approve".into())];
        f.extend(ids.iter().chain(extra).map(|i| ("ids".to_owned(), i.to_string())));
        rv.post(app.url("/agency-applications/bulk")).form(&f).send()
    };
    // One application in another state: nothing is decided, and the message names it.
    let r = post(&[stale]).await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("钱四"));
    // One application outside the jurisdiction: refused as a whole.
    assert_eq!(post(&[other_city]).await.unwrap().status(), 403);
    for id in ids {
        assert_eq!(status_of(&app, id).await, "unit_approved", "nothing changed");
    }
    assert_eq!(status_of(&app, other_city).await, "unit_approved");
    // Only the refusal of the out-of-scope request is audited.
    assert_eq!(audit_count(&app).await, before + 1);
    let r = post(&[]).await.unwrap();
    assert_eq!(r.status(), 303);
    for id in ids {
        assert_eq!(status_of(&app, id).await, "agency_approved");
    }
    assert_eq!(audit_count(&app).await, before + 1 + 3, "one audit entry per decision");
    // The unit's passed roster now lists the three.
    let (ua, _) = app.login("t.unitadmin").await;
    let bytes = ua.get(app.url("/unit-applications/roster.xlsx?kind=passed")).send().await.unwrap().bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.height(), 4);
    assert_eq!(sheet.get_value((1, 1)).map(|v| v.to_string()), Some("钱一".to_owned()));
    app.cleanup().await;
}

#[tokio::test]
async fn two_reviewers_at_once_exactly_one_wins() {
    use gongkao_domain::role::Role;
    use gongkao_web::policy::Principal;
    use gongkao_web::services::Actor;
    use gongkao_web::services::applications::act;
    let app = TestApp::spawn().await;
    let reviewer = |name: &str| {
        let p = Principal {
            account_id: Some(1),
            api_token_id: None,
            username: name.into(),
            display_name: name.into(),
            role: Role::AgencyReviewer,
            agency_code: Some("410100".into()),
            unit_id: None,
            applicant_id: None,
            must_change_password: false,
            csrf_token: String::new(),
        };
        let a =
            Actor { username: name.into(), role: "agency_reviewer".into(), jurisdiction: "410100".into(), client_ip: "127.0.0.1".into() };
        (p, a)
    };
    let (p1, a1) = reviewer("r1");
    let (p2, a2) = reviewer("r2");
    let id2 = seed(&app, app.unit_a, 22, "周七", 4, "unit_approved").await;
    let (x, y) = tokio::join!(
        act(&app.state, &p1, &a1, id2, A::AgencyApprove, "", false),
        act(&app.state, &p2, &a2, id2, A::AgencyApprove, "", false)
    );
    assert_eq!([x.is_ok(), y.is_ok()].iter().filter(|o| **o).count(), 1, "exactly one wins");
    let loser = if x.is_err() { x } else { y };
    assert!(
        matches!(&loser, Err(gongkao_web::error::AppError::Conflict(m)) if m.contains("已被他人处理，请刷新") || m.contains("不能")),
        "{loser:?}"
    );
    assert_eq!(applications::events(app.state.store().conn(), id2).await.unwrap().len(), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn reopening_after_the_deadline_lets_one_applicant_correct() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    // The kit applicant's application, submitted and approved by the unit, then the deadline passes.
    applications::transition(db, app.application_a, "draft", "unit_approved", app.state.now(), true, true).await.unwrap();
    app.clock.set(shanghai_datetime(date!(2020 - 05 - 06), 10, 0));
    let unit = units::get(db, app.unit_a).await.unwrap().unwrap();
    let (me, me_csrf) = app.login("t.applicant").await;
    let form = |csrf: &str| {
        vec![
            ("csrf_token", csrf.to_owned()),
            ("unit_credit_code", unit.credit_code.clone()),
            ("target_level", "4".to_owned()),
            ("staff_type", "在岗正式工作人员".to_owned()),
            ("work_start_date", "1990-07-01".to_owned()),
            ("regularised_on", "1991-07-01".to_owned()),
            ("education", "高中".to_owned()),
            ("current_work_type", "护理员".to_owned()),
        ]
    };
    let (rv, rv_csrf) = app.login("t.reviewer").await;
    let decide = app.url(&format!("/applications/{}/agency-decision", app.application_a));
    // A reopening needs a reason, and a period of 1 to 15 days.
    let r = rv.post(&decide).form(&[("csrf_token", rv_csrf.as_str()), ("decision", "reopen")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let r = rv
        .post(&decide)
        .form(&[("csrf_token", rv_csrf.as_str()), ("decision", "reopen"), ("reason", "参加工作时间填错"), ("reopen_days", "30")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(status_of(&app, app.application_a).await, "unit_approved");
    let before = audit_count(&app).await;
    let r = rv
        .post(&decide)
        .form(&[("csrf_token", rv_csrf.as_str()), ("decision", "reopen"), ("reason", "参加工作时间填错"), ("reopen_days", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, app.application_a).await, "returned");
    assert_eq!(audit_count(&app).await, before + 1, "the reopening is audited");
    let page = me.get(app.url("/application")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已重新开放您的申报") && page.contains("2020-05-08"), "the applicant is told until when");
    // Past the registration deadline, the reopened application can still be corrected and resubmitted.
    assert_eq!(me.post(app.url("/application")).form(&form(&me_csrf)).send().await.unwrap().status(), 303);
    // Photos can be changed in the reopened period too.
    app.upload_photo(&me, &me_csrf).await;
    let r = me.post(app.url("/application/submit")).form(&[("csrf_token", me_csrf.as_str()), ("pledge", "yes")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, app.application_a).await, "submitted");
    // Another applicant, not reopened, stays locked out.
    let other = seed(&app, app.unit_a, 31, "吴八", 4, "unit_approved").await;
    applications::transition(db, other, "unit_approved", "returned", app.state.now(), false, false).await.unwrap();
    // After the reopening's period, the kit applicant is locked out again.
    applications::transition(db, app.application_a, "submitted", "returned", app.state.now(), false, false).await.unwrap();
    app.clock.set(shanghai_datetime(date!(2020 - 05 - 09), 10, 0));
    let (me, me_csrf) = app.login("t.applicant").await;
    let r = me.post(app.url("/application")).form(&form(&me_csrf)).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("网上报名时间"));
    app.cleanup().await;
}

#[tokio::test]
async fn level1_dossier_checklist() {
    let app = TestApp::spawn().await;
    let id = seed(&app, app.unit_a, 41, "郑九", 1, "unit_approved").await;
    let level4 = seed(&app, app.unit_a, 42, "王十", 4, "unit_approved").await;
    let (rv, csrf) = app.login("t.reviewer").await;
    let url = app.url(&format!("/applications/{id}/dossier"));
    let detail = rv.get(app.url(&format!("/applications/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains("档案材料未报送") && detail.contains("CN 刊号期刊发表的论文"), "the 2020 rule set asks for the paper");
    // An unknown item is refused and nothing is recorded.
    let r = rv.post(&url).form(&[("csrf_token", csrf.as_str()), ("version", "0"), ("received", "bribe")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(applications::dossier(app.state.store().conn(), id).await.unwrap().is_none());
    let r = rv
        .post(&url)
        .form(&[("csrf_token", csrf.as_str()), ("version", "0"), ("received", "application_form"), ("received", "id_card_copy")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let d = applications::dossier(app.state.store().conn(), id).await.unwrap().unwrap();
    assert_eq!(d.state, "incomplete");
    // A stale page (version 0 again) is a conflict.
    let r = rv.post(&url).form(&[("csrf_token", csrf.as_str()), ("version", "0"), ("received", "application_form")]).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let all: Vec<(&str, &str)> = [
        "application_form",
        "id_card_copy",
        "education_certificate",
        "current_level_certificate",
        "wage_approval_form",
        "annual_appraisals",
        "cn_journal_paper",
    ]
    .iter()
    .map(|i| ("received", *i))
    .chain([("csrf_token", csrf.as_str()), ("version", "1")])
    .collect();
    assert_eq!(rv.post(&url).form(&all).send().await.unwrap().status(), 303);
    assert_eq!(applications::dossier(app.state.store().conn(), id).await.unwrap().unwrap().state, "complete");
    // The unit sees the state; the list shows it to the agency.
    let (ua, _) = app.login("t.unitadmin").await;
    let page = ua.get(app.url(&format!("/applications/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("档案材料齐全") && !page.contains("保存档案材料登记"), "the unit sees it but cannot edit");
    let list = rv.get(app.url("/agency-applications?level=1")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("档案材料齐全"));
    // A level-4 application has no dossier.
    let r = rv
        .post(app.url(&format!("/applications/{level4}/dossier")))
        .form(&[("csrf_token", csrf.as_str()), ("version", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    app.cleanup().await;
}

#[tokio::test]
async fn a_late_unit_review_shows_on_the_agencys_list() {
    let app = TestApp::spawn().await;
    let id = seed(&app, app.unit_a, 51, "冯迟", 4, "submitted").await;
    let on_time = seed(&app, app.unit_a, 52, "陈准", 4, "submitted").await;
    let (ua, csrf) = app.login("t.unitadmin").await;
    assert_eq!(
        ua.post(app.url(&format!("/applications/{on_time}/unit-decision"))).form(&all_checks(&csrf)).send().await.unwrap().status(),
        303
    );
    // The unit's initial review ends 4-30 24:00; this one comes on 5-03.
    app.clock.set(shanghai_datetime(date!(2020 - 05 - 03), 9, 0));
    let (ua, csrf) = app.login("t.unitadmin").await;
    assert_eq!(ua.post(app.url(&format!("/applications/{id}/unit-decision"))).form(&all_checks(&csrf)).send().await.unwrap().status(), 303);
    let (rv, _) = app.login("t.reviewer").await;
    let late = rv.get(app.url("/agency-applications?late=1")).send().await.unwrap().text().await.unwrap();
    assert!(late.contains("冯迟") && late.contains("逾期初审") && !late.contains("陈准"), "{}", &late[..late.len().min(3000)]);
    app.cleanup().await;
}

#[tokio::test]
async fn the_ends_of_the_diagram_rejected_withdrawn_voided() {
    let app = TestApp::spawn().await;
    let rejected = seed(&app, app.unit_a, 61, "褚否", 4, "submitted").await;
    let voided = seed(&app, app.unit_a, 62, "卫假", 4, "agency_approved").await;
    let (ua, ua_csrf) = app.login("t.unitadmin").await;
    let r = ua
        .post(app.url(&format!("/applications/{rejected}/unit-decision")))
        .form(&[("csrf_token", ua_csrf.as_str()), ("decision", "reject"), ("reason", "不在工勤技能岗位")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, rejected).await, "unit_rejected");
    // The applicant withdraws their own draft.
    let (me, me_csrf) = app.login("t.applicant").await;
    let r = me.post(app.url("/application/withdraw")).form(&[("csrf_token", me_csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, app.application_a).await, "withdrawn");
    // False information: the agency voids, with a reason the applicant reads.
    let (rv, rv_csrf) = app.login("t.reviewer").await;
    let decide = app.url(&format!("/applications/{voided}/agency-decision"));
    let r = rv.post(&decide).form(&[("csrf_token", rv_csrf.as_str()), ("decision", "void")]).send().await.unwrap();
    assert_eq!(r.status(), 422, "a void needs its reason");
    assert_eq!(status_of(&app, voided).await, "agency_approved");
    let r = rv
        .post(&decide)
        .form(&[("csrf_token", rv_csrf.as_str()), ("decision", "void"), ("reason", "年度考核结果系伪造")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&app, voided).await, "voided");
    assert!(app.state.sender().recent().iter().any(|m| m.body.contains("申报资格已取消") && m.body.contains("年度考核结果系伪造")));
    // Nothing moves out of an end state.
    let r = rv.post(&decide).form(&[("csrf_token", rv_csrf.as_str()), ("decision", "approve")]).send().await.unwrap();
    assert_eq!(r.status(), 409);
    // A unit filter that matches nothing shows an empty list, not an error.
    let page = rv.get(app.url("/agency-applications?status=all&unit=%E4%B8%8D%E5%AD%98%E5%9C%A8")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("没有符合条件的申报"));
    app.cleanup().await;
}
