//! Training classes through HTTP: the exam officer opens, edits and deletes a class inside the
//! notice's May–July period for levels 5–2; enrols the agency's admitted candidates in bulk (all
//! or nobody) or one by one; removes one with a reason; records a day's attendance; prints the
//! sign-in sheet. Every refusal names its field in Chinese and changes nothing.
use gongkao_domain::id_number::check_character;
use gongkao_storage::training as store;
use gongkao_storage::{applications, audit};

use crate::kit::{self, Candidate, TestApp, post};

fn id_number(n: u32) -> String {
    let first17 = format!("41010519800101{n:03}");
    format!("{first17}{}", check_character(&first17).unwrap())
}

/// A person of `unit` with an application for `level`; admitted unless `admit` is false.
async fn candidate(app: &TestApp, unit: i64, n: u32, level: i32, work_type: &str, admit: bool) -> i64 {
    let c =
        Candidate { unit, id_number: id_number(n), name: format!("学员{n}"), mobile: format!("1390000{n:04}"), work_type, level, admit };
    kit::candidate(app, c).await
}

const CLASS: [(&str, &str); 7] = [
    ("name", "护理员四级培训班"),
    ("place", "郑州市职业技能培训中心"),
    ("organiser", "王老师"),
    ("level", "4"),
    ("work_type", "护理员"),
    ("starts_on", "2020-06-08"),
    ("ends_on", "2020-06-10"),
];

fn class_form<'a>(capacity: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = CLASS.to_vec();
    f.push(("capacity", capacity));
    for (k, v) in changes {
        if let Some(slot) = f.iter_mut().find(|(key, _)| key == k) {
            slot.1 = v;
        } else {
            f.push((k, v));
        }
    }
    f
}

fn created_id(r: &reqwest::Response) -> i64 {
    let loc = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default();
    loc.strip_prefix("/training/").and_then(|l| l.split('?').next()).and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("{loc}"))
}

async fn audited(app: &TestApp, action: &str) -> u64 {
    let filter = audit::AuditFilter { action: Some(action.to_owned()), ..Default::default() };
    audit::list(app.state.store().conn(), &filter, gongkao_domain::paging::Page::new(None, None)).await.unwrap().total
}

async fn class_count(app: &TestApp) -> usize {
    let campaign = gongkao_storage::campaigns::current(app.state.store().conn()).await.unwrap().unwrap();
    store::classes(app.state.store().conn(), campaign.id, None).await.unwrap().len()
}

fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    pdf_extract::extract_text_from_mem(pdf).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
async fn classes_keep_to_the_notice_and_edits_are_guarded() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.examofficer").await;
    let before = class_count(&app).await;

    // Outside May–July, level 1, capacity 0: every field named, nothing saved.
    let bad = class_form("0", &[("level", "1"), ("starts_on", "2020-04-30"), ("ends_on", "2020-08-01"), ("name", "")]);
    let r = post(&c, &app, "/training", &csrf, &bad).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    for m in [
        "培训等级：一级（高级技师）不组织培训",
        "开始日期：培训在每年5月至7月组织",
        "结束日期：培训在每年5月至7月组织",
        "容纳人数：应为1至500的整数",
        "培训班名称：请填写",
    ] {
        assert!(body.contains(m), "{m}");
    }
    let r = post(&c, &app, "/training", &csrf, &class_form("30", &[("work_type", "宇航员"), ("ends_on", "2020-06-01")])).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("工种：“宇航员”不在本考核年度的工种目录中"));
    assert!(body.contains("结束日期：不能早于开始日期"));
    assert_eq!(class_count(&app).await, before);
    assert_eq!(audited(&app, "training.class.create").await, 0);

    let r = post(&c, &app, "/training", &csrf, &class_form("30", &[])).await;
    assert_eq!(r.status(), 303);
    let id = created_id(&r);
    let page = c.get(app.url(&format!("/training/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("护理员四级培训班") && page.contains("2020-06-08 至 2020-06-10（3天）"));
    let list = c.get(app.url("/training")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("/training/{id}")) && list.contains("0/30"));
    assert_eq!(audited(&app, "training.class.create").await, 1);

    // An edit from a page opened before another edit is refused.
    let r = post(&c, &app, &format!("/training/{id}"), &csrf, &class_form("40", &[("version", "1")])).await;
    assert_eq!(r.status(), 303);
    let r = post(&c, &app, &format!("/training/{id}"), &csrf, &class_form("50", &[("version", "1")])).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("已被他人修改，请刷新"));
    let stored = store::class(app.state.store().conn(), id).await.unwrap().unwrap();
    assert_eq!((stored.capacity, stored.version), (40, 2));
    let r = post(&c, &app, &format!("/training/{id}"), &csrf, &class_form("40", &[("version", "2"), ("ends_on", "2020-07-10")])).await;
    assert_eq!(r.status(), 422, "31 days at most");
    assert!(r.text().await.unwrap().contains("一期培训最长31天"));

    // 开封's class is out of 郑州's reach.
    let r = post(&c, &app, &format!("/training/{}", app.class_b), &csrf, &class_form("40", &[("version", "1")])).await;
    assert_eq!(r.status(), 403);

    let r = post(&c, &app, &format!("/training/{id}/delete"), &csrf, &[("version", "1")]).await;
    assert_eq!(r.status(), 409);
    assert_eq!(class_count(&app).await, before + 1);
    let r = post(&c, &app, &format!("/training/{id}/delete"), &csrf, &[("version", "2")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(class_count(&app).await, before);
    assert_eq!(audited(&app, "training.class.update").await, 1);
    assert_eq!(audited(&app, "training.class.delete").await, 1);
    app.cleanup().await;
}

#[tokio::test]
async fn enrolment_attendance_sign_in_sheet_and_the_applicant_s_view() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let now = app.state.now();
    // The kit's applicant (unit A, level 4 护理员) is admitted, with two more like them.
    applications::transition(db, app.application_a, "draft", "admitted", now, true, true).await.unwrap();
    let a2 = candidate(&app, app.unit_a, 2, 4, "护理员", true).await;
    let a3 = candidate(&app, app.unit_a, 3, 4, "护理员", true).await;
    let level3 = candidate(&app, app.unit_a, 4, 3, "护理员", true).await;
    let driver = candidate(&app, app.unit_a, 5, 4, "汽车驾驶员", true).await;
    let draft = candidate(&app, app.unit_a, 6, 4, "护理员", false).await;
    let kaifeng = candidate(&app, app.unit_b, 7, 4, "护理员", true).await;
    let level1 = candidate(&app, app.unit_a, 8, 1, "护理员", true).await;
    let (c, csrf) = app.login("t.examofficer").await;
    let r = post(&c, &app, "/training", &csrf, &class_form("2", &[])).await;
    let id = created_id(&r);

    // Three match and two places: nobody is enrolled, and the message says by how many.
    let r = post(&c, &app, &format!("/training/{id}/enrol-all"), &csrf, &[]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("容纳人数：名额不足，符合条件的3人超出剩余名额2个，超出1人"), "{body}");
    assert!(store::enrolments(db, id).await.unwrap().is_empty());
    assert!(app.state.sender().recent().is_empty());

    let r = post(&c, &app, &format!("/training/{id}"), &csrf, &class_form("4", &[("version", "1")])).await;
    assert_eq!(r.status(), 303);
    let r = post(&c, &app, &format!("/training/{id}/enrol-all"), &csrf, &[]).await;
    assert_eq!(r.status(), 303);
    let mut enrolled: Vec<i64> = store::enrolments(db, id).await.unwrap().into_iter().map(|e| e.application_id).collect();
    enrolled.sort_unstable();
    assert_eq!(enrolled, vec![app.application_a, a2, a3]);
    let sms = app.state.sender().recent();
    assert_eq!(sms.len(), 3);
    assert!(sms.iter().all(|m| m.body.contains("护理员四级培训班")
        && m.body.contains("郑州市职业技能培训中心")
        && m.body.contains("2020-06-08 至 2020-06-10")));
    assert_eq!(audited(&app, "training.enrol").await, 1);
    // Enrolled, the level and work type stay and the capacity cannot drop under three.
    let r = post(&c, &app, &format!("/training/{id}"), &csrf, &class_form("2", &[("version", "3"), ("level", "3")])).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("培训等级：已有3人参训，不能修改等级") && body.contains("容纳人数：已有3人参训，不能少于3"));

    // One by one: each refusal names the field and enrols nobody.
    for (who, message) in [
        (id_number(7), "未找到本机构的该申报人员"),
        (kaifeng.to_string(), "未找到本机构的该申报人员"),
        (draft.to_string(), "只有已准予参加考核（审核通过并已缴费）的人员可以参训"),
        (level3.to_string(), "该人员申报三级（高级工），本班为四级（中级工）"),
        (level1.to_string(), "该人员申报一级（高级技师），本班为四级（中级工）"),
        (driver.to_string(), "该人员的工种为“汽车驾驶员”，本班为“护理员”"),
        (a2.to_string(), "该人员已在培训班“护理员四级培训班”中"),
        ("41010519800101002X".to_owned(), "身份证号码："),
        ("张三".to_owned(), "应为18位身份证号码或数字申报编号"),
    ] {
        let r = post(&c, &app, &format!("/training/{id}/enrol"), &csrf, &[("who", &who)]).await;
        assert_eq!(r.status(), 422, "{who}");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{who}: {message}");
    }
    assert_eq!(store::enrolments(db, id).await.unwrap().len(), 3);
    // By ID number: the fourth place goes to a newly admitted candidate.
    let a9 = candidate(&app, app.unit_a, 9, 4, "护理员", true).await;
    let r = post(&c, &app, &format!("/training/{id}/enrol"), &csrf, &[("who", &id_number(9))]).await;
    assert_eq!(r.status(), 303);
    let a10 = candidate(&app, app.unit_a, 10, 4, "护理员", true).await;
    let r = post(&c, &app, &format!("/training/{id}/enrol"), &csrf, &[("who", &a10.to_string())]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("本班4个名额已满"));

    // The list masks ID numbers.
    let page = c.get(app.url(&format!("/training/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("学员9") && page.contains("4101**********0") && !page.contains(&id_number(9)));

    // Attendance: a day outside the class, or a sheet missing someone, records nothing.
    let day = |d: &'static str, marks: &[(i64, &'static str)]| {
        let mut f: Vec<(String, String)> = vec![("csrf_token".into(), csrf.clone()), ("day".into(), d.into())];
        f.extend(marks.iter().map(|(id, m)| (format!("mark_{id}"), (*m).to_owned())));
        f
    };
    let all = [(app.application_a, "present"), (a2, "absent"), (a3, "excused"), (a9, "present")];
    let r = c.post(app.url(&format!("/training/{id}/attendance"))).form(&day("2020-06-11", &all)).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("考勤日期：2020-06-11 不在本班培训日期（2020-06-08 至 2020-06-10（3天））内"));
    let r = c.post(app.url(&format!("/training/{id}/attendance"))).form(&day("2020-06-08", &all[..3])).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("还有1名参训人员未登记"));
    let stranger = [(app.application_a, "present"), (a2, "absent"), (a3, "excused"), (a9, "present"), (kaifeng, "present")];
    let r = c.post(app.url(&format!("/training/{id}/attendance"))).form(&day("2020-06-08", &stranger)).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains(&format!("申报编号 {kaifeng} 不是本班参训人员")));
    assert!(store::attendance(db, id).await.unwrap().is_empty());
    let r = c.post(app.url(&format!("/training/{id}/attendance"))).form(&day("2020-06-08", &all)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(store::attendance(db, id).await.unwrap().len(), 4);
    assert_eq!(audited(&app, "training.attendance").await, 1);
    // Dates that would drop a day with attendance are refused.
    let stored = store::class(db, id).await.unwrap().unwrap();
    let version = stored.version.to_string();
    let r =
        post(&c, &app, &format!("/training/{id}"), &csrf, &class_form("4", &[("version", &version), ("starts_on", "2020-06-09")])).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("2020-06-08 已登记考勤"));

    // The sign-in sheet lists everyone with a column per day, and is audited.
    let r = c.get(app.url(&format!("/training/{id}/sign-in.pdf"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let text = pdf_text(&r.bytes().await.unwrap());
    for s in ["培训签到表", "护理员四级培训班", "张测试", "学员2", "学员3", "学员9", "郑州市第一测试医院", "6月8日签名", "6月10日签名"]
    {
        assert!(text.contains(s), "{s} missing from the sheet");
    }
    assert_eq!(audited(&app, "personal_data.training_sign_in").await, 1);

    // The applicant sees their class and attendance; the exam-delivery hook agrees.
    let (me, _) = app.login("t.applicant").await;
    let mine = me.get(app.url("/application")).send().await.unwrap().text().await.unwrap();
    assert!(mine.contains("我的培训") && mine.contains("护理员四级培训班") && mine.contains("郑州市职业技能培训中心"));
    assert!(mine.contains("100.0%（1/1天）") && mine.contains("未登记"), "{mine}");
    assert!(gongkao_web::services::training::may_practice(&app.state, app.application_a).await.unwrap());
    assert!(!gongkao_web::services::training::may_practice(&app.state, driver).await.unwrap());
    // An enrolment of an application voided afterwards gives no practice access.
    gongkao_storage::applications::transition(db, app.application_a, "admitted", "voided", app.state.now(), true, true).await.unwrap();
    assert!(!gongkao_web::services::training::may_practice(&app.state, app.application_a).await.unwrap());
    gongkao_storage::applications::transition(db, app.application_a, "voided", "admitted", app.state.now(), true, true).await.unwrap();
    assert!(gongkao_web::services::training::may_practice(&app.state, app.application_a).await.unwrap());

    // Removal needs a reason; it takes the person's marks with it and tells them.
    let r = post(&c, &app, &format!("/training/{id}/remove"), &csrf, &[("application_id", &a2.to_string()), ("reason", "")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("移出原因：请填写"));
    let r = post(&c, &app, &format!("/training/{id}/remove"), &csrf, &[("application_id", &driver.to_string()), ("reason", "调岗")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("移出人员：该人员不在本班参训名单中"));
    assert_eq!(store::enrolments(db, id).await.unwrap().len(), 4);
    let r =
        post(&c, &app, &format!("/training/{id}/remove"), &csrf, &[("application_id", &a2.to_string()), ("reason", "因病无法参加")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(store::enrolments(db, id).await.unwrap().len(), 3);
    assert_eq!(store::attendance(db, id).await.unwrap().len(), 3);
    assert!(app.state.sender().recent().iter().any(|m| m.body.contains("移出培训班") && m.body.contains("因病无法参加")));
    assert_eq!(audited(&app, "training.remove").await, 1);
    // Nobody may delete a class with people in it.
    let version = store::class(db, id).await.unwrap().unwrap().version.to_string();
    let r = post(&c, &app, &format!("/training/{id}/delete"), &csrf, &[("version", &version)]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("本班已有3人参训，不能删除"));
    // Another city's officer cannot enrol into or read 郑州's class.
    let (other, other_csrf) = app.login("t.examofficer").await;
    let r = post(&other, &app, &format!("/training/{}/enrol-all", app.class_b), &other_csrf, &[]).await;
    assert_eq!(r.status(), 403);
    let r = other.get(app.url(&format!("/training/{}/sign-in.pdf", app.class_b))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    app.cleanup().await;
}
