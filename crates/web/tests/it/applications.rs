//! The application service on both engines: the form's facts become an application with its
//! eligibility verdict; the life cycle follows the domain machine; refused actions change nothing.
use gongkao_domain::application::{ApplicationAction as A, ApplicationStatus as S};
use gongkao_storage::applications;
use gongkao_web::error::AppError;
use gongkao_web::policy::Principal;
use gongkao_web::services::Actor;
use gongkao_web::services::applications::{act, recheck, save};
use gongkao_web::services::files::{Upload, upload_photo};

use crate::kit::TestApp;

fn principal(username: &str, role: gongkao_domain::role::Role, applicant: Option<i64>, unit: Option<i64>) -> (Principal, Actor) {
    let p = Principal {
        account_id: Some(1),
        api_token_id: None,
        username: username.into(),
        display_name: username.into(),
        role,
        agency_code: None,
        unit_id: unit,
        applicant_id: applicant,
        must_change_password: false,
        csrf_token: String::new(),
    };
    let actor = Actor { username: username.into(), role: role.as_str().into(), jurisdiction: String::new(), client_ip: "127.0.0.1".into() };
    (p, actor)
}

/// A person of unit A with no application yet (born 1949: long retired by 2020).
async fn new_applicant(app: &TestApp) -> gongkao_storage::units::Applicant {
    let db = app.state.store().conn();
    let id = gongkao_storage::units::create_applicant(
        db,
        gongkao_storage::units::NewApplicant {
            id_number: "110105194912310046".into(),
            name: "王新".into(),
            sex: "female".into(),
            birth_date: "1949-12-31".into(),
            mobile: "13800138002".into(),
            unit_id: Some(app.unit_a),
            work_type: Some("护理员".into()),
            current_level: None,
            work_start_date: None,
            education: None,
        },
        app.state.now(),
    )
    .await
    .unwrap();
    gongkao_storage::units::applicant(db, id).await.unwrap().unwrap()
}

