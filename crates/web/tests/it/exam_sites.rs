//! The exam officer through HTTP: test centres and rooms, sittings inside the window, and
//! seating the admitted candidates with ticket numbers; bad input and short capacity refused
//! with nothing written.
use std::collections::HashSet;

use gongkao_storage::applications;
use gongkao_storage::exam_sites as store;

use crate::kit::{Candidate, TestApp, candidate, post};

/// An admitted level-3 candidate of `unit`.
async fn admitted(app: &TestApp, unit: i64, n: u32, work_type: &str) -> i64 {
    let c = Candidate {
        unit,
        id_number: format!("41010519800101{n:04}"),
        name: format!("考生{n}"),
        mobile: format!("1390000{n:04}"),
        work_type,
        level: 3,
        admit: true,
    };
    candidate(app, c).await
}

#[tokio::test]
async fn centres_rooms_and_sittings_are_checked_and_seating_places_everyone() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.examofficer").await;
    let db = app.state.store().conn();

    // Bad centre input: every field named, nothing saved.
    let r =
        post(&c, &app, "/exam-sites", &csrf, &[("number", "0"), ("name", ""), ("address", ""), ("contact", ""), ("phone", "abc")]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    for m in ["考点编号：应为1至99的整数", "考点名称：请填写", "考点地址：请填写", "联系电话：只能包含数字"]
    {
        assert!(body.contains(m), "{m}");
    }
    let centre =
        [("number", "1"), ("name", "郑州市第一考点"), ("address", "郑州市金水路1号"), ("contact", "李老师"), ("phone", "0371-6000000")];
    let dup = post(&c, &app, "/exam-sites", &csrf, &centre).await;
    assert_eq!(dup.status(), 422, "the kit already has centre 01 in 郑州");
    assert!(dup.text().await.unwrap().contains("已有编号为 01 的考点"));
    let mut second = centre;
    second[0] = ("number", "2");
    assert_eq!(post(&c, &app, "/exam-sites", &csrf, &second).await.status(), 303);
    let campaign = gongkao_storage::campaigns::current(db).await.unwrap().unwrap();
    let own = ["410100".to_owned()];
    let centres = store::centres(db, campaign.id, Some(&own)).await.unwrap();
    assert_eq!(centres.len(), 2);
    let centre_id = centres.iter().find(|c| c.number == 2).unwrap().id;

    // Rooms: the spare seats must leave seats; another city's centre is out of reach.
    let r = post(&c, &app, &format!("/exam-sites/{centre_id}/rooms"), &csrf, &[("number", "1"), ("seat_count", "5"), ("spare_seats", "5")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("备用座位数：应少于座位数"));
    let other = post(
        &c,
        &app,
        &format!("/exam-sites/{}/rooms", app.centre_b),
        &csrf,
        &[("number", "1"), ("seat_count", "30"), ("spare_seats", "2")],
    )
    .await;
    assert_eq!(other.status(), 403);
    let r = post(&c, &app, &format!("/exam-sites/{centre_id}/rooms"), &csrf, &[("number", "1"), ("seat_count", "5"), ("spare_seats", "2")])
        .await;
    assert_eq!(r.status(), 303);

    // Sittings: inside the province window, not overlapping.
    let r = post(
        &c,
        &app,
        "/sittings",
        &csrf,
        &[("subject", "post_skills"), ("date", "2020-06-01"), ("starts_at", "09:00"), ("ends_at", "10:30")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("不在全省五级至二级人机对话考试时段"));
    for (subject, from, to) in [("post_skills", "09:00", "10:30"), ("ethics", "11:00", "12:30"), ("competence", "14:30", "16:00")] {
        let r =
            post(&c, &app, "/sittings", &csrf, &[("subject", subject), ("date", "2020-07-18"), ("starts_at", from), ("ends_at", to)]).await;
        assert_eq!(r.status(), 303, "{subject}");
    }
    let r =
        post(&c, &app, "/sittings", &csrf, &[("subject", "ethics"), ("date", "2020-07-18"), ("starts_at", "10:00"), ("ends_at", "11:30")])
            .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("时间重叠"));

    // Five candidates, three usable seats: refused, nothing written.
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(admitted(&app, app.unit_a, 100 + n, if n % 2 == 0 { "护理员" } else { "汽车驾驶员" }).await);
    }
    let r = post(&c, &app, "/seating", &csrf, &[]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("座位不足"));
    assert_eq!(store::plan_page(db, campaign.id, "410100", 0, 100).await.unwrap().1, 0);

    // A second room: everyone is seated, three subjects each, no seat taken twice, spares free.
    let r =
        post(&c, &app, &format!("/exam-sites/{centre_id}/rooms"), &csrf, &[("number", "2"), ("seat_count", "30"), ("spare_seats", "2")])
            .await;
    assert_eq!(r.status(), 303);
    let r = post(&c, &app, "/seating", &csrf, &[]).await;
    assert_eq!(r.status(), 303);
    let done = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(done.contains("unformed=15"), "{done}");
    let (plan, total) = store::plan_page(db, campaign.id, "410100", 0, 100).await.unwrap();
    assert_eq!(total, 15);
    let mut seats = HashSet::new();
    let mut tickets = HashSet::new();
    for a in &plan {
        assert!(seats.insert((a.sitting_id, a.room_id, a.seat)), "seat taken twice");
        let room = store::room(db, a.room_id).await.unwrap().unwrap();
        assert!(a.seat <= room.seat_count - room.spare_seats, "a spare seat was used");
        assert_eq!(a.ticket_no.len(), 17);
        assert!(a.ticket_no.starts_with("2020410100"), "{}", a.ticket_no);
        tickets.insert((a.application_id, a.ticket_no.clone()));
    }
    assert_eq!(tickets.len(), 5, "one ticket number per candidate");
    for id in &ids {
        assert_eq!(store::seats_of(db, *id).await.unwrap().len(), 3);
    }
    let page = c.get(app.url("/seating")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("考生100") && page.contains("岗位技能"));
    assert!(plan.iter().all(|a| a.form_number.is_none()), "no blueprint has forms yet");
    let said = c.get(app.url(&done)).send().await.unwrap().text().await.unwrap();
    assert!(said.contains("有 15 个科目座位的试卷蓝图尚未组卷"), "the officer is told");

    // Running it again replaces the plan rather than adding to it; the ethics blueprint of
    // level 3 now has three forms, so its seats get forms, neighbours different ones.
    let now = app.state.now();
    let blueprint = gongkao_storage::papers::save_blueprint(db, "ethics", 3, "", "{}", "kit", now).await.unwrap();
    let form =
        |number: i32| gongkao_storage::papers::NewForm { number, seed: "1".into(), items: "[]".into(), item_count: 0, total_tenths: 0 };
    gongkao_storage::papers::replace_forms(db, blueprint, vec![form(1), form(2), form(3)], "kit", now).await.unwrap();
    assert_eq!(post(&c, &app, "/seating", &csrf, &[]).await.status(), 303);
    let (plan, total) = store::plan_page(db, campaign.id, "410100", 0, 100).await.unwrap();
    assert_eq!(total, 15);
    let ethics = store::sittings(db, campaign.id, "410100").await.unwrap().into_iter().find(|s| s.subject == "ethics").unwrap().id;
    let mut ethics_seats: Vec<_> = plan.iter().filter(|a| a.sitting_id == ethics).collect();
    ethics_seats.sort_by_key(|a| (a.room_id, a.seat));
    assert_eq!(ethics_seats.len(), 5);
    assert!(ethics_seats.iter().all(|a| a.form_number.is_some_and(|f| (1..=3).contains(&f))));
    for pair in ethics_seats.windows(2) {
        if pair[0].room_id == pair[1].room_id && pair[1].seat == pair[0].seat + 1 {
            assert_ne!(pair[0].form_number, pair[1].form_number, "neighbours share a form");
        }
    }
    assert!(plan.iter().filter(|a| a.sitting_id != ethics).all(|a| a.form_number.is_none()));
    app.cleanup().await;
}

