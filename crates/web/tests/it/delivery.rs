//! Computer-based delivery through HTTP: the candidate's login at the seat, the identity check,
//! waiting for the proctor's start, saves that are idempotent and ordered, pause and resume,
//! the earliest-submit rule, submission with a signed receipt and a reproducible score, the
//! clock's automatic submission, late entry, and isolation between candidates and from
//! accounts.
use gongkao_domain::campaign::{Level, shanghai_datetime};
use gongkao_domain::exam::assembly::{Form, FormItem, shuffle_for_candidate};
use gongkao_domain::exam::blueprint::{Blueprint, BlueprintCell};
use gongkao_domain::exam::delivery::{KeyedItem, MultipleChoiceScoring, score_attempt, shown_option_count};
use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use gongkao_domain::item_bank::{ItemContent, ItemMeta, OPTION_LABELS, TRUE_FALSE_OPTIONS};
use gongkao_storage::delivery as store;
use gongkao_web::services::items::{self, ItemInput};
use gongkao_web::services::{Actor, delivery, papers};
use serde_json::{Value, json};
use time::macros::date;

use crate::kit::{Candidate, TestApp, candidate, csrf_of, post};

fn staff(username: &str, role: &str) -> Actor {
    Actor { username: username.into(), role: role.into(), jurisdiction: "410000".into(), client_ip: "test".into() }
}

/// 职业道德 level 3: 10 true/false (3 points), 10 single choice (4), 5 multiple choice (6).
async fn bank_and_forms(app: &TestApp) {
    let mut inputs = Vec::new();
    let meta = |kind, points| ItemMeta {
        subject: Subject::Ethics,
        level: 3,
        work_type: None,
        kind,
        difficulty: Difficulty::MEDIUM,
        knowledge_point: "职业守则".into(),
        points_tenths: points,
    };
    for n in 0..12 {
        let content = ItemContent {
            stem: format!("判断题{n}"),
            options: TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(),
            key: vec![n % 2],
            ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(ItemKind::TrueFalse, 30), content });
    }
    for n in 0..12 {
        let content = ItemContent {
            stem: format!("单选题{n}"),
            options: vec!["甲".into(), "乙".into(), "丙".into(), "丁".into()],
            key: vec![n % 4],
            ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(ItemKind::SingleChoice, 40), content });
    }
    for n in 0..6 {
        let content = ItemContent {
            stem: format!("多选题{n}"),
            options: vec!["甲".into(), "乙".into(), "丙".into(), "丁".into(), "戊".into()],
            key: vec![0, 2, 4],
            ..Default::default()
        };
        inputs.push(ItemInput { meta: meta(ItemKind::MultipleChoice, 60), content });
    }
    let writer = staff("t.itemwriter", "item_writer");
    let reviewer = staff("t.itemreviewer", "item_reviewer");
    items::seed_reviewed(&app.state, &writer, &reviewer, inputs).await.unwrap();
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
    b.forms_per_sitting = 2;
    let id = papers::save(&app.state, &reviewer, &b).await.unwrap();
    assert_eq!(papers::assemble(&app.state, &reviewer, id).await.unwrap(), 2);
}

struct ExamDay {
    sitting: i64,
    room: i64,
    /// (ticket, id number) of the seated candidates, by seat.
    candidates: Vec<(String, String)>,
}

/// Items and forms, one room of 郑州's centre, the three sittings of 2020-07-18 (职业道德 first,
/// 09:00–10:30, the one these tests sit), three admitted candidates seated; the clock at 08:40
/// that day.
async fn exam_day(app: &TestApp) -> ExamDay {
    bank_and_forms(app).await;
    let db = app.state.store().conn();
    for n in 1..=3u32 {
        let c = Candidate {
            unit: app.unit_a,
            id_number: format!("41010519800101{n:04}"),
            name: format!("考生{n}"),
            mobile: format!("1390000{n:04}"),
            work_type: "护理员",
            level: 3,
            admit: true,
        };
        candidate(app, c).await;
    }
    let (c, csrf) = app.login("t.examofficer").await;
    let r = post(
        &c,
        app,
        &format!("/exam-sites/{}/rooms", app.centre_a),
        &csrf,
        &[("number", "1"), ("seat_count", "30"), ("spare_seats", "2")],
    )
    .await;
    assert_eq!(r.status(), 303);
    for (subject, from, to) in [("ethics", "09:00", "10:30"), ("post_skills", "11:00", "12:30"), ("competence", "14:30", "16:00")] {
        let r =
            post(&c, app, "/sittings", &csrf, &[("subject", subject), ("date", "2020-07-18"), ("starts_at", from), ("ends_at", to)]).await;
        assert_eq!(r.status(), 303);
    }
    let r = post(&c, app, "/seating", &csrf, &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let campaign = gongkao_storage::campaigns::current(db).await.unwrap().unwrap();
    let sitting = gongkao_storage::exam_sites::sittings(db, campaign.id, "410100")
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.subject == "ethics")
        .unwrap()
        .id;
    let room = gongkao_storage::exam_sites::rooms_of(db, &[app.centre_a]).await.unwrap()[0].id;
    let mut candidates = Vec::new();
    for seat in store::seats_in_room(db, sitting, room).await.unwrap() {
        assert!(seat.form_number.is_some());
        let a = gongkao_storage::applications::get(db, seat.application_id).await.unwrap().unwrap();
        let p = gongkao_storage::units::applicant(db, a.applicant_id).await.unwrap().unwrap();
        candidates.push((seat.ticket_no.clone(), p.id_number));
    }
    assert_eq!(candidates.len(), 3);
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 8, 40));
    ExamDay { sitting, room, candidates }
}

