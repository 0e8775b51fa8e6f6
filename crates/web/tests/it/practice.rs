//! Practice (模拟练习) through HTTP: the item bank's two pools kept apart (a practice item never
//! enters an assembled form, a real item never a practice paper), the gate (admitted and in a
//! training class), the exam's JSON shapes under `/practice/{id}/api/`, saves that are
//! idempotent by sequence number, keys kept back until submission, the score and the feedback,
//! the marking guide for subjective items, audit, and isolation between applicants.
use std::collections::HashSet;

use gongkao_domain::campaign::Level;
use gongkao_domain::exam::assembly::{Form, FormItem, shuffle_for_candidate};
use gongkao_domain::exam::blueprint::{Blueprint, BlueprintCell};
use gongkao_domain::exam::delivery::shown_option_count;
use gongkao_domain::exam::practice::{percent_tenths, shown_key};
use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use gongkao_domain::item_bank::{ItemContent, ItemMeta, ItemPool, TRUE_FALSE_OPTIONS};
use gongkao_storage::audit::AuditFilter;
use gongkao_web::services::items::{self, ItemInput};
use gongkao_web::services::{Actor, papers};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::kit::{Candidate, PASSWORD, TestApp, candidate, post};

fn staff(username: &str, role: &str) -> Actor {
    Actor { username: username.into(), role: role.into(), jurisdiction: "410000".into(), client_ip: "test".into() }
}

fn meta(subject: Subject, level: u8, work_type: Option<&str>, kind: ItemKind, points: u32) -> ItemMeta {
    ItemMeta {
        subject,
        level,
        work_type: work_type.map(str::to_owned),
        kind,
        difficulty: Difficulty::MEDIUM,
        knowledge_point: "职业守则".into(),
        points_tenths: points,
    }
}

/// `n` true/false, `n` single-choice and `n / 2` multiple-choice items of a subject and level,
/// active (written and reviewed by two people), in `pool`; stems start with `tag`.
async fn bank(app: &TestApp, pool: ItemPool, subject: Subject, level: u8, tag: &str, n: usize) {
    let mut inputs = Vec::new();
    for i in 0..n {
        let content = ItemContent {
            stem: format!("{tag}判断题{i}"),
            options: TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(),
            key: vec![i % 2],
            ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(subject, level, None, ItemKind::TrueFalse, 30), content });
        let content = ItemContent {
            stem: format!("{tag}单选题{i}"),
            options: vec!["甲".into(), "乙".into(), "丙".into(), "丁".into()],
            key: vec![i % 4],
            ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(subject, level, None, ItemKind::SingleChoice, 40), content });
    }
    for i in 0..n / 2 {
        let content = ItemContent {
            stem: format!("{tag}多选题{i}"),
            options: vec!["甲".into(), "乙".into(), "丙".into(), "丁".into(), "戊".into()],
            key: vec![0, 2, 4],
            ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(subject, level, None, ItemKind::MultipleChoice, 60), content });
    }
    let writer = staff("t.itemwriter", "item_writer");
    let reviewer = staff("t.itemreviewer", "item_reviewer");
    items::seed_reviewed_in(&app.state, pool, &writer, &reviewer, inputs).await.unwrap();
}

/// Admits the application and enrols it in 郑州's level-4 class (the kit's `class_a`).
async fn admit_and_enrol(app: &TestApp, application_id: i64) {
    let db = app.state.store().conn();
    let a = gongkao_storage::applications::get(db, application_id).await.unwrap().unwrap();
    if a.status != "admitted" {
        gongkao_storage::applications::transition(db, application_id, &a.status, "admitted", app.state.now(), true, true).await.unwrap();
    }
    gongkao_storage::training::insert_enrolments(db, app.class_a, &[application_id], "t.examofficer", app.state.now()).await.unwrap();
}