/// The candidate prints their ticket inside the window only; the PDF carries their seats and a
/// QR payload the server's key verifies; the officer prints the centre's tickets in one PDF.
#[tokio::test]
async fn admission_tickets_print_in_their_window_with_a_signed_qr() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let (c, csrf) = app.login("t.examofficer").await;
    let now = app.state.now();
    applications::transition(db, app.application_a, "draft", "admitted", now, true, true).await.unwrap();
    admitted(&app, app.unit_a, 200, "护理员").await;
    let room = [("number", "1"), ("seat_count", "30"), ("spare_seats", "2")];
    assert_eq!(post(&c, &app, &format!("/exam-sites/{}/rooms", app.centre_a), &csrf, &room).await.status(), 303);
    for (subject, from, to) in [("post_skills", "09:00", "10:30"), ("ethics", "11:00", "12:30"), ("competence", "14:30", "16:00")] {
        let r =
            post(&c, &app, "/sittings", &csrf, &[("subject", subject), ("date", "2020-07-18"), ("starts_at", from), ("ends_at", to)]).await;
        assert_eq!(r.status(), 303);
    }
    let (applicant, _) = app.login("t.applicant").await;
    let none = applicant.get(app.url("/application/ticket.pdf")).send().await.unwrap();
    assert_eq!(none.status(), 409);
    assert!(none.text().await.unwrap().contains("考务编排尚未完成"));
    assert_eq!(post(&c, &app, "/seating", &csrf, &[]).await.status(), 303);

    let early = applicant.get(app.url("/application/ticket.pdf")).send().await.unwrap();
    assert_eq!(early.status(), 409);
    assert!(early.text().await.unwrap().contains("准考证打印时间为 2020-07-11 09:00 至 2020-07-18 16:00"));
    app.clock.set(gongkao_domain::campaign::shanghai_datetime(time::macros::date!(2020 - 07 - 15), 10, 0));
    // Three months later the sessions have expired: sign in again.
    let (applicant, _) = app.login("t.applicant").await;
    let (c, _) = app.login("t.examofficer").await;
    let r = applicant.get(app.url("/application/ticket.pdf")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap().to_vec();
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    let seats = store::seats_of(db, app.application_a).await.unwrap();
    assert_eq!(seats.len(), 3);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains(&seats[0].ticket_no), "ticket number printed");
    for needle in ["准考证", "岗位技能", "职业道德", "职业能力", "2020-07-18", "测试路1号", "测试考点"] {
        assert!(compact.contains(needle), "{needle} missing from the ticket");
    }
    let payload = gongkao_web::services::tickets::qr_payload(&app.state, &seats[0].ticket_no, app.application_a);
    assert_eq!(gongkao_web::services::tickets::verify_qr(&app.state, &payload), Some((seats[0].ticket_no.clone(), app.application_a)));
    let forged = payload.replace(&format!("|{}|", app.application_a), "|999|");
    assert_eq!(gongkao_web::services::tickets::verify_qr(&app.state, &forged), None, "a changed payload fails its tag");

    let batch = c.get(app.url(&format!("/exam-sites/{}/tickets.pdf", app.centre_a))).send().await.unwrap();
    assert_eq!(batch.status(), 200);
    let text: String =
        pdf_extract::extract_text_from_mem(&batch.bytes().await.unwrap()).unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    let (plan, _) = store::plan_page(db, 1, "410100", 0, 100).await.unwrap();
    let tickets: HashSet<String> = plan.into_iter().map(|a| a.ticket_no).collect();
    assert_eq!(tickets.len(), 2);
    for t in &tickets {
        assert_eq!(text.matches(t.as_str()).count(), 1, "one page per candidate, {t} once");
    }
    let other = c.get(app.url(&format!("/exam-sites/{}/tickets.pdf", app.centre_b))).send().await.unwrap();
    assert_eq!(other.status(), 403);

    // The same batch as a background job: queued, run by a worker with progress, downloaded.
    let csrf = crate::kit::csrf_of(&c.get(app.url("/exam-sites")).send().await.unwrap().text().await.unwrap());
    let r = post(&c, &app, &format!("/exam-sites/{}/tickets", app.centre_a), &csrf, &[]).await;
    assert_eq!(r.status(), 303);
    let workers = gongkao_web::jobs::spawn_workers(&app.state, gongkao_web::jobs::Registry::standard(), 1);
    let job = gongkao_storage::jobs::list_for_owner(db, "t.examofficer", 10).await.unwrap().into_iter().next().unwrap();
    let mut done = None;
    for _ in 0..600 {
        let j = gongkao_storage::jobs::get(db, job.id).await.unwrap().unwrap();
        if j.status == "succeeded" || j.status == "failed" {
            done = Some(j);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let done = done.expect("the ticket job finished");
    assert_eq!(done.status, "succeeded", "{:?}", done.error);
    assert_eq!(done.progress_done, done.progress_total);
    let r = c.get(app.url(&format!("/jobs/{}/result", job.id))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text: String =
        pdf_extract::extract_text_from_mem(&r.bytes().await.unwrap()).unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    for t in &tickets {
        assert_eq!(text.matches(t.as_str()).count(), 1, "{t} in the job's PDF");
    }
    workers.shutdown(std::time::Duration::from_secs(5)).await;
    app.cleanup().await;
}

/// The agency's print window, the campaign's pledge and moving a seated candidate: each bad
/// input refused with a message naming the field and nothing changed; a move after printing
/// keeps the ticket number, tells the candidate and is audited; re-seating is refused then.
#[tokio::test]
async fn print_window_pledge_and_seat_moves() {
    let app = TestApp::spawn().await;
    let db = app.state.store().conn();
    let (c, csrf) = app.login("t.examofficer").await;
    let now = app.state.now();
    applications::transition(db, app.application_a, "draft", "admitted", now, true, true).await.unwrap();
    admitted(&app, app.unit_a, 201, "护理员").await;
    for room in
        [[("number", "1"), ("seat_count", "30"), ("spare_seats", "2")], [("number", "2"), ("seat_count", "10"), ("spare_seats", "1")]]
    {
        assert_eq!(post(&c, &app, &format!("/exam-sites/{}/rooms", app.centre_a), &csrf, &room).await.status(), 303);
    }
    for (subject, from, to) in [("post_skills", "09:00", "10:30"), ("ethics", "11:00", "12:30"), ("competence", "14:30", "16:00")] {
        let r =
            post(&c, &app, "/sittings", &csrf, &[("subject", subject), ("date", "2020-07-18"), ("starts_at", from), ("ends_at", to)]).await;
        assert_eq!(r.status(), 303);
    }
    assert_eq!(post(&c, &app, "/seating", &csrf, &[]).await.status(), 303);

    // The window: checked against the agency's sittings, nothing saved when refused.
    let r = post(&c, &app, "/seating/ticket-window", &csrf, &[("opens_at", "2020-07-18 10:00"), ("closes_at", "2020-07-19 09:00")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("打印开始时间：应早于第一场考试开始（2020-07-18 09:00）"));
    let r = post(&c, &app, "/seating/ticket-window", &csrf, &[("opens_at", "7月13日"), ("closes_at", "2020-07-18 12:00")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("打印开始时间：请按 年-月-日 时:分 填写"));
    assert!(gongkao_storage::tickets::window(db, 1, "410100").await.unwrap().is_none(), "a refused window saves nothing");
    let r = post(&c, &app, "/seating/ticket-window", &csrf, &[("opens_at", "2020-07-13 09:00"), ("closes_at", "2020-07-18 12:00")]).await;
    assert_eq!(r.status(), 303);
    let page = c.get(app.url("/seating")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("2020-07-13 09:00 至 2020-07-18 12:00"));

    // The pledge: set by the province, too long refused.
    let (prov, prov_csrf) = app.login("t.provexam").await;
    let long = "承".repeat(3001);
    let r = post(&prov, &app, "/campaign/ticket-pledge", &prov_csrf, &[("body", &long)]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("承诺书内容：不超过3000个字（现为3001个字）"));
    assert!(gongkao_storage::tickets::pledge(db, 1).await.unwrap().is_none());
    let pledge = "本人承诺：\n一、所填信息真实准确。\n二、遵守考场纪律。";
    assert_eq!(post(&prov, &app, "/campaign/ticket-pledge", &prov_csrf, &[("body", pledge)]).await.status(), 303);
    // A city's officer cannot set it.
    assert_eq!(post(&c, &app, "/campaign/ticket-pledge", &csrf, &[("body", "x")]).await.status(), 403);

    // Before the agency's window (though a week before the exam): refused with the window.
    app.clock.set(gongkao_domain::campaign::shanghai_datetime(time::macros::date!(2020 - 07 - 12), 10, 0));
    let (applicant, acsrf) = app.login("t.applicant").await;
    let r = applicant.get(app.url("/application/ticket.pdf")).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("准考证打印时间为 2020-07-13 09:00 至 2020-07-18 12:00"));

    app.clock.set(gongkao_domain::campaign::shanghai_datetime(time::macros::date!(2020 - 07 - 15), 10, 0));
    let (applicant, acsrf2) = app.login("t.applicant").await;
    let _ = acsrf;
    let r = applicant.get(app.url("/application/ticket.pdf")).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("请先在“准考证”页面阅读并签署《考生承诺书》"));
    let page = applicant.get(app.url("/application/ticket")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("二、遵守考场纪律。"));
    let sm3 = gongkao_storage::tickets::pledge(db, 1).await.unwrap().unwrap().body_sm3;
    let r = post(&applicant, &app, "/application/ticket/pledge", &acsrf2, &[("pledge_sm3", &sm3)]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("承诺：请阅读承诺书并勾选"));
    let r = post(&applicant, &app, "/application/ticket/pledge", &acsrf2, &[("pledge_sm3", "00"), ("agree", "on")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("承诺书内容已更新"));
    assert!(gongkao_storage::tickets::accepted_at(db, app.application_a, &sm3).await.unwrap().is_none(), "refusals accept nothing");
    let r = post(&applicant, &app, "/application/ticket/pledge", &acsrf2, &[("pledge_sm3", &sm3), ("agree", "on")]).await;
    assert_eq!(r.status(), 303);
    let r = applicant.get(app.url("/application/ticket.pdf")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text: String =
        pdf_extract::extract_text_from_mem(&r.bytes().await.unwrap()).unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    assert!(text.contains("在线阅读并签署《考生承诺书》"), "the ticket records the signed pledge");
    let printed = gongkao_storage::tickets::printed(db, app.application_a).await.unwrap().unwrap();
    assert_eq!(printed.prints, 1);

    // Re-seating would move a printed ticket's seats: refused, plan unchanged.
    let (c, csrf) = app.login("t.examofficer").await;
    let before = store::seats_of(db, app.application_a).await.unwrap();
    let r = post(&c, &app, "/seating", &csrf, &[]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("已有 1 名考生的准考证打印过"));
    assert_eq!(store::seats_of(db, app.application_a).await.unwrap(), before);

    // Moves: bad input refused field by field, nothing moved.
    let ticket = before[0].ticket_no.clone();
    let rooms = store::rooms_of(db, &[app.centre_a]).await.unwrap();
    let room2 = rooms.iter().find(|r| r.number == 2).unwrap().id;
    let other_room = store::insert_room(
        db,
        store::NewRoom { centre_id: app.centre_b, number: 1, name: "开封第1考场", seat_count: 30, spare_seats: 0 },
        now,
    )
    .await
    .unwrap();
    let (plan, _) = store::plan_page(db, 1, "410100", 0, 100).await.unwrap();
    let taken = plan.iter().find(|a| a.application_id != app.application_a).unwrap();
    let room2_s = room2.to_string();
    let other_s = other_room.to_string();
    let taken_room = taken.room_id.to_string();
    let taken_seat = taken.seat.to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("ticket_no", "20204101009999999"), ("room_id", &room2_s), ("seat", "5"), ("reason", "电脑故障")],
            "准考证号：本机构没有准考证号为",
        ),
        (vec![("ticket_no", &ticket), ("room_id", &other_s), ("seat", "5"), ("reason", "电脑故障")], "考场：请选择本机构的考场"),
        (vec![("ticket_no", &ticket), ("room_id", &room2_s), ("seat", "11"), ("reason", "电脑故障")], "座位号：第2考场只有 10 个座位"),
        (vec![("ticket_no", &ticket), ("room_id", &room2_s), ("seat", "5"), ("reason", "")], "调整原因：请填写"),
        (vec![("ticket_no", &ticket), ("room_id", &taken_room), ("seat", &taken_seat), ("reason", "电脑故障")], "已安排考生"),
    ];
    for (fields, message) in cases {
        let r = post(&c, &app, "/seating/move", &csrf, &fields).await;
        assert_eq!(r.status(), 422, "{message}");
        assert!(r.text().await.unwrap().contains(message), "{message}");
    }
    assert_eq!(store::seats_of(db, app.application_a).await.unwrap(), before, "refused moves change nothing");

    let r = post(
        &c,
        &app,
        "/seating/move",
        &csrf,
        &[("ticket_no", &ticket), ("sitting", "all"), ("room_id", &room2_s), ("seat", "10"), ("reason", "电脑故障")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().contains("seat_moved_notified"));
    let after = store::seats_of(db, app.application_a).await.unwrap();
    assert_eq!(after.len(), 3);
    for a in &after {
        assert_eq!((a.room_id, a.seat, a.ticket_no.as_str()), (room2, 10, ticket.as_str()), "moved to the spare seat, ticket number kept");
    }
    let told = app.state.sender().recent();
    assert!(told.iter().any(|m| m.body.contains("您的考场座位已调整") && m.body.contains("第10座")), "the candidate is told");
    let page = applicant.get(app.url("/application/ticket")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("002 第2考场") && page.contains("<td>10</td>"), "the ticket page shows the new seat");
    let audit = gongkao_storage::audit::all(db, &gongkao_storage::audit::AuditFilter::default(), 500).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "exam.seat.move" && e.summary.contains("电脑故障") && e.summary.contains("已短信通知")));
    assert!(audit.iter().any(|e| e.action == "ticket.pledge.accept"));
    assert!(audit.iter().any(|e| e.action == "ticket.window.set"));
    app.cleanup().await;
}
