//! The agency cashier through HTTP: a unit's batch admits everyone at once (events, audit, SMS),
//! the receipt PDF reads back, other cities and other roles are refused, a stale page or a
//! double submit records nothing more, refunds never exceed what was paid.
use gongkao_domain::application::ApplicationAction as A;
use gongkao_domain::paging::Page;
use gongkao_domain::role::Role;
use gongkao_storage::applications;
use gongkao_storage::audit::{self, AuditFilter};
use gongkao_storage::units::{self, NewApplicant};
use gongkao_web::policy::Principal;
use gongkao_web::services::Actor;
use gongkao_web::services::applications::act;

use crate::kit::TestApp;

/// A person of `unit` with an application at `level` that the unit has approved; the agency
/// reviewer's approval goes through the application service, as in production.
async fn approved_application(app: &TestApp, unit: i64, n: u32, level: i32) -> i64 {
    let db = app.state.store().conn();
    let now = app.state.now();
    let person = units::create_applicant(
        db,
        NewApplicant {
            id_number: format!("41010519800101{n:04}"),
            name: format!("缴费人{n}"),
            sex: "male".into(),
            birth_date: "1980-01-01".into(),
            mobile: format!("1390000{n:04}"),
            unit_id: Some(unit),
            work_type: Some("护理员".into()),
            current_level: None,
            work_start_date: None,
            education: None,
        },
        now,
    )
    .await
    .unwrap();
    let content = applications::Content {
        unit_id: Some(unit),
        agency_code: None,
        work_type: "护理员".into(),
        target_level: level,
        facts: "{}".into(),
        verdict: "eligible".into(),
        rule_set_id: "HN-GK-2020".into(),
        rule_set_version: 1,
        trace: "[]".into(),
    };
    let id = applications::create(db, 1, person, content, now).await.unwrap();
    applications::backfill_agency_codes(db).await.unwrap();
    applications::transition(db, id, "draft", "unit_approved", now, true, true).await.unwrap();
    let (p, actor) = reviewer();
    act(&app.state, &p, &actor, id, A::AgencyApprove, "", false).await.unwrap();
    id
}

fn reviewer() -> (Principal, Actor) {
    let p = Principal {
        account_id: Some(1),
        api_token_id: None,
        username: "t.reviewer".into(),
        display_name: "测试审核员".into(),
        role: Role::AgencyReviewer,
        agency_code: Some("410100".into()),
        unit_id: None,
        applicant_id: None,
        must_change_password: false,
        csrf_token: String::new(),
    };
    let actor = Actor {
        username: "t.reviewer".into(),
        role: "agency_reviewer".into(),
        jurisdiction: "410100".into(),
        client_ip: "127.0.0.1".into(),
    };
    (p, actor)
}

async fn set_fee(app: &TestApp, level: i32, item: &str, fen: i64) {
    gongkao_storage::campaigns::set_fee(app.state.store().conn(), 1, level, item, fen).await.unwrap();
}

async fn status(app: &TestApp, id: i64) -> String {
    applications::get(app.state.store().conn(), id).await.unwrap().unwrap().status
}

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    audit::list(app.state.store().conn(), &f, Page::new(None, None)).await.unwrap().total
}

async fn batch_count(app: &TestApp) -> usize {
    gongkao_storage::fees::recent_batches(app.state.store().conn(), 1, None, 1000).await.unwrap().len()
}

/// The form's fields as the browser would send them: every hidden input and every ticked box.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for tag in html.split("<input").skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let attr = |name: &str| {
            let marker = format!("{name}=\"");
            tag.find(&marker).map(|i| tag[i + marker.len()..].split('"').next().unwrap_or("").to_owned())
        };
        let kind = attr("type").unwrap_or_default();
        let (Some(name), Some(value)) = (attr("name"), attr("value")) else { continue };
        if kind == "hidden" || (kind == "checkbox" && tag.contains(" checked")) {
            out.push((name, value));
        }
    }
    out
}