/// Logs in at the seat; returns the client and the exam page's CSRF token.
async fn seat_login(app: &TestApp, ticket: &str, id_number: &str, code: &str) -> Result<(reqwest::Client, String), (u16, String)> {
    let c = app.client();
    let page = c.get(app.url("/exam/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_of(&page);
    let r = c
        .post(app.url("/exam/login"))
        .form(&[("csrf_token", token.as_str()), ("ticket_no", ticket), ("id_number", id_number), ("access_code", code)])
        .send()
        .await
        .unwrap();
    if r.status() != 303 {
        return Err((r.status().as_u16(), r.text().await.unwrap()));
    }
    let identity = c.get(app.url("/exam/identity")).send().await.unwrap().text().await.unwrap();
    Ok((c, csrf_of(&identity)))
}

async fn get_json(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, Value) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn save(c: &reqwest::Client, app: &TestApp, csrf: &str, body: Value) -> (u16, Value) {
    let r = c.post(app.url("/exam/api/save")).header("x-csrf-token", csrf).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or_default().to_owned()
}

/// The letter a candidate must pick at each display position to be right, worked out from the
/// stored paper as an examiner re-checking would.
async fn correct_letters(app: &TestApp, attempt_id: i64) -> Vec<String> {
    let db = app.state.store().conn();
    let a = store::attempt(db, attempt_id).await.unwrap().unwrap();
    let form_row = store::form(db, a.form_id.unwrap()).await.unwrap().unwrap();
    let form_items: Vec<FormItem> = serde_json::from_str(&form_row.items).unwrap();
    let pairs: Vec<(i64, i32)> = form_items.iter().map(|i| (i.item_id, i.version)).collect();
    let contents = items::open_for_delivery(&app.state, &pairs).await.unwrap();
    let counts: Vec<u8> = form_items.iter().zip(&contents).map(|(i, c)| shown_option_count(i.kind, c.options.len())).collect();
    let form = Form { number: 1, items: form_items.clone() };
    let p = shuffle_for_candidate(&form, &counts, a.candidate_seed.parse().unwrap()).unwrap();
    p.items
        .iter()
        .map(|shown| {
            let content = &contents[shown.form_index as usize];
            let kind = form_items[shown.form_index as usize].kind;
            let mut letters: Vec<usize> =
                content
                    .key
                    .iter()
                    .map(|k| {
                        if kind == ItemKind::TrueFalse {
                            *k
                        } else {
                            shown.option_order.iter().position(|o| usize::from(*o) == *k).unwrap()
                        }
                    })
                    .collect();
            letters.sort_unstable();
            letters.iter().map(|i| OPTION_LABELS[*i]).collect()
        })
        .collect()
}

#[tokio::test]
async fn a_candidate_sits_the_exam_from_login_to_receipt() {
    let app = TestApp::spawn().await;
    let day = exam_day(&app).await;
    let db = app.state.store().conn();
    let (ticket, id_number) = day.candidates[0].clone();

    // Before the proctor opens the room there is no access code to log in with.
    let refused = seat_login(&app, &ticket, &id_number, "AAAAAA").await.unwrap_err();
    assert_eq!(refused.0, 409);
    assert!(refused.1.contains("监考员尚未开放本考场"));

    // The proctor opens the console: the room gets its access code.
    let (proctor, pcsrf) = app.login("t.proctor").await;
    let rooms = proctor.get(app.url("/proctor")).send().await.unwrap().text().await.unwrap();
    assert!(rooms.contains(&format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting)));
    let console_path = format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting);
    let console = proctor.get(app.url(&console_path)).send().await.unwrap().text().await.unwrap();
    let code = store::room_session(db, day.sitting, day.room).await.unwrap().unwrap().access_code;
    assert!(console.contains(&code));
    assert!(console.contains("未登录"));

    // Wrong ID number or code: refused by field, nothing created.
    let bad = seat_login(&app, &ticket, "110105194912310000", &code).await.unwrap_err();
    assert_eq!(bad.0, 422);
    assert!(bad.1.contains("准考证号、身份证号或考场登录码不正确"));
    let bad = seat_login(&app, &ticket, &id_number, "ZZZZZZ").await.unwrap_err();
    assert!(bad.1.contains("考场登录码不正确"));
    let bad = seat_login(&app, "", "", "").await.unwrap_err();
    assert!(bad.1.contains("准考证号：请填写") && bad.1.contains("考场登录码：请填写"));
    assert!(store::attempts_in_room(db, day.sitting, day.room).await.unwrap().is_empty());

    // Logged in (the code is not case-sensitive): identity first, then waiting.
    let (c, csrf) = seat_login(&app, &ticket, &id_number.to_lowercase(), &code.to_lowercase()).await.unwrap();
    let (status, body) = get_json(&c, &app, "/exam/api/paper").await;
    assert_eq!(status, 409);
    assert!(message(&body).contains("请先核对并确认身份信息"));
    let identity = c.get(app.url("/exam/identity")).send().await.unwrap().text().await.unwrap();
    assert!(identity.contains(&ticket) && identity.contains("职业道德"));
    assert_eq!(post(&c, &app, "/exam/identity", &csrf, &[]).await.status(), 303);
    let (_, state) = get_json(&c, &app, "/exam/api/state").await;
    assert_eq!(state["status"], "waiting");
    assert_eq!(state["room_started"], false);
    assert_eq!(state["remaining_ms"], 90 * 60_000);
    let (status, body) = get_json(&c, &app, "/exam/api/paper").await;
    assert_eq!(status, 409);
    assert!(message(&body).contains("考试尚未开始"));

    // Starting more than 10 minutes early is refused; at 09:00 it starts.
    let r = post(&proctor, &app, &format!("/proctor/rooms/{}/start", day.room), &pcsrf, &[("sitting", &day.sitting.to_string())]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("最早可在考试开始前10分钟开考"));
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 0));
    let r = post(&proctor, &app, &format!("/proctor/rooms/{}/start", day.room), &pcsrf, &[("sitting", &day.sitting.to_string())]).await;
    assert_eq!(r.status(), 303);

    // The paper: 25 items of the candidate's own form, no key anywhere.
    let r = c.get(app.url("/exam/api/paper")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(!text.contains("\"key\"") && !text.contains("marking_guide"), "keys never reach the browser");
    let paper: Value = serde_json::from_str(&text).unwrap();
    let items = paper["items"].as_array().unwrap();
    assert_eq!(items.len(), 25);
    assert_eq!(items[0]["kind"], "true_false", "true/false come first");
    assert_eq!(paper["state"]["status"], "answering");
    let attempt_id = store::attempts_in_room(db, day.sitting, day.room).await.unwrap()[0].id;

    // Saves: checked by field, refused without the token or for another attempt.
    let (status, body) = save(&c, &app, &csrf, json!({"saves": [{"seq": 1, "position": 25, "answer": "A"}]})).await;
    assert_eq!(status, 422);
    assert!(message(&body).contains("题号：第26题不存在"));
    let (status, body) = save(&c, &app, &csrf, json!({"saves": [{"seq": 1, "position": 0, "answer": "C"}]})).await;
    assert_eq!(status, 422);
    assert!(message(&body).contains("本题只有2个选项"));
    let r = c.post(app.url("/exam/api/save")).json(&json!({"saves": [{"seq": 1, "position": 0, "answer": "A"}]})).send().await.unwrap();
    assert_eq!(r.status(), 409, "no CSRF token");
    let (status, _) =
        save(&c, &app, &csrf, json!({"attempt": attempt_id + 1000, "saves": [{"seq": 1, "position": 0, "answer": "A"}]})).await;
    assert_eq!(status, 403);
    assert!(store::responses(db, attempt_id).await.unwrap().is_empty(), "refused saves write nothing");

    // A newer answer is never overwritten by an older or repeated one.
    let (status, body) =
        save(&c, &app, &csrf, json!({"attempt": attempt_id, "saves": [{"seq": 5, "position": 0, "answer": "B", "flagged": true}]})).await;
    assert_eq!(status, 200);
    assert_eq!(body["acked"], json!([5]));
    let (status, _) = save(
        &c,
        &app,
        &csrf,
        json!({"saves": [{"seq": 3, "position": 0, "answer": "A"}, {"seq": 5, "position": 0, "answer": "B", "flagged": true}]}),
    )
    .await;
    assert_eq!(status, 200);
    let stored = store::responses(db, attempt_id).await.unwrap();
    assert_eq!((stored[0].answer.as_str(), stored[0].seq, stored[0].flagged), ("B", 5, true));

    // Answer everything correctly, in one request after "an outage", in order.
    let letters = correct_letters(&app, attempt_id).await;
    let saves: Vec<Value> =
        letters.iter().enumerate().map(|(i, l)| json!({"seq": 10 + i as i64, "position": i, "answer": l.to_lowercase()})).collect();
    let (status, body) = save(&c, &app, &csrf, json!({ "saves": saves })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acked"].as_array().unwrap().len(), 25);

    // A second candidate cannot touch the first one's answers.
    let (ticket2, id2) = day.candidates[1].clone();
    let (c2, csrf2) = seat_login(&app, &ticket2, &id2, &code).await.unwrap();
    assert_eq!(post(&c2, &app, "/exam/identity", &csrf2, &[]).await.status(), 303);
    let (status, _) = save(&c2, &app, &csrf2, json!({"attempt": attempt_id, "saves": [{"seq": 99, "position": 0, "answer": "A"}]})).await;
    assert_eq!(status, 403);
    let (status, _) = save(&c2, &app, &csrf, json!({"saves": [{"seq": 99, "position": 0, "answer": "A"}]})).await;
    assert_eq!(status, 409, "another candidate's token is no token");
    let (status, _) = get_json(&c2, &app, "/exam/api/paper").await;
    assert_eq!(status, 200);
    let (status, _) = save(&c2, &app, &csrf2, json!({"saves": [{"seq": 1, "position": 1, "answer": "A"}]})).await;
    assert_eq!(status, 200);
    assert_eq!(store::responses(db, attempt_id).await.unwrap()[0].answer, letters[0]);

    // An account session is not a seat session.
    let (applicant, _) = app.login("t.applicant").await;
    let r = applicant.get(app.url("/exam/api/state")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Pause at 09:10 for 20 minutes: everyone's remaining time is kept.
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 10));
    let sitting = day.sitting.to_string();
    let r = post(&proctor, &app, &format!("/proctor/rooms/{}/pause", day.room), &pcsrf, &[("sitting", &sitting), ("reason", "")]).await;
    assert_eq!(r.status(), 422, "a pause needs its reason");
    let r = post(&proctor, &app, &format!("/proctor/rooms/{}/pause", day.room), &pcsrf, &[("sitting", &sitting), ("reason", "停电")]).await;
    assert_eq!(r.status(), 303);
    let (_, before) = get_json(&c, &app, "/exam/api/state").await;
    assert_eq!(before["paused"], true);
    assert_eq!(before["remaining_ms"], 80 * 60_000);
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 30));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, during) = get_json(&c2, &app, "/exam/api/state").await;
    assert_eq!(during["remaining_ms"], 80 * 60_000);
    let r = post(&proctor, &app, &format!("/proctor/rooms/{}/resume", day.room), &pcsrf, &[("sitting", &sitting), ("reason", "恢复供电")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, after) = get_json(&c, &app, "/exam/api/state").await;
    assert_eq!(after["paused"], false);
    assert_eq!(after["remaining_ms"], 80 * 60_000);

    // A latecomer after 30 minutes of exam time is refused (the pause does not count).
    let (ticket3, id3) = day.candidates[2].clone();
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 51));
    let late = seat_login(&app, &ticket3, &id3, &code).await.unwrap_err();
    assert_eq!(late.0, 409);
    assert!(late.1.contains("已超过开考后允许入场的时间"));

    // Submission: not before 30 minutes of exam time (09:50, with the pause).
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 45));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = c.post(app.url("/exam/api/submit")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(message(&r.json().await.unwrap()).contains("开考30分钟后方可交卷（还需5分钟）"));
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 10, 0));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = c.post(app.url("/exam/api/submit")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let receipt: Value = r.json().await.unwrap();
    assert_eq!(receipt["answered"], 25);
    assert_eq!(receipt["score"], "100", "every correct shown letter maps back to the key");
    let digest = receipt["digest"].as_str().unwrap().to_owned();
    let signature = receipt["signature"].as_str().unwrap().to_owned();
    assert!(delivery::verify_receipt(&app.state, &digest, &signature));
    let tampered = format!("{}{}", if digest.starts_with('0') { '1' } else { '0' }, &digest[1..]);
    assert!(!delivery::verify_receipt(&app.state, &tampered, &signature));
    let page = c.get(app.url("/exam/receipt")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&digest) && page.contains("本科目成绩"));

    // The stored responses re-score to the stored score.
    let a = store::attempt(db, attempt_id).await.unwrap().unwrap();
    assert_eq!((a.status.as_str(), a.objective_tenths, a.submitted_by.as_deref()), ("submitted", Some(1000), Some("candidate")));
    let form_row = store::form(db, a.form_id.unwrap()).await.unwrap().unwrap();
    let form_items: Vec<FormItem> = serde_json::from_str(&form_row.items).unwrap();
    let pairs: Vec<(i64, i32)> = form_items.iter().map(|i| (i.item_id, i.version)).collect();
    let contents = items::open_for_delivery(&app.state, &pairs).await.unwrap();
    let form = Form { number: 1, items: form_items.clone() };
    let counts: Vec<u8> = form_items.iter().zip(&contents).map(|(i, c)| shown_option_count(i.kind, c.options.len())).collect();
    let p = shuffle_for_candidate(&form, &counts, a.candidate_seed.parse().unwrap()).unwrap();
    let keys: Vec<KeyedItem> = form_items
        .iter()
        .zip(&contents)
        .map(|(i, c)| KeyedItem { kind: i.kind, points: i.points, key: c.key.iter().map(|k| *k as u8).collect() })
        .collect();
    let saved = store::responses(db, attempt_id).await.unwrap();
    let answers: Vec<&str> = saved.iter().map(|r| r.answer.as_str()).collect();
    let rescored = score_attempt(&form, &keys, &p, &answers, MultipleChoiceScoring::AllOrNothing).unwrap();
    assert_eq!(i32::try_from(rescored.objective_tenths).unwrap(), a.objective_tenths.unwrap());

    // After submission nothing changes.
    let (status, body) = save(&c, &app, &csrf, json!({"saves": [{"seq": 500, "position": 0, "answer": "A"}]})).await;
    assert_eq!(status, 409);
    assert!(message(&body).contains("已交卷"));
    assert_eq!(store::responses(db, attempt_id).await.unwrap()[0].answer, letters[0]);

    // The clock submits the second candidate once time is up (10:50 with the pause, plus grace),
    // with nobody connected.
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 10, 50));
    assert_eq!(delivery::sweep(&app.state).await.unwrap(), 0, "not before the grace for saves on their way");
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 10, 51));
    assert_eq!(delivery::sweep(&app.state).await.unwrap(), 1);
    let second = store::attempts_in_room(db, day.sitting, day.room).await.unwrap().into_iter().find(|x| x.id != attempt_id).unwrap();
    assert_eq!((second.status.as_str(), second.submitted_by.as_deref(), second.answered), ("submitted", Some("clock"), Some(1)));

    // The console shows the outcome; the absent latecomer counts as absent.
    let (proctor, _) = app.login("t.proctor").await;
    let status_json: Value = proctor
        .get(app.url(&format!("/proctor/rooms/{}/status?sitting={}", day.room, day.sitting)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = status_json["seats"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "submitted").count(), 2);
    assert!(statuses.contains(&"absent"));
    let events = store::events(db, day.sitting, day.room).await.unwrap();
    assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["start", "pause", "resume"]);
    app.cleanup().await;
}