fn form(unit_code: &str, level: &str) -> Vec<(String, String)> {
    [
        ("unit_credit_code", unit_code),
        ("target_level", level),
        ("staff_type", "在岗正式工作人员"),
        ("work_start_date", "1970-07-01"),
        ("regularised_on", "1971-07-01"),
        ("education", "高中"),
        ("current_work_type", "护理员"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

#[tokio::test]
async fn life_cycle_through_the_service() {
    use gongkao_domain::role::Role;
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let applicant = new_applicant(&app).await;
    let unit = gongkao_storage::units::get(db, app.unit_a).await.unwrap().unwrap();
    let (me, me_actor) = principal("110105194912310046", Role::Applicant, Some(applicant.id), None);
    // A bad form names its fields and writes nothing.
    let err = save(&app.state, &me, &me_actor, &form("NOPE", "9"), None).await.err().unwrap();
    let AppError::Invalid(fields) = err else { panic!("field errors expected") };
    assert!(fields.get("unit_credit_code").is_some() && fields.get("target_level").is_some());
    assert_eq!(applications::count(db, 1).await.unwrap(), 2, "only the kit's two");

    let id = save(&app.state, &me, &me_actor, &form(&unit.credit_code, "4"), None).await.unwrap();
    let a = applications::get(db, id).await.unwrap().unwrap();
    assert_eq!(a.status, "draft");
    assert_eq!(a.rule_set_id, "HN-GK-2020");
    // Born 1949: well past retirement age in 2020, so not eligible, with the reason kept.
    assert_eq!(a.verdict, "not_eligible");
    assert!(a.trace.contains("退休"), "{}", a.trace);
    // Saving again edits the same application (one live application per person).
    assert_eq!(save(&app.state, &me, &me_actor, &form(&unit.credit_code, "3"), None).await.unwrap(), id);
    // Submitting needs the pledge, and a photo.
    assert!(matches!(act(&app.state, &me, &me_actor, id, A::Submit, "", false).await, Err(AppError::Invalid(_))));
    let err = act(&app.state, &me, &me_actor, id, A::Submit, "", true).await.err().unwrap();
    assert!(matches!(&err, AppError::Invalid(f) if f.get("photo").is_some()), "{err:?}");
    let photo = crate::kit::photo(400, 560, image::ImageFormat::Jpeg);
    upload_photo(&app.state, &me, &me_actor, Upload { file_name: "me.jpg".into(), bytes: photo }).await.unwrap();
    assert_eq!(act(&app.state, &me, &me_actor, id, A::Submit, "", true).await.unwrap(), S::Submitted);
    // A double-clicked submit is refused and changes nothing.
    assert!(matches!(act(&app.state, &me, &me_actor, id, A::Submit, "", true).await, Err(AppError::Conflict(_))));
    // The applicant cannot approve; the unit admin returns it with a reason; the applicant edits and resubmits.
    assert!(act(&app.state, &me, &me_actor, id, A::UnitApprove, "", false).await.is_err());
    let (ua, ua_actor) = principal("t.unitadmin", Role::UnitAdmin, None, Some(app.unit_a));
    assert!(
        matches!(act(&app.state, &ua, &ua_actor, id, A::UnitReturn, "", false).await, Err(AppError::Invalid(_))),
        "a return needs a reason"
    );
    assert_eq!(act(&app.state, &ua, &ua_actor, id, A::UnitReturn, "参加工作时间与档案不符", false).await.unwrap(), S::Returned);
    save(&app.state, &me, &me_actor, &form(&unit.credit_code, "3"), None).await.unwrap();
    assert_eq!(act(&app.state, &me, &me_actor, id, A::Submit, "", true).await.unwrap(), S::Submitted);
    // Approval needs every field checked against the personnel file.
    let err = act(&app.state, &ua, &ua_actor, id, A::UnitApprove, "", false).await.err().unwrap();
    assert!(matches!(&err, AppError::Invalid(f) if f.get("unit_checks").is_some_and(|m| m.contains("奖惩情况"))), "{err:?}");
    let checks = gongkao_web::services::applications::Decision {
        unit_checks: gongkao_domain::application::UNIT_CHECK_FIELDS.iter().map(|(c, _)| (*c).to_owned()).collect(),
        ..Default::default()
    };
    assert_eq!(
        gongkao_web::services::applications::act_with(&app.state, &ua, &ua_actor, id, A::UnitApprove, &checks).await.unwrap(),
        S::UnitApproved
    );
    // Once reviewed, the applicant can no longer edit or withdraw.
    assert!(save(&app.state, &me, &me_actor, &form(&unit.credit_code, "3"), None).await.is_err());
    assert!(act(&app.state, &me, &me_actor, id, A::Withdraw, "", false).await.is_err());
    let events = applications::events(db, id).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "edit", "photo_upload", "submit", "unit_return", "edit", "submit", "unit_approve"]);
    assert!(events[5].facts_before.is_some(), "a returned application keeps what changed");
    // The applicant was told.
    assert!(app.state.sender().recent().iter().any(|m| m.body.contains("参加工作时间与档案不符")));
    // A re-check with the same rules changes nothing.
    let rules = gongkao_web::services::eligibility::rule_set_for("HN-GK-2020").unwrap();
    let report = recheck(app.state.store(), 1, &rules, app.state.now(), |_, _| {}).await.unwrap();
    assert_eq!(report.checked, 3);
    assert!(report.changed.iter().all(|(changed, ..)| *changed != id), "this application's verdict did not change");
    app.cleanup().await;
}

#[tokio::test]
async fn saving_outside_the_registration_window_is_refused() {
    use gongkao_domain::role::Role;
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let applicant = new_applicant(&app).await;
    let unit = gongkao_storage::units::get(db, app.unit_a).await.unwrap().unwrap();
    let (me, me_actor) = principal("110105194912310046", Role::Applicant, Some(applicant.id), None);
    // 4-28 24:00 Beijing is the deadline: one minute later nothing is accepted.
    app.clock.set(gongkao_domain::campaign::shanghai_datetime(time::macros::date!(2020 - 04 - 29), 0, 1));
    let err = save(&app.state, &me, &me_actor, &form(&unit.credit_code, "4"), None).await.err().unwrap();
    assert!(matches!(&err, AppError::Conflict(m) if m.contains("网上报名时间")), "{err:?}");
    assert_eq!(applications::count(db, 1).await.unwrap(), 2, "nothing added");
    app.cleanup().await;
}

#[tokio::test]
async fn applicant_and_unit_admin_through_the_pages() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let unit = gongkao_storage::units::get(db, app.unit_a).await.unwrap().unwrap();
    // The kit's applicant already has a draft (application_a): the page edits it.
    let (me, csrf) = app.login("t.applicant").await;
    let page = me.get(app.url("/application")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("草稿（未提交）"), "{}", &page[..page.len().min(3000)]);
    let mut f = form(&unit.credit_code, "4");
    f.push(("csrf_token".into(), csrf.clone()));
    let r = me.post(app.url("/application")).form(&f).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let page = me.get(app.url("/application")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("class=\"trace\""), "the saved application shows its trace");
    app.upload_photo(&me, &csrf).await;
    // Without the pledge the submission is refused, naming the pledge.
    let r = me.post(app.url("/application/submit")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("诚信承诺"));
    let r = me.post(app.url("/application/submit")).form(&[("csrf_token", csrf.as_str()), ("pledge", "yes")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // The unit admin sees it, and returns it with a reason.
    let (ua, ua_csrf) = app.login("t.unitadmin").await;
    let list = ua.get(app.url("/unit-applications")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("/applications/{}", app.application_a)));
    assert!(list.contains("1101**********002X"), "ID numbers are masked in the list");
    let url = app.url(&format!("/applications/{}/unit-decision", app.application_a));
    let r = ua.post(&url).form(&[("csrf_token", ua_csrf.as_str()), ("decision", "return")]).send().await.unwrap();
    assert_eq!(r.status(), 422, "a return needs a reason");
    let r = ua
        .post(&url)
        .form(&[("csrf_token", ua_csrf.as_str()), ("decision", "return"), ("reason", "年度考核结果与档案不符")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = me.get(app.url("/application")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("单位退回修改") && page.contains("年度考核结果与档案不符"));
    // Another unit's admin cannot even look (the matrix covers the rest).
    let (kf, _) = app.login("t.reviewer").await;
    assert_eq!(kf.get(app.url(&format!("/applications/{}", app.application_b))).send().await.unwrap().status(), 403);
    app.cleanup().await;
}