async fn open_form(app: &TestApp, c: &reqwest::Client) -> Vec<(String, String)> {
    let resp = c.get(app.url(&format!("/fees/units/{}", app.unit_a))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut fields = form_fields(&resp.text().await.unwrap());
    fields.push(("payer_name".into(), "王经办".into()));
    fields.push(("method".into(), "transfer".into()));
    fields
}

/// Posts the form; returns the status and the batch id the redirect names.
async fn post_form(app: &TestApp, c: &reqwest::Client, fields: &[(String, String)]) -> (u16, Option<i64>, String) {
    let resp = c.post(app.url(&format!("/fees/units/{}", app.unit_a))).form(fields).send().await.unwrap();
    let status = resp.status().as_u16();
    let batch = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.strip_prefix("/fee-batches/"))
        .and_then(|l| l.split('?').next())
        .and_then(|id| id.parse().ok());
    (status, batch, resp.text().await.unwrap_or_default())
}

fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    pdf_extract::extract_text_from_mem(pdf).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
async fn a_batch_admits_everyone_with_history_audit_sms_and_receipt() {
    let app = TestApp::spawn().await;
    for level in 1..=5 {
        set_fee(&app, level, "registration", 1000).await;
        set_fee(&app, level, "exam_subject", 2500).await;
    }
    set_fee(&app, 1, "level1_review", 20000).await;
    // Level 4: 10.00 + 3 × 25.00 = 85.00 each; level 1: 10.00 + 25.00 + 200.00 = 235.00.
    let a1 = approved_application(&app, app.unit_a, 1, 4).await;
    let a2 = approved_application(&app, app.unit_a, 2, 4).await;
    let a3 = approved_application(&app, app.unit_a, 3, 1).await;
    let other_city = approved_application(&app, app.unit_b, 4, 4).await;
    let (c, _) = app.login("t.cashier").await;

    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/fees\""), "the cashier's menu has 收费");
    let index = c.get(app.url("/fees")).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("郑州市第一测试医院") && index.contains("405.00"), "{index}");
    assert!(!index.contains("开封市第一测试医院"), "another city's unit is not listed");

    let fields = open_form(&app, &c).await;
    let ticked: Vec<&str> = fields.iter().filter(|(k, _)| k == "app").map(|(_, v)| v.as_str()).collect();
    assert_eq!(ticked, [a1.to_string(), a2.to_string(), a3.to_string()], "all ticked by default");
    let (code, batch, _) = post_form(&app, &c, &fields).await;
    assert_eq!(code, 303);
    let batch = batch.unwrap();

    for id in [a1, a2, a3] {
        assert_eq!(status(&app, id).await, "admitted");
        let actions: Vec<String> =
            applications::events(app.state.store().conn(), id).await.unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions[actions.len() - 2..], ["record_payment", "admit"]);
    }
    assert_eq!(status(&app, other_city).await, "agency_approved");
    assert_eq!(status(&app, app.application_a).await, "draft");
    assert_eq!(audit_count(&app, "application.record_payment").await, 3);
    assert_eq!(audit_count(&app, "application.admit").await, 3);
    assert_eq!(audit_count(&app, "fee.batch.record").await, 1);
    assert!(app.state.sender().recent().iter().any(|m| m.body.contains("缴费人1") && m.body.contains("准予参加考核")));
    let stored = gongkao_storage::fees::batch(app.state.store().conn(), batch).await.unwrap().unwrap();
    assert_eq!(stored.receipt_no, "SF2020-410100-000001");
    assert_eq!(stored.total_fen, 40500);
    assert_eq!(stored.payment_method, "transfer");

    let page = c.get(app.url(&format!("/fee-batches/{batch}?msg=fee_recorded"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("SF2020-410100-000001") && page.contains("缴费人3") && page.contains("405.00") && page.contains("银行转账"));
    let resp = c.get(app.url(&format!("/fee-batches/{batch}/receipt.pdf"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let text = pdf_text(&resp.bytes().await.unwrap());
    for needle in ["郑州市第一测试医院", "SF2020-410100-000001", "405.00", "肆佰零伍元整"] {
        assert!(text.contains(needle), "{needle} not in the receipt: {text}");
    }
    assert_eq!(audit_count(&app, "fee.receipt.print").await, 1);
    // Nothing is left to pay; the next batch of the agency takes the next number.
    let after = c.get(app.url(&format!("/fees/units/{}", app.unit_a))).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("该单位没有待缴费的申报"));
    approved_application(&app, app.unit_a, 5, 3).await;
    let (code, second, _) = post_form(&app, &c, &open_form(&app, &c).await).await;
    assert_eq!(code, 303);
    let second = gongkao_storage::fees::batch(app.state.store().conn(), second.unwrap()).await.unwrap().unwrap();
    assert_eq!(second.receipt_no, "SF2020-410100-000002");
    app.cleanup().await;
}

#[tokio::test]
async fn other_cities_and_other_roles_are_refused() {
    let app = TestApp::spawn().await;
    approved_application(&app, app.unit_b, 1, 4).await;
    let (cashier, csrf) = app.login("t.cashier").await;
    for path in [
        format!("/fees/units/{}", app.unit_b),
        format!("/fee-batches/{}", app.fee_batch_b),
        format!("/fee-batches/{}/receipt.pdf", app.fee_batch_b),
    ] {
        assert_eq!(cashier.get(app.url(&path)).send().await.unwrap().status(), 403, "{path}");
    }
    let post = cashier.post(app.url(&format!("/fees/units/{}", app.unit_b))).header("x-csrf-token", &csrf).form(&[("x", "")]);
    assert_eq!(post.send().await.unwrap().status(), 403);
    let (reviewer, csrf) = app.login("t.reviewer").await;
    assert_eq!(reviewer.get(app.url("/fees")).send().await.unwrap().status(), 403);
    assert_eq!(reviewer.get(app.url(&format!("/fees/units/{}", app.unit_a))).send().await.unwrap().status(), 403);
    let post = reviewer.post(app.url(&format!("/fees/units/{}", app.unit_a))).header("x-csrf-token", &csrf).form(&[("x", "")]);
    assert_eq!(post.send().await.unwrap().status(), 403);
    assert_eq!(batch_count(&app).await, 2, "only the kit's two batches");
    app.cleanup().await;
}

#[tokio::test]
async fn a_stale_page_records_nothing() {
    let app = TestApp::spawn().await;
    let a1 = approved_application(&app, app.unit_a, 1, 4).await;
    let a2 = approved_application(&app, app.unit_a, 2, 4).await;
    let (c, _) = app.login("t.cashier").await;
    let fields = open_form(&app, &c).await;
    // Meanwhile a reviewer voids one of them (false information found).
    let (p, actor) = reviewer();
    act(&app.state, &p, &actor, a2, A::Void, "学历证书与档案不符", false).await.unwrap();
    let (code, batch, body) = post_form(&app, &c, &fields).await;
    assert_eq!(code, 409);
    assert!(batch.is_none());
    assert!(body.contains("已被他人处理，请刷新"), "{body}");
    assert_eq!(status(&app, a1).await, "agency_approved", "all or nothing");
    assert_eq!(status(&app, a2).await, "voided");
    assert_eq!(batch_count(&app).await, 2);
    assert_eq!(audit_count(&app, "application.record_payment").await, 0);
    assert_eq!(audit_count(&app, "fee.batch.record").await, 0);
    // Nothing missing in the form is charged either: no application ticked is refused by name.
    let none: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != "app").cloned().collect();
    let (code, _, body) = post_form(&app, &c, &none).await;
    assert_eq!(code, 422);
    assert!(body.contains("缴费人员：请至少选择一人"));
    app.cleanup().await;
}

#[tokio::test]
async fn a_double_submit_records_one_batch_and_zero_fees_print_zero() {
    let app = TestApp::spawn().await;
    // The fee table is all zeros as loaded (the notice gives no Henan figures).
    let a1 = approved_application(&app, app.unit_a, 1, 4).await;
    let a2 = approved_application(&app, app.unit_a, 2, 2).await;
    let (c, _) = app.login("t.cashier").await;
    let fields = open_form(&app, &c).await;
    let (first, second) = tokio::join!(post_form(&app, &c, &fields), post_form(&app, &c, &fields));
    assert_eq!((first.0, second.0), (303, 303));
    assert_eq!(first.1, second.1, "the second submit lands on the same batch");
    let (code, again, _) = post_form(&app, &c, &fields).await;
    assert_eq!((code, again), (303, first.1));
    assert_eq!(batch_count(&app).await, 3, "the kit's two and one");
    assert_eq!(audit_count(&app, "fee.batch.record").await, 1);
    for id in [a1, a2] {
        assert_eq!(status(&app, id).await, "admitted");
    }
    let batch = first.1.unwrap();
    let pdf = c.get(app.url(&format!("/fee-batches/{batch}/receipt.pdf"))).send().await.unwrap().bytes().await.unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains("0.00") && text.contains("SF2020-410100-000001"), "{text}");
    app.cleanup().await;
}

#[tokio::test]
async fn refunds_never_exceed_what_was_paid() {
    let app = TestApp::spawn().await;
    set_fee(&app, 4, "registration", 1000).await;
    set_fee(&app, 4, "exam_subject", 2500).await;
    let a1 = approved_application(&app, app.unit_a, 1, 4).await;
    approved_application(&app, app.unit_a, 2, 4).await;
    let (c, csrf) = app.login("t.cashier").await;
    let (_, batch, _) = post_form(&app, &c, &open_form(&app, &c).await).await;
    let batch = batch.unwrap();
    let url = app.url(&format!("/fee-batches/{batch}/refund"));
    let refund = |target: String, amount: &'static str, reason: &'static str| {
        c.post(&url).form(&[("csrf_token", csrf.clone()), ("target", target), ("amount", amount.into()), ("reason", reason.into())]).send()
    };
    let stored = || async { gongkao_storage::fees::batch(app.state.store().conn(), batch).await.unwrap().unwrap() };

    let resp = refund(a1.to_string(), "90", "申报资格已取消，退还考试费").await.unwrap();
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("退款金额：超过可退金额（已缴 85.00 元，已退 0.00 元，最多可退 85.00 元）"), "{body}");
    let resp = refund("all".into(), "170.01", "申报资格已取消，退还考试费").await.unwrap();
    assert_eq!(resp.status(), 422);
    let resp = refund(a1.to_string(), "10", "退").await.unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("退款原因："));
    let resp = refund("999999".into(), "10", "申报资格已取消").await.unwrap();
    assert!(resp.text().await.unwrap().contains("退款对象："));
    assert_eq!(stored().await.refunded_fen, 0, "nothing changed");
    assert_eq!(audit_count(&app, "fee.refund").await, 0);

    let resp = refund(a1.to_string(), "30.00", "申报资格已取消，退还考试费").await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(stored().await.refunded_fen, 3000);
    assert_eq!(status(&app, a1).await, "admitted", "a refund does not change the application");
    let page = c.get(app.url(&format!("/fee-batches/{batch}?msg=refunded"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已登记退款") && page.contains("申报资格已取消，退还考试费") && page.contains("30.00"));
    // The rest of the batch may go back as a whole, and then nothing more.
    assert_eq!(refund("all".into(), "140", "整批撤回，经机构同意退费").await.unwrap().status(), 303);
    assert_eq!(stored().await.refunded_fen, 17000);
    let resp = refund(a1.to_string(), "0.01", "申报资格已取消，退还考试费").await.unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("最多可退 0.00 元"));
    assert_eq!(audit_count(&app, "fee.refund").await, 2);
    app.cleanup().await;
}