/// An applicant account (password [`PASSWORD`]) for the person of an application.
async fn applicant_account(app: &TestApp, application_id: i64, username: &str) {
    let db = app.state.store().conn();
    let a = gongkao_storage::applications::get(db, application_id).await.unwrap().unwrap();
    let hash = gongkao_web::passwords::hash_blocking(PASSWORD, app.state.config().argon2).unwrap();
    gongkao_storage::accounts::create(
        db,
        gongkao_storage::accounts::NewAccount {
            username: username.into(),
            display_name: "另一位学员".into(),
            role: "applicant".into(),
            applicant_id: Some(a.applicant_id),
            password_hash: Some(hash),
            ..Default::default()
        },
        app.state.now(),
    )
    .await
    .unwrap();
}

async fn audited(app: &TestApp, action: &str) -> u64 {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    gongkao_storage::audit::list(app.state.store().conn(), &f, gongkao_domain::paging::Page::new(None, None)).await.unwrap().total
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let db = app.state.store().conn();
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

fn attempt_of(location: &str) -> i64 {
    location.trim_start_matches("/practice/").parse().unwrap()
}

async fn get_json(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, Value) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post_json(c: &reqwest::Client, app: &TestApp, path: &str, csrf: &str, body: Value) -> (u16, Value) {
    let r = c.post(app.url(path)).header("x-csrf-token", csrf).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Starts a practice attempt in `subject` through the page; returns its id.
async fn start(c: &reqwest::Client, app: &TestApp, csrf: &str, subject: &str) -> i64 {
    let r = post(c, app, "/practice", csrf, &[("subject", subject)]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    attempt_of(r.headers()["location"].to_str().unwrap())
}

/// The key of every display position as the candidate sees it, rebuilt independently from the
/// recorded seed and the bank's content.
async fn shown_keys(app: &TestApp, attempt_id: i64) -> Vec<(ItemKind, String, u32)> {
    let a = gongkao_storage::practice::attempt(app.state.store().conn(), attempt_id).await.unwrap().unwrap();
    let items: Vec<FormItem> = serde_json::from_str(&a.items).unwrap();
    let form = Form { number: 1, items };
    let pairs: Vec<(i64, i32)> = form.items.iter().map(|i| (i.item_id, i.version)).collect();
    let contents = items::open_for_delivery(&app.state, &pairs).await.unwrap();
    let counts: Vec<u8> = form.items.iter().zip(&contents).map(|(i, c)| shown_option_count(i.kind, c.options.len())).collect();
    let presentation = shuffle_for_candidate(&form, &counts, a.seed.parse().unwrap()).unwrap();
    presentation
        .items
        .iter()
        .map(|p| {
            let i = p.form_index as usize;
            let key: Vec<u8> = contents[i].key.iter().map(|k| *k as u8).collect();
            (form.items[i].kind, shown_key(form.items[i].kind, &p.option_order, &key), form.items[i].points)
        })
        .collect()
}

/// A wrong answer to an objective item, in display letters.
fn wrong(kind: ItemKind, key: &str) -> String {
    match kind {
        ItemKind::MultipleChoice => if key.contains('A') { "B" } else { "A" }.to_owned(),
        _ => if key == "A" { "B" } else { "A" }.to_owned(),
    }
}

#[tokio::test]
async fn the_pool_is_chosen_at_creation_and_assembly_never_draws_practice_items() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let (c, csrf) = app.login("t.itemwriter").await;
    let item = |pool: &'static str| {
        let mut fields = vec![
            ("subject", "ethics"),
            ("level", "3"),
            ("work_type", ""),
            ("kind", "single_choice"),
            ("difficulty", "3"),
            ("knowledge_point", "职业守则"),
            ("points", "4"),
            ("stem", "练习池试题：下列说法正确的是"),
            ("option_a", "甲"),
            ("option_b", "乙"),
            ("key", "A"),
        ];
        if pool != "-" {
            fields.insert(0, ("pool", pool));
        }
        fields
    };
    // The form offers both pools (正式题库 preselected); an empty or unknown pool is refused by
    // name and nothing is stored.
    let form = c.get(app.url("/items/new")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("正式题库") && form.contains("练习题库") && form.contains("id=\"pool-practice\""));
    let before = gongkao_storage::items::count_rows(db).await.unwrap();
    for bad in ["", "both", "exam,practice"] {
        let r = post(&c, &app, "/items", &csrf, &item(bad)).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("题库类别：请选择正式题库或练习题库"));
    }
    assert_eq!(gongkao_storage::items::count_rows(db).await.unwrap(), before);
    let r = post(&c, &app, "/items", &csrf, &item("practice")).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let id: i64 = r.headers()["location"].to_str().unwrap().trim_start_matches("/items/").split('?').next().unwrap().parse().unwrap();
    assert_eq!(gongkao_storage::items::by_id(db, id).await.unwrap().unwrap().pool, "practice");
    let detail = c.get(app.url(&format!("/items/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains("<dd id=\"item-pool\">练习题库</dd>"));
    // The list shows and filters by pool.
    let listed = c.get(app.url("/items?pool=practice")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains(&format!("/items/{id}\"")) && listed.contains("共 1 道"), "{listed}");
    let listed = c.get(app.url("/items?pool=exam")).send().await.unwrap().text().await.unwrap();
    assert!(!listed.contains(&format!("/items/{id}\"")));
    // An edit keeps the pool: it is shown, not chosen, and a forged field changes nothing.
    let edit = c.get(app.url(&format!("/items/{id}/edit"))).send().await.unwrap().text().await.unwrap();
    assert!(edit.contains("id=\"pool-fixed\">练习题库") && !edit.contains("id=\"pool-exam\""));
    let mut revised = item("exam");
    revised.push(("version", "1"));
    revised.push(("change_note", "改题干"));
    let r = post(&c, &app, &format!("/items/{id}"), &csrf, &revised).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(gongkao_storage::items::by_id(db, id).await.unwrap().unwrap().pool, "practice");
    assert_eq!(audited(&app, "item.create").await, 1);
    // Without the field (a form of an older page) the item goes to the exam's pool.
    let r = post(&c, &app, "/items", &csrf, &item("-")).await;
    assert_eq!(r.status(), 303);
    let exam_id: i64 = r.headers()["location"].to_str().unwrap().trim_start_matches("/items/").split('?').next().unwrap().parse().unwrap();
    assert_eq!(gongkao_storage::items::by_id(db, exam_id).await.unwrap().unwrap().pool, "exam");

    // The same cell in both pools, more than enough practice items: assembly takes only exam
    // items, and a cell only the practice pool could fill is short.
    bank(&app, ItemPool::Exam, Subject::Ethics, 3, "正式", 12).await;
    bank(&app, ItemPool::Practice, Subject::Ethics, 3, "练习", 30).await;
    let practice_ids: HashSet<i64> =
        gongkao_storage::items::practice_pool(db, "ethics", 3, None).await.unwrap().iter().map(|r| r.0).collect();
    assert_eq!(practice_ids.len(), 75);
    let reviewer = staff("t.itemreviewer", "item_reviewer");
    let cell = |kind, count, points| BlueprintCell {
        kind,
        difficulty: Difficulty::MEDIUM,
        knowledge_point: "职业守则".into(),
        count,
        points_per_item: points,
    };
    let mut b = Blueprint::new(
        Subject::Ethics,
        Level::from_number(3).unwrap(),
        None,
        vec![cell(ItemKind::TrueFalse, 10, 30), cell(ItemKind::SingleChoice, 10, 40), cell(ItemKind::MultipleChoice, 5, 60)],
    );
    b.forms_per_sitting = 1;
    let bp = papers::save(&app.state, &reviewer, &b).await.unwrap();
    // 6 exam multiple-choice items: enough for one form of 5.
    assert_eq!(papers::assemble(&app.state, &reviewer, bp).await.unwrap(), 1);
    for form in gongkao_storage::papers::forms(db, bp).await.unwrap() {
        let items: Vec<FormItem> = serde_json::from_str(&form.items).unwrap();
        assert_eq!(items.len(), 25);
        for i in &items {
            assert!(!practice_ids.contains(&i.item_id), "practice item {} on a real form", i.item_id);
            assert_eq!(gongkao_storage::items::by_id(db, i.item_id).await.unwrap().unwrap().pool, "exam");
        }
    }
    // A form of 10 multiple-choice items: the exam pool has 6, the practice pool 15, and
    // assembly is still short.
    let b = Blueprint::new(
        Subject::Ethics,
        Level::from_number(3).unwrap(),
        None,
        vec![cell(ItemKind::TrueFalse, 10, 30), cell(ItemKind::SingleChoice, 10, 40), cell(ItemKind::MultipleChoice, 10, 30)],
    );
    let bp = papers::save(&app.state, &reviewer, &b).await.unwrap();
    let e = papers::assemble(&app.state, &reviewer, bp).await.unwrap_err();
    assert!(e.message().contains("多选题·难度3·职业守则：需要10题，题库仅有6题"), "{}", e.message());
    app.cleanup().await;
}

#[tokio::test]
async fn only_the_admitted_in_a_training_class_may_practise() {
    let app = TestApp::spawn().await;
    bank(&app, ItemPool::Practice, Subject::Ethics, 4, "练习", 10).await;
    let (c, csrf) = app.login("t.applicant").await;
    let closed = "模拟练习：仅向已准予参加考核、并已参加本考核年度培训班的人员开放";
    // A draft application: the page says why, offers nothing, and a start is refused.
    let page = c.get(app.url("/practice")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(closed) && !page.contains("开始练习</button>"), "{page}");
    let r = post(&c, &app, "/practice", &csrf, &[("subject", "ethics")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains(closed));
    // Admitted but in no class: still refused.
    let db = app.state.store().conn();
    gongkao_storage::applications::transition(db, app.application_a, "draft", "admitted", app.state.now(), true, true).await.unwrap();
    let r = post(&c, &app, "/practice", &csrf, &[("subject", "ethics")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains(closed));
    assert_eq!(gongkao_storage::practice::count_rows(db).await.unwrap(), (0, 0));
    assert_eq!(audited(&app, "practice.start").await, 0);
    // Enrolled: the page offers the application's subjects.
    gongkao_storage::training::insert_enrolments(db, app.class_a, &[app.application_a], "t.examofficer", app.state.now()).await.unwrap();
    let page = c.get(app.url("/practice")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(closed));
    assert!(page.contains("id=\"start-ethics\"") && page.contains("岗位技能") && page.contains("暂无练习题"), "{page}");
    // The menu shows practice to applicants; other roles are refused by the policy.
    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/practice\""));
    let (u, _) = app.login("t.unitadmin").await;
    assert_eq!(u.get(app.url("/practice")).send().await.unwrap().status(), 403);
    app.cleanup().await;
}

#[tokio::test]
async fn a_practice_paper_is_answered_submitted_and_explained() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    bank(&app, ItemPool::Practice, Subject::Ethics, 4, "练习", 12).await;
    bank(&app, ItemPool::Exam, Subject::Ethics, 4, "正式", 12).await;
    admit_and_enrol(&app, app.application_a).await;
    let (c, csrf) = app.login("t.applicant").await;

    // Bad starts name the field and write nothing.
    let r = post(&c, &app, "/practice", &csrf, &[("subject", "theory")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("科目：请选择本人申报等级的考试科目"));
    let r = post(&c, &app, "/practice", &csrf, &[("subject", "post_skills")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("科目：本科目的练习题库中暂无可用试题"));
    assert_eq!(gongkao_storage::practice::count_rows(db).await.unwrap(), (0, 0));

    let id = start(&c, &app, &csrf, "ethics").await;
    assert_eq!(audited(&app, "practice.start").await, 1);
    let page = c.get(app.url(&format!("/practice/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("data-api=\"/practice/{id}/api\"")) && page.contains("data-clock=\"elapsed\""));
    assert!(page.contains("/static/exam.js") && page.contains("id=\"grid\""));

    // The exam's shapes; no key, no marking guide, nothing of the exam's pool.
    let (status, st) = get_json(&c, &app, &format!("/practice/{id}/api/state")).await;
    assert_eq!(status, 200);
    assert_eq!(st["status"], "answering");
    assert_eq!(st["item_count"], 20);
    assert!(st["elapsed_ms"].as_i64().is_some());
    let (status, paper) = get_json(&c, &app, &format!("/practice/{id}/api/paper")).await;
    assert_eq!(status, 200);
    let items = paper["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    let text = paper.to_string();
    assert!(!text.contains("\"key\"") && !text.contains("marking_guide") && !text.contains("正式"), "{text}");
    assert!(items.iter().all(|i| i["stem"].as_str().unwrap().starts_with("练习")));
    let (_, one) = get_json(&c, &app, &format!("/practice/{id}/api/item?position=0")).await;
    assert_eq!(one["item"]["stem"], items[0]["stem"]);
    assert!(!one.to_string().contains("\"key\""));
    // Before submission there is no feedback: the page goes back to the paper.
    let r = c.get(app.url(&format!("/practice/{id}/feedback"))).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/practice/{id}").as_str());

    let keys = shown_keys(&app, id).await;
    assert_eq!(keys.len(), 20);
    let save = |saves: Value| json!({ "attempt": id, "saves": saves });
    let path = format!("/practice/{id}/api/save");
    // Two saves of one item in one request: the higher sequence wins; resent older saves are
    // acknowledged and change nothing.
    let (k0, key0, _) = &keys[0];
    let (status, body) = post_json(
        &c,
        &app,
        &path,
        &csrf,
        save(
            json!([{ "seq": 2, "position": 0, "answer": key0, "flagged": true }, { "seq": 1, "position": 0, "answer": wrong(*k0, key0) }]),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acked"], json!([2, 1]));
    let (status, body) = post_json(&c, &app, &path, &csrf, save(json!([{ "seq": 1, "position": 0, "answer": wrong(*k0, key0) }]))).await;
    assert_eq!((status, body["acked"].clone()), (200, json!([1])));
    let (_, paper) = get_json(&c, &app, &format!("/practice/{id}/api/paper")).await;
    assert_eq!(paper["answers"], json!([{ "position": 0, "answer": key0, "flagged": true, "seq": 2 }]));
    assert_eq!(paper["last_seq"], 2);
    // Bad saves name the field; none of the request is stored.
    for (bad, message) in [
        (json!([{ "seq": 3, "position": 1, "answer": "A" }, { "seq": 4, "position": 99, "answer": "A" }]), "题号：第100题不存在"),
        (json!([{ "seq": 3, "position": 1, "answer": "Z" }]), "作答：“Z”不是选项字母"),
        (json!([{ "seq": 0, "position": 1, "answer": "A" }]), "序号：应为正整数"),
        (json!([]), "作答：每次提交1至200条"),
    ] {
        let (status, body) = post_json(&c, &app, &path, &csrf, save(bad)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains(message), "{body}");
    }
    let (status, _) =
        post_json(&c, &app, &path, &csrf, json!({ "attempt": id + 1000, "saves": [{ "seq": 5, "position": 1, "answer": "A" }] })).await;
    assert_eq!(status, 422);
    assert_eq!(gongkao_storage::practice::count_rows(db).await.unwrap(), (1, 1));

    // Everything right but position 1 (wrong) and position 2 (left empty).
    let mut saves = Vec::new();
    let mut expected = 0;
    let mut total = 0;
    for (p, (kind, key, points)) in keys.iter().enumerate().skip(1) {
        total += points;
        match p {
            1 => saves.push(json!({ "seq": 10 + p, "position": p, "answer": wrong(*kind, key) })),
            2 => {}
            _ => {
                expected += points;
                saves.push(json!({ "seq": 10 + p, "position": p, "answer": key }));
            }
        }
    }
    total += keys[0].2;
    expected += keys[0].2;
    let (status, body) = post_json(&c, &app, &path, &csrf, save(Value::Array(saves))).await;
    assert_eq!(status, 200, "{body}");

    let (status, done) = post_json(&c, &app, &format!("/practice/{id}/api/submit"), &csrf, json!({})).await;
    assert_eq!(status, 200, "{done}");
    let fmt = gongkao_domain::exam::delivery::format_tenths;
    assert_eq!(done["score"], fmt(expected));
    assert_eq!(done["objective_total"], fmt(total));
    let percent = fmt(percent_tenths(expected, total).unwrap());
    assert_eq!(done["percent"], percent.as_str());
    assert_eq!(audited(&app, "practice.submit").await, 1);
    // Submitted once: a second submission and any save are refused.
    let (status, body) = post_json(&c, &app, &format!("/practice/{id}/api/submit"), &csrf, json!({})).await;
    assert_eq!(status, 409);
    assert!(body.to_string().contains("本次练习已交卷"));
    let (status, _) = post_json(&c, &app, &path, &csrf, save(json!([{ "seq": 99, "position": 2, "answer": "A" }]))).await;
    assert_eq!(status, 409);
    let (_, st) = get_json(&c, &app, &format!("/practice/{id}/api/state")).await;
    assert_eq!(st["status"], "submitted");
    let r = c.get(app.url(&format!("/practice/{id}"))).send().await.unwrap();
    assert_eq!(r.headers()["location"], format!("/practice/{id}/feedback").as_str());

    // The feedback: score, percentage, each item's answer, key and verdict.
    let fb = c.get(app.url(&format!("/practice/{id}/feedback"))).send().await.unwrap().text().await.unwrap();
    assert!(fb.contains(&format!("<strong>{}</strong> 分（满分 {} 分）", fmt(expected), fmt(total))), "{fb}");
    assert!(fb.contains(&format!("id=\"practice-percent\"><strong>{percent}</strong>")));
    assert!(fb.contains("正确答案") && fb.contains("您的答案"));
    let item = |n: usize| {
        let start = fb.find(&format!("id=\"feedback-{n}\"")).unwrap();
        fb[start..].split("</li>\n").next().unwrap().to_owned()
    };
    assert!(item(1).contains(">正确</span>") && item(1).contains(&format!("<dd class=\"key\">{}</dd>", keys[0].1)));
    assert!(item(2).contains(">错误</span>") && item(2).contains(&wrong(keys[1].0, &keys[1].1)));
    assert!(item(3).contains(">未作答</span>") && item(3).contains("（未作答）"));
    // Practice never writes the exam's tables, and the list shows the attempt with its score.
    assert_eq!(count(&app, "exam_attempt").await, 0);
    assert_eq!(count(&app, "attempt_response").await, 0);
    let list = c.get(app.url("/practice")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("已交卷") && list.contains(&format!("{}/{}", fmt(expected), fmt(total))) && list.contains(&percent));
    // Practise again as often as one likes.
    let again = start(&c, &app, &csrf, "ethics").await;
    assert_ne!(again, id);
    let list = c.get(app.url("/practice")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("href=\"/practice/{again}\">继续练习")));
    app.cleanup().await;
}

#[tokio::test]
async fn subjective_items_show_their_marking_guide_only_after_submission() {
    let app = TestApp::spawn().await;
    // A level-1 candidate (专业理论, per work type) in a class: short answers with a guide.
    let application = candidate(
        &app,
        Candidate {
            unit: app.unit_a,
            id_number: "410105198001010034".into(),
            name: "高技师".into(),
            mobile: "13900001234".into(),
            work_type: "护理员",
            level: 1,
            admit: true,
        },
    )
    .await;
    admit_and_enrol(&app, application).await;
    applicant_account(&app, application, "t.level1").await;
    let guide = "要点一：说明护理安全原则（3分）";
    let mut inputs = Vec::new();
    for i in 0..2 {
        let content = ItemContent {
            stem: format!("简答练习{i}：请简述护理安全要求"), marking_guide: guide.into(), ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(Subject::Theory, 1, Some("护理员"), ItemKind::ShortAnswer, 100), content });
        let content = ItemContent {
            stem: format!("单选练习{i}"),
            options: vec!["甲".into(), "乙".into(), "丙".into()],
            key: vec![1],
            ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(Subject::Theory, 1, Some("护理员"), ItemKind::SingleChoice, 20), content });
    }
    let writer = staff("t.itemwriter", "item_writer");
    let reviewer = staff("t.itemreviewer", "item_reviewer");
    items::seed_reviewed_in(&app.state, ItemPool::Practice, &writer, &reviewer, inputs).await.unwrap();

    let (c, csrf) = app.login("t.level1").await;
    let id = start(&c, &app, &csrf, "theory").await;
    let (_, paper) = get_json(&c, &app, &format!("/practice/{id}/api/paper")).await;
    assert_eq!(paper["items"].as_array().unwrap().len(), 4);
    assert!(!paper.to_string().contains(guide));
    let keys = shown_keys(&app, id).await;
    let saves: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(p, (kind, key, _))| {
            let answer = if kind.is_objective() { key.clone() } else { "我的回答：注意安全".to_owned() };
            json!({ "seq": p + 1, "position": p, "answer": answer })
        })
        .collect();
    let (status, body) = post_json(&c, &app, &format!("/practice/{id}/api/save"), &csrf, json!({ "saves": saves })).await;
    assert_eq!(status, 200, "{body}");
    let (status, done) = post_json(&c, &app, &format!("/practice/{id}/api/submit"), &csrf, json!({})).await;
    assert_eq!(status, 200, "{done}");
    // Only the objective items are scored: 2 × 2 of 4 points, 100 on the hundred-point scale.
    assert_eq!((done["score"].as_str(), done["objective_total"].as_str(), done["percent"].as_str()), (Some("4"), Some("4"), Some("100")));
    let fb = c.get(app.url(&format!("/practice/{id}/feedback"))).send().await.unwrap().text().await.unwrap();
    assert!(fb.contains(guide) && fb.contains("我的回答：注意安全") && fb.contains("主观题，请对照评分要点自评（不计分）"), "{fb}");
    assert!(fb.contains("主观题</dt><dd>2 题不计分"));
    app.cleanup().await;
}

#[tokio::test]
async fn an_applicant_cannot_open_another_applicant_s_practice() {
    let app = TestApp::spawn().await;
    bank(&app, ItemPool::Practice, Subject::Ethics, 4, "练习", 10).await;
    admit_and_enrol(&app, app.application_a).await;
    let other = candidate(
        &app,
        Candidate {
            unit: app.unit_a,
            id_number: "410105198001010018".into(),
            name: "王学员".into(),
            mobile: "13900005678".into(),
            work_type: "护理员",
            level: 4,
            admit: true,
        },
    )
    .await;
    admit_and_enrol(&app, other).await;
    applicant_account(&app, other, "t.other").await;
    let (mine, my_csrf) = app.login("t.applicant").await;
    let (theirs, their_csrf) = app.login("t.other").await;
    let my_id = start(&mine, &app, &my_csrf, "ethics").await;
    let their_id = start(&theirs, &app, &their_csrf, "ethics").await;

    let denied_before = audited(&app, "access.denied").await;
    for path in [format!("/practice/{their_id}"), format!("/practice/{their_id}/feedback")] {
        assert_eq!(mine.get(app.url(&path)).send().await.unwrap().status(), 403, "{path}");
    }
    for api in ["state", "paper", "item?position=0"] {
        let (status, body) = get_json(&mine, &app, &format!("/practice/{their_id}/api/{api}")).await;
        assert_eq!(status, 403, "{api}");
        assert!(!body.to_string().contains("练习"), "{body}");
    }
    let (status, _) = post_json(
        &mine,
        &app,
        &format!("/practice/{their_id}/api/save"),
        &my_csrf,
        json!({ "saves": [{ "seq": 1, "position": 0, "answer": "A" }] }),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post_json(&mine, &app, &format!("/practice/{their_id}/api/submit"), &my_csrf, json!({})).await;
    assert_eq!(status, 403);
    // Nothing of theirs changed; each refusal was audited; each still reaches their own.
    let db = app.state.store().conn();
    assert!(gongkao_storage::practice::responses(db, their_id).await.unwrap().is_empty());
    assert_eq!(gongkao_storage::practice::attempt(db, their_id).await.unwrap().unwrap().status, "answering");
    assert_eq!(audited(&app, "access.denied").await, denied_before + 7);
    assert_eq!(get_json(&mine, &app, &format!("/practice/{my_id}/api/state")).await.0, 200);
    assert_eq!(get_json(&theirs, &app, &format!("/practice/{their_id}/api/state")).await.0, 200);
    // The list shows each their own attempts only.
    let list = mine.get(app.url("/practice")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("/practice/{my_id}\"")) && !list.contains(&format!("/practice/{their_id}\"")));
    // Staff cannot open a practice attempt either.
    let (officer, _) = app.login("t.examofficer").await;
    assert_eq!(officer.get(app.url(&format!("/practice/{my_id}"))).send().await.unwrap().status(), 403);
    app.cleanup().await;
}

/// Items written before m0017 stay in the exam's pool, and the column takes no other pool.
#[tokio::test]
async fn items_before_the_practice_migration_stay_in_the_exam_pool() {
    use gongkao_storage::Store;
    use gongkao_storage::migration::Migrator;
    use sea_orm_migration::MigratorTrait;

    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = crate::kit::database_url(&dir).await;
    let store = Store::connect(&url).await.unwrap();
    let db = store.conn();
    Migrator::up(db, Some(16)).await.unwrap();
    let backend = db.get_database_backend();
    let insert = |uid: &str, pool: Option<&str>| {
        let (cols, vals) = match pool {
            Some(p) => (", pool", format!(", '{p}'")),
            None => ("", String::new()),
        };
        Statement::from_string(
            backend,
            format!(
                "INSERT INTO item (uid, subject, level, work_type, kind, difficulty, knowledge_point, points_tenths, status, \
                 current_version, created_by, created_at, updated_at{cols}) \
                 VALUES ('{uid}', 'ethics', 3, NULL, 'true_false', 3, '职业守则', 10, 'active', 1, 'old', 0, 0{vals})"
            ),
        )
    };
    db.execute_raw(insert("old-item", None)).await.unwrap();
    store.migrate().await.unwrap();
    let old = gongkao_storage::items::by_id(db, 1).await.unwrap().unwrap();
    assert_eq!(old.pool, "exam");
    assert_eq!(gongkao_storage::papers::active_pool(db, "ethics", 3, None).await.unwrap().len(), 1);
    assert!(gongkao_storage::items::practice_pool(db, "ethics", 3, None).await.unwrap().is_empty());
    assert!(db.execute_raw(insert("bad-pool", Some("other"))).await.is_err(), "the pool is checked");
    db.execute_raw(insert("practice-item", Some("practice"))).await.unwrap();
    assert_eq!(gongkao_storage::items::practice_pool(db, "ethics", 3, None).await.unwrap().len(), 1);
    assert_eq!(gongkao_storage::papers::active_pool(db, "ethics", 3, None).await.unwrap().len(), 1);
    store.close().await.unwrap();
    crate::kit::drop_database(pg.as_ref()).await;
}