#[tokio::test]
async fn proctors_extend_move_and_record_violations_by_category() {
    let app = TestApp::spawn().await;
    let day = exam_day(&app).await;
    let db = app.state.store().conn();
    let (proctor, pcsrf) = app.login("t.proctor").await;
    proctor.get(app.url(&format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting))).send().await.unwrap();
    let code = store::room_session(db, day.sitting, day.room).await.unwrap().unwrap().access_code;
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 0));
    let sitting = day.sitting.to_string();
    let path = format!("/proctor/rooms/{}/seat", day.room);
    assert_eq!(post(&proctor, &app, &format!("/proctor/rooms/{}/start", day.room), &pcsrf, &[("sitting", &sitting)]).await.status(), 303);
    let mut seats = Vec::new();
    for (ticket, id) in &day.candidates {
        let (c, csrf) = seat_login(&app, ticket, id, &code).await.unwrap();
        assert_eq!(post(&c, &app, "/exam/identity", &csrf, &[]).await.status(), 303);
        assert_eq!(get_json(&c, &app, "/exam/api/paper").await.0, 200);
        seats.push((c, csrf));
    }
    let attempts = store::attempts_in_room(db, day.sitting, day.room).await.unwrap();
    let seat_of = |i: usize| attempts[i].seat.to_string();

    // Extension: bounded, with a reason; the candidate's time grows.
    let r = post(
        &proctor,
        &app,
        &path,
        &pcsrf,
        &[("sitting", &sitting), ("seat", &seat_of(0)), ("action", "extend"), ("minutes", "90"), ("reason", "死机")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("延长时间：应为1至60分钟"));
    let r = post(
        &proctor,
        &app,
        &path,
        &pcsrf,
        &[("sitting", &sitting), ("seat", &seat_of(0)), ("action", "extend"), ("minutes", "5"), ("reason", "死机重启")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, state) = get_json(&seats[0].0, &app, "/exam/api/state").await;
    assert_eq!(state["remaining_ms"], 95 * 60_000);

    // Moving to a spare seat ends the old session; the candidate logs in again and resumes.
    let r = post(
        &proctor,
        &app,
        &path,
        &pcsrf,
        &[("sitting", &sitting), ("seat", &seat_of(1)), ("action", "move"), ("to_seat", "5"), ("reason", "电脑故障")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("新座位号：应为本考场的备用座位（31至32号）"));
    let (status, _) = save(&seats[1].0, &app, &seats[1].1, json!({"saves": [{"seq": 1, "position": 0, "answer": "A"}]})).await;
    assert_eq!(status, 200);
    let r = post(
        &proctor,
        &app,
        &path,
        &pcsrf,
        &[("sitting", &sitting), ("seat", &seat_of(1)), ("action", "move"), ("to_seat", "31"), ("reason", "电脑故障")],
    )
    .await;
    assert_eq!(r.status(), 303);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = seats[1].0.get(app.url("/exam/api/state")).send().await.unwrap();
    assert_eq!(r.status(), 401, "the old seat's session ended");
    let (ticket, id) = &day.candidates[1];
    let (again, _) = seat_login(&app, ticket, id, &code).await.unwrap();
    let (status, paper) = get_json(&again, &app, "/exam/api/paper").await;
    assert_eq!(status, 200);
    assert_eq!(paper["answers"][0]["answer"], "A", "acknowledged answers are back");
    assert_eq!(paper["last_seq"], 1);

    // A serious violation ends the attempt; an ordinary one is recorded only.
    let r = post(
        &proctor,
        &app,
        &path,
        &pcsrf,
        &[("sitting", &sitting), ("seat", &seat_of(2)), ("action", "violation"), ("category", ""), ("reason", "x")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("违纪类别：请选择"));
    let r = post(
        &proctor,
        &app,
        &path,
        &pcsrf,
        &[("sitting", &sitting), ("seat", &seat_of(0)), ("action", "violation"), ("category", "ordinary"), ("reason", "交头接耳")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post(
        &proctor,
        &app,
        &path,
        &pcsrf,
        &[("sitting", &sitting), ("seat", &seat_of(2)), ("action", "violation"), ("category", "serious"), ("reason", "使用手机")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let after = store::attempts_in_room(db, day.sitting, day.room).await.unwrap();
    assert_eq!(after.iter().find(|a| a.id == attempts[0].id).unwrap().status, "answering");
    assert_eq!(after.iter().find(|a| a.id == attempts[2].id).unwrap().status, "ended");
    let (status, _) = save(&seats[2].0, &app, &seats[2].1, json!({"saves": [{"seq": 1, "position": 0, "answer": "A"}]})).await;
    assert_eq!(status, 409);
    // Absent is only for someone not answering.
    let r =
        post(&proctor, &app, &path, &pcsrf, &[("sitting", &sitting), ("seat", &seat_of(0)), ("action", "absent"), ("reason", "x")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("考生已在答题，不能记为缺考"));
    let console =
        proctor.get(app.url(&format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting))).send().await.unwrap().text().await.unwrap();
    assert!(console.contains("违纪：严重违纪（当次全部科目成绩无效）") && console.contains("调换至备用座位31"));

    // The room record prints with the events, and the print is audited; the chief sees the room.
    let r = post(
        &proctor,
        &app,
        &format!("/proctor/rooms/{}/record", day.room),
        &pcsrf,
        &[("sitting", &sitting), ("record", "9:05 一名考生电脑故障，调换备用机。")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = proctor.get(app.url(&format!("/proctor/rooms/{}/record.pdf?sitting={}", day.room, day.sitting))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text: String =
        pdf_extract::extract_text_from_mem(&r.bytes().await.unwrap()).unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    for want in ["考场记录单", "严重违纪", "调换至备用座位31", "一名考生电脑故障，调换备用机。", "监考员（签名）", "违纪终止"]
    {
        assert!(text.contains(want), "the room record lacks {want}: {text}");
    }
    let (chief, _) = app.login("t.chief").await;
    let rooms = chief.get(app.url("/proctor")).send().await.unwrap().text().await.unwrap();
    assert!(rooms.contains("答题中 2，违纪终止 1"), "{rooms}");
    app.cleanup().await;
}

#[tokio::test]
async fn logins_are_rate_limited_per_ticket() {
    let app = TestApp::spawn().await;
    let day = exam_day(&app).await;
    let (proctor, _) = app.login("t.proctor").await;
    proctor.get(app.url(&format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting))).send().await.unwrap();
    let code = store::room_session(app.state.store().conn(), day.sitting, day.room).await.unwrap().unwrap().access_code;
    let (ticket, id) = day.candidates[0].clone();
    for _ in 0..5 {
        assert_eq!(seat_login(&app, &ticket, "110105194912310000", &code).await.unwrap_err().0, 422);
    }
    let locked = seat_login(&app, &ticket, &id, &code).await.unwrap_err();
    assert_eq!(locked.0, 429);
    assert!(locked.1.contains("登录错误次数过多"));
    // Another candidate is not affected; a second login of theirs takes the attempt over, and
    // the first browser's session stops working (saves only from the session that owns it).
    let (ticket2, id2) = day.candidates[1].clone();
    let (first, _) = seat_login(&app, &ticket2, &id2, &code).await.unwrap();
    assert_eq!(first.get(app.url("/exam/api/state")).send().await.unwrap().status(), 200);
    let (second, _) = seat_login(&app, &ticket2, &id2, &code).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(first.get(app.url("/exam/api/state")).send().await.unwrap().status(), 401);
    assert_eq!(second.get(app.url("/exam/api/state")).send().await.unwrap().status(), 200);
    app.cleanup().await;
}

/// Forms are frozen once a candidate used one: assembling the blueprint again is refused with
/// the reason and changes nothing (before any login it is allowed).
#[tokio::test]
async fn forms_a_candidate_used_are_not_assembled_again() {
    let app = TestApp::spawn().await;
    let day = exam_day(&app).await;
    let db = app.state.store().conn();
    let blueprint = gongkao_storage::papers::blueprints(db).await.unwrap()[0].id;
    let form_ids = || async { gongkao_storage::papers::forms(db, blueprint).await.unwrap().iter().map(|f| f.id).collect::<Vec<_>>() };
    let (reviewer, csrf) = app.login("t.itemreviewer").await;
    let before = form_ids().await;
    let r = post(&reviewer, &app, &format!("/blueprints/{blueprint}/assemble"), &csrf, &[]).await;
    assert_eq!(r.status(), 303, "nobody has logged in yet");
    let assembled = form_ids().await;
    assert_eq!(assembled.len(), 2);
    assert_ne!(assembled, before, "the forms were replaced");

    let (proctor, _) = app.login("t.proctor").await;
    proctor.get(app.url(&format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting))).send().await.unwrap();
    let code = store::room_session(db, day.sitting, day.room).await.unwrap().unwrap().access_code;
    let (ticket, id) = day.candidates[0].clone();
    seat_login(&app, &ticket, &id, &code).await.unwrap();
    let r = post(&reviewer, &app, &format!("/blueprints/{blueprint}/assemble"), &csrf, &[]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("本蓝图组成的试卷已有考生登录使用，不能重新组卷"));
    assert_eq!(form_ids().await, assembled, "nothing changed");
    app.cleanup().await;
}

#[tokio::test]
async fn the_campaign_sets_late_entry_submission_and_self_starting_rooms() {
    let app = TestApp::spawn().await;
    let day = exam_day(&app).await;
    let db = app.state.store().conn();
    let (prov, csrf) = app.login("t.provexam").await;
    let r = post(&prov, &app, "/campaign/delivery", &csrf, &[("late_entry_minutes", "200"), ("earliest_submit_minutes", "abc")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("开考后禁止入场时间：应为0至120分钟") && page.contains("最早交卷时间：应为0至120分钟"));
    assert!(gongkao_storage::misc::setting(db, "delivery_rules:1").await.unwrap().is_none(), "refused rules save nothing");
    let (city, city_csrf) = app.login("t.examofficer").await;
    assert_eq!(post(&city, &app, "/campaign/delivery", &city_csrf, &[("late_entry_minutes", "10")]).await.status(), 403);
    // Rooms start by themselves at the sitting's time; 10 minutes late entry; 45 minutes to submit.
    let r = post(
        &prov,
        &app,
        "/campaign/delivery",
        &csrf,
        &[("late_entry_minutes", "10"), ("earliest_submit_minutes", "45"), ("show_score", "1")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = prov.get(app.url("/campaign")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("value=\"45\""));

    let (proctor, _) = app.login("t.proctor").await;
    proctor.get(app.url(&format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting))).send().await.unwrap();
    let code = store::room_session(db, day.sitting, day.room).await.unwrap().unwrap().access_code;
    let (ticket, id) = day.candidates[0].clone();
    let (c, ccsrf) = seat_login(&app, &ticket, &id, &code).await.unwrap();
    assert_eq!(post(&c, &app, "/exam/identity", &ccsrf, &[]).await.status(), 303);
    assert_eq!(get_json(&c, &app, "/exam/api/paper").await.0, 409, "not before 09:00");
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 0));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, paper) = get_json(&c, &app, "/exam/api/paper").await;
    assert_eq!(status, 200, "the room started by itself: {paper}");
    assert_eq!(paper["state"]["submit_in_ms"], 45 * 60_000);
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 11));
    let (ticket2, id2) = day.candidates[1].clone();
    let late = seat_login(&app, &ticket2, &id2, &code).await.unwrap_err();
    assert!(late.1.contains("已超过开考后允许入场的时间"));
    app.clock.set(shanghai_datetime(date!(2020 - 07 - 18), 9, 40));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = c.post(app.url("/exam/api/submit")).header("x-csrf-token", &ccsrf).send().await.unwrap();
    assert!(message(&r.json().await.unwrap()).contains("开考45分钟后方可交卷（还需5分钟）"));
    app.cleanup().await;
}

/// The header Safe Exam Browser sends with a request for `path` under a configuration's key.
fn seb_hash(app: &TestApp, path: &str, key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("{}{key}", app.url(path)).as_bytes()))
}

#[tokio::test]
async fn a_sitting_may_require_the_safe_exam_browser() {
    let app = TestApp::spawn().await;
    let day = exam_day(&app).await;
    let db = app.state.store().conn();
    let (officer, csrf) = app.login("t.examofficer").await;
    let sitting = day.sitting.to_string();
    let r = post(&officer, &app, "/sittings/seb", &csrf, &[("sitting", &sitting), ("seb_keys", "not-a-key")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("SEB 配置密钥：第1行应为64位十六进制字符"));
    assert!(delivery::seb_keys(&app.state, day.sitting).await.unwrap().is_empty(), "a refused key saves nothing");
    let key = "ab".repeat(32);
    assert_eq!(post(&officer, &app, "/sittings/seb", &csrf, &[("sitting", &sitting), ("seb_keys", &key)]).await.status(), 303);
    assert!(officer.get(app.url("/sittings")).send().await.unwrap().text().await.unwrap().contains("须使用（1个配置）"));

    let (proctor, _) = app.login("t.proctor").await;
    proctor.get(app.url(&format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting))).send().await.unwrap();
    let code = store::room_session(db, day.sitting, day.room).await.unwrap().unwrap().access_code;
    let (ticket, id) = day.candidates[0].clone();
    // An ordinary browser is refused at login.
    let refused = seat_login(&app, &ticket, &id, &code).await.unwrap_err();
    assert_eq!(refused.0, 409);
    assert!(refused.1.contains("安全考试浏览器（Safe Exam Browser）"));
    // SEB with the configured key logs in; the same session without the header is refused.
    let c = app.client();
    let page = c.get(app.url("/exam/login")).send().await.unwrap().text().await.unwrap();
    let form = [("csrf_token", csrf_of(&page)), ("ticket_no", ticket.clone()), ("id_number", id.clone()), ("access_code", code.clone())];
    let wrong = c.post(app.url("/exam/login")).header("x-safeexambrowser-configkeyhash", seb_hash(&app, "/exam/login", &"cd".repeat(32)));
    assert_eq!(wrong.form(&form).send().await.unwrap().status(), 409, "another configuration's key");
    let r = c
        .post(app.url("/exam/login"))
        .header("x-safeexambrowser-configkeyhash", seb_hash(&app, "/exam/login", &key))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get(app.url("/exam/api/state")).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let r = c
        .get(app.url("/exam/api/state"))
        .header("x-safeexambrowser-configkeyhash", seb_hash(&app, "/exam/api/state", &key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The hash binds the address: one taken from another page does not fit.
    let r = c
        .get(app.url("/exam/api/state"))
        .header("x-safeexambrowser-configkeyhash", seb_hash(&app, "/exam/api/paper", &key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    app.cleanup().await;
}

#[tokio::test]
async fn logins_at_the_same_moment_are_each_audited_on_one_unbroken_chain() {
    let app = TestApp::spawn().await;
    let day = exam_day(&app).await;
    let db = app.state.store().conn();
    let (proctor, _) = app.login("t.proctor").await;
    let console = format!("/proctor/rooms/{}?sitting={}", day.room, day.sitting);
    assert_eq!(proctor.get(app.url(&console)).send().await.unwrap().status(), 200);
    let code = store::room_session(db, day.sitting, day.room).await.unwrap().unwrap().access_code;
    let before = gongkao_storage::audit::head_seq(db).await.unwrap();

    // Every candidate logs in twice at once (a second tab): six logins that the writer takes in
    // as few commits as they arrive in, with their audit entries appended together.
    let c = &day.candidates;
    assert_eq!(c.len(), 3);
    let login = |k: usize| seat_login(&app, &c[k].0, &c[k].1, &code);
    let (a, b, d, e, f, g) = tokio::join!(login(0), login(1), login(2), login(0), login(1), login(2));
    for r in [a, b, d, e, f, g] {
        assert!(r.is_ok(), "{:?}", r.err());
    }

    let entries = gongkao_storage::audit::all(db, &Default::default(), 10_000).await.unwrap();
    let logins: Vec<_> = entries.iter().filter(|e| e.seq > before && e.action == "exam.login").collect();
    assert_eq!(logins.len(), 2 * day.candidates.len());
    assert!(gongkao_storage::audit::verify(app.state.store()).await.unwrap().is_ok(), "the audit chain must stay unbroken");
    app.cleanup().await;
}
