//! The exam officer's test centres (考点), rooms (考场), sittings (场次) and seating (编排考场).
//! The officer works for their own agency; centres and rooms are checked against the policy's
//! scope by the route's target.
use std::collections::HashMap;

use gongkao_domain::campaign::{Level, LocalDateKind, format_date, shanghai_datetime, to_shanghai};
use gongkao_domain::exam::Subject;
use gongkao_domain::exam::seating::{self, Room, Seat, SeatingCandidate, SeatingError, Sitting, form_number};
use gongkao_domain::exam::sitting::{local_dates_fit, validate_sitting};
use gongkao_domain::exam::ticket::format_ticket_number;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::exam_sites::{self as store, NewAssignment, NewCentre, NewRoom, NewSitting};
use gongkao_storage::{StoreError, audit, campaigns as store_campaigns};
use time::{Date, Time};

use super::{Actor, form_value};
use crate::AppState;
use crate::error::{AppError, AppResult};

fn text(errors: &mut FieldErrors, pairs: &[(String, String)], key: &str, label: &str, max: usize, required: bool) -> String {
    let v = form_value(pairs, key);
    if required && v.is_empty() {
        errors.push(key, format!("{label}：请填写"));
    } else if v.chars().count() > max {
        errors.push(key, format!("{label}：不超过{max}个字"));
    }
    v.to_owned()
}

fn integer(errors: &mut FieldErrors, pairs: &[(String, String)], key: &str, label: &str, range: std::ops::RangeInclusive<i32>) -> i32 {
    match form_value(pairs, key).parse::<i32>() {
        Ok(n) if range.contains(&n) => n,
        _ => {
            errors.push(key, format!("{label}：应为{}至{}的整数", range.start(), range.end()));
            0
        }
    }
}

fn duplicate(field: &str, message: String) -> impl FnOnce(StoreError) -> AppError {
    let field = field.to_owned();
    move |e| match e {
        StoreError::Duplicate(_) => AppError::field(&field, message),
        other => other.into(),
    }
}

pub async fn add_centre(state: &AppState, actor: &Actor, agency_code: &str, pairs: &[(String, String)]) -> AppResult<i64> {
    let mut errors = FieldErrors::new();
    let number = integer(&mut errors, pairs, "number", "考点编号", 1..=99);
    let name = text(&mut errors, pairs, "name", "考点名称", 60, true);
    let address = text(&mut errors, pairs, "address", "考点地址", 120, true);
    let contact = text(&mut errors, pairs, "contact", "联系人", 20, true);
    let phone = text(&mut errors, pairs, "phone", "联系电话", 20, true);
    if !phone.is_empty() && !phone.chars().all(|c| c.is_ascii_digit() || c == '-') {
        errors.push("phone", "联系电话：只能包含数字和“-”");
    }
    errors.into_result().map_err(AppError::Invalid)?;
    let (campaign, _) = super::campaigns::current(state).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    let c = NewCentre {
        campaign_id: campaign.id,
        agency_code,
        number,
        name: &name,
        address: &address,
        contact: &contact,
        phone: &phone,
        by: &actor.username,
    };
    let id = store::insert_centre(tx.conn(), c, now)
        .await
        .map_err(duplicate("number", format!("考点编号：本机构已有编号为 {number:02} 的考点")))?;
    audit::append(&tx, now, actor.record("exam.centre.create", format!("test_centre:{id}"), format!("{number:02} {name}"))).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn add_room(state: &AppState, actor: &Actor, centre_id: i64, pairs: &[(String, String)]) -> AppResult<i64> {
    let mut errors = FieldErrors::new();
    let number = integer(&mut errors, pairs, "number", "考场编号", 1..=999);
    let name = text(&mut errors, pairs, "name", "考场名称", 40, false);
    // Seat numbers are two digits of the ticket number.
    let seats = integer(&mut errors, pairs, "seat_count", "座位数", 1..=99);
    let spare = integer(&mut errors, pairs, "spare_seats", "备用座位数", 0..=20);
    if seats > 0 && spare >= seats {
        errors.push("spare_seats", "备用座位数：应少于座位数");
    }
    errors.into_result().map_err(AppError::Invalid)?;
    let centre = store::centre(state.store().conn(), centre_id).await?.ok_or(AppError::NotFound)?;
    let name = if name.is_empty() { format!("第{number}考场") } else { name };
    let now = state.now();
    let tx = state.store().write().await?;
    let r = NewRoom { centre_id, number, name: &name, seat_count: seats, spare_seats: spare };
    let id = store::insert_room(tx.conn(), r, now)
        .await
        .map_err(duplicate("number", format!("考场编号：{}已有编号为 {number:03} 的考场", centre.name)))?;
    audit::append(
        &tx,
        now,
        actor.record("exam.room.create", format!("exam_room:{id}"), format!("{} {name}，{seats}座（备用{spare}）", centre.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// The agency's own exam days, if it set them and they still fit the province window.
async fn local_exam_dates(state: &AppState, campaign_id: i64, agency_code: &str) -> AppResult<Option<(Date, Date)>> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let rows = store_campaigns::local_dates(state.store().conn(), campaign_id).await?;
    Ok(rows
        .into_iter()
        .find(|r| r.agency_code == agency_code && r.kind == LocalDateKind::Exam.as_str())
        .and_then(|r| Some((Date::parse(&r.starts_on, fmt).ok()?, Date::parse(&r.ends_on, fmt).ok()?))))
}

pub async fn add_sitting(state: &AppState, actor: &Actor, agency_code: &str, pairs: &[(String, String)]) -> AppResult<i64> {
    let mut errors = FieldErrors::new();
    let subject = Subject::parse(form_value(pairs, "subject"));
    if subject.is_none() {
        errors.push("subject", "科目：请选择科目");
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(form_value(pairs, "date"), fmt).ok();
    if date.is_none() {
        errors.push("date", "考试日期：请按 年-月-日 填写，例如 2020-07-18");
    }
    let starts = parse_time(form_value(pairs, "starts_at"));
    if starts.is_none() {
        errors.push("starts_at", "开始时间：请按 时:分 填写，例如 09:00");
    }
    let ends = parse_time(form_value(pairs, "ends_at"));
    if ends.is_none() {
        errors.push("ends_at", "结束时间：请按 时:分 填写，例如 10:30");
    }
    let (Some(subject), Some(date), Some(starts), Some(ends)) = (subject, date, starts, ends) else {
        return Err(AppError::Invalid(errors));
    };
    let (campaign, schedule) = super::campaigns::current(state).await?;
    let local = local_exam_dates(state, campaign.id, agency_code).await?.filter(|(a, b)| local_dates_fit(&schedule, *a, *b));
    validate_sitting(&schedule, local, subject, date, starts, ends).map_err(AppError::Invalid)?;
    let starts_at = shanghai_datetime(date, starts.hour(), starts.minute());
    let ends_at = shanghai_datetime(date, ends.hour(), ends.minute());
    // Sittings of one agency share its rooms, so they may not overlap.
    for s in store::sittings(state.store().conn(), campaign.id, agency_code).await? {
        let (a, b) = (gongkao_storage::from_ms(s.starts_at), gongkao_storage::from_ms(s.ends_at));
        if starts_at < b && a < ends_at {
            return Err(AppError::field(
                "starts_at",
                format!("开始时间：与已有场次（{}）时间重叠，同一机构的场次共用考场", sitting_label(&s)),
            ));
        }
    }
    let now = state.now();
    let tx = state.store().write().await?;
    let date_text = format_date(date);
    let new = NewSitting {
        campaign_id: campaign.id,
        agency_code,
        subject: subject.as_str(),
        exam_date: &date_text,
        starts_at,
        ends_at,
        by: &actor.username,
    };
    let id = store::insert_sitting(tx.conn(), new, now).await?;
    audit::append(
        &tx,
        now,
        actor.record(
            "exam.sitting.create",
            format!("sitting:{id}"),
            format!("{} {date_text} {}—{}", subject.label(), hm(starts_at), hm(ends_at)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A sitting as staff name it: subject, date and time, e.g. "岗位技能 2020-07-18 09:00—10:30".
pub fn sitting_label(s: &store::SittingRow) -> String {
    let subject = Subject::parse(&s.subject).map_or("", Subject::label);
    let (a, b) = (gongkao_storage::from_ms(s.starts_at), gongkao_storage::from_ms(s.ends_at));
    format!("{subject} {} {}—{}", s.exam_date, hm(a), hm(b))
}

pub fn hm(t: time::OffsetDateTime) -> String {
    let l = to_shanghai(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// What seating produced.
pub struct SeatingOutcome {
    pub candidates: usize,
    pub assignments: usize,
    pub split: usize,
    /// Seats whose sitting's blueprint has no assembled form yet.
    pub without_form: usize,
}

/// How many parallel forms each blueprint has, by (subject, level, work type or "" when the
/// subject is shared by all work types).
async fn form_counts(state: &AppState) -> AppResult<HashMap<(String, i32, String), u32>> {
    let db = state.store().conn();
    let mut counts = HashMap::new();
    for b in gongkao_storage::papers::blueprints(db).await? {
        let n = u32::try_from(gongkao_storage::papers::forms(db, b.id).await?.len()).unwrap_or(0);
        counts.insert((b.subject, b.level, b.work_type), n);
    }
    Ok(counts)
}

/// The parallel form for a candidate of this level and work type on this seat.
fn form_for(
    counts: &HashMap<(String, i32, String), u32>,
    subject: Option<Subject>,
    level: i32,
    work_type: &str,
    room_number: i32,
    seat: i32,
) -> Option<i32> {
    let subject = subject?;
    let work_type = if subject.per_work_type() { work_type.to_owned() } else { String::new() };
    let forms = *counts.get(&(subject.as_str().to_owned(), level, work_type))?;
    form_number(u32::try_from(room_number).ok()?, u32::try_from(seat).ok()?, forms).and_then(|f| i32::try_from(f).ok())
}

/// Seats every admitted candidate of the agency (replacing the previous plan) in one
/// transaction: all or nothing.
pub async fn run_seating(state: &AppState, actor: &Actor, agency_code: &str) -> AppResult<SeatingOutcome> {
    let (campaign, _) = super::campaigns::current(state).await?;
    let db = state.store().conn();
    let printed = gongkao_storage::tickets::printed_count(db, campaign.id, agency_code).await?;
    if printed > 0 {
        return Err(AppError::Conflict(format!(
            "已有 {printed} 名考生的准考证打印过，不能再整体重新编排（会改变他们的考场座位）；请用“调整座位”逐个调整，调整后系统会短信通知考生"
        )));
    }
    let admitted = store::admitted(db, campaign.id, agency_code).await?;
    if admitted.is_empty() {
        return Err(AppError::Conflict("本机构还没有准予参加考核的人员（审核通过并已缴费），无需编排".to_owned()));
    }
    let own_agency = [agency_code.to_owned()];
    let centres = store::centres(db, campaign.id, Some(&own_agency)).await?;
    let centre_by_id: HashMap<i64, &store::Centre> = centres.iter().map(|c| (c.id, c)).collect();
    let rooms = store::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    if rooms.is_empty() {
        return Err(AppError::Conflict("请先设置考点和考场".to_owned()));
    }
    let sitting_rows = store::sittings(db, campaign.id, agency_code).await?;
    if sitting_rows.is_empty() {
        return Err(AppError::Conflict("请先设置考试场次".to_owned()));
    }
    let candidates: Vec<SeatingCandidate> = admitted
        .iter()
        .filter_map(|(id, unit, work_type, level)| {
            let level = u8::try_from(*level).ok().and_then(Level::from_number)?;
            Some(SeatingCandidate {
                candidate_id: *id,
                unit_id: unit.unwrap_or(0),
                work_type: work_type.clone(),
                level,
                subjects: Subject::computer_based_for(level.number()).to_vec(),
            })
        })
        .collect();
    let domain_rooms: Vec<Room> = rooms
        .iter()
        .map(|r| Room {
            room_id: r.id,
            centre_id: r.centre_id,
            seats: (1..=r.seat_count)
                .map(|n| Seat { number: u32::try_from(n).unwrap_or(0), spare: n > r.seat_count - r.spare_seats })
                .collect(),
        })
        .collect();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let mut sittings = Vec::new();
    let mut slot_of_day: HashMap<String, u8> = HashMap::new();
    for s in &sitting_rows {
        let (Some(subject), Ok(date)) = (Subject::parse(&s.subject), Date::parse(&s.exam_date, fmt)) else { continue };
        let slot = slot_of_day.entry(s.exam_date.clone()).or_insert(0);
        *slot += 1;
        sittings.push(Sitting { sitting_id: s.id, subject, date, slot: *slot });
    }
    let plan = seating::seat_candidates(&candidates, &domain_rooms, &sittings).map_err(|e| match e {
        SeatingError::Invalid(f) => AppError::Invalid(f),
        SeatingError::Capacity(shortages) => AppError::Conflict(format!(
            "座位不足，请增加考场或场次：{}",
            shortages.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("；")
        )),
    })?;
    // One ticket number per candidate: the room and seat of their first sitting.
    let room_by_id: HashMap<i64, &store::Room> = rooms.iter().map(|r| (r.id, r)).collect();
    let order: HashMap<i64, usize> = sitting_rows.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut first: HashMap<i64, (usize, i64, u32)> = HashMap::new();
    for a in &plan.assignments {
        let rank = order.get(&a.sitting_id).copied().unwrap_or(usize::MAX);
        let e = first.entry(a.candidate_id).or_insert((rank, a.room_id, a.seat));
        if rank < e.0 {
            *e = (rank, a.room_id, a.seat);
        }
    }
    let year = u32::try_from(campaign.year).unwrap_or(0);
    let mut tickets: HashMap<i64, String> = HashMap::new();
    let mut taken: HashMap<String, i64> = HashMap::new();
    for (candidate, (_, room_id, seat)) in &first {
        let room = room_by_id.get(room_id).ok_or_else(|| AppError::Internal("room".to_owned()))?;
        let centre = centre_by_id.get(&room.centre_id).ok_or_else(|| AppError::Internal("centre".to_owned()))?;
        let no = format_ticket_number(
            year,
            agency_code,
            u32::try_from(centre.number).unwrap_or(0),
            u32::try_from(room.number).unwrap_or(0),
            *seat,
        )
        .map_err(|e| AppError::Conflict(format!("准考证号无法生成：{e}")))?;
        if taken.insert(no.clone(), *candidate).is_some() {
            return Err(AppError::Conflict(format!(
                "准考证号 {no} 会重复：同一考场座位在不同日期安排了不同考生。请为每个考试日使用不同编号的考场，或把场次安排在同一天"
            )));
        }
        tickets.insert(*candidate, no);
    }
    let counts = form_counts(state).await?;
    let who: HashMap<i64, (i32, &str)> = admitted.iter().map(|(id, _, work_type, level)| (*id, (*level, work_type.as_str()))).collect();
    let subject_of: HashMap<i64, Option<Subject>> = sitting_rows.iter().map(|s| (s.id, Subject::parse(&s.subject))).collect();
    let rows: Vec<NewAssignment> = plan
        .assignments
        .iter()
        .map(|a| {
            let seat = i32::try_from(a.seat).unwrap_or(0);
            let (level, work_type) = who.get(&a.candidate_id).copied().unwrap_or((0, ""));
            let room_number = room_by_id.get(&a.room_id).map_or(0, |r| r.number);
            let subject = subject_of.get(&a.sitting_id).copied().flatten();
            NewAssignment {
                application_id: a.candidate_id,
                sitting_id: a.sitting_id,
                room_id: a.room_id,
                seat,
                ticket_no: tickets.get(&a.candidate_id).cloned().unwrap_or_default(),
                form_number: form_for(&counts, subject, level, work_type, room_number, seat),
            }
        })
        .collect();
    let outcome = SeatingOutcome {
        candidates: candidates.len(),
        assignments: rows.len(),
        split: plan.split.len(),
        without_form: rows.iter().filter(|r| r.form_number.is_none()).count(),
    };
    let now = state.now();
    let tx = state.store().write().await?;
    store::replace_plan(tx.conn(), campaign.id, agency_code, rows, now).await?;
    audit::append(
        &tx,
        now,
        actor.record(
            "exam.seating",
            format!("agency:{agency_code}"),
            format!(
                "编排考生{}人，共{}个科目座位，{}人的科目不在同一考场，{}个科目座位尚无试卷",
                outcome.candidates, outcome.assignments, outcome.split, outcome.without_form
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// What a seat move did.
pub struct SeatMove {
    pub application_id: i64,
    pub moved: usize,
    /// The candidate had printed the ticket (or the agency had) and was sent a message.
    pub notified: bool,
}

/// Moves one candidate, in one sitting or in all of theirs, to another room and seat (the
/// exam officer's adjustment after automatic seating; spare seats may be used). The ticket
/// number stays: it may already be printed. When the ticket was printed the candidate is told
/// by SMS to print it again; every move is audited with its reason.
pub async fn move_seat(state: &AppState, actor: &Actor, agency_code: &str, pairs: &[(String, String)]) -> AppResult<SeatMove> {
    let mut errors = FieldErrors::new();
    let ticket_no = form_value(pairs, "ticket_no").to_owned();
    if ticket_no.is_empty() {
        errors.push("ticket_no", "准考证号：请填写");
    }
    let reason = text(&mut errors, pairs, "reason", "调整原因", 100, true);
    let seat = integer(&mut errors, pairs, "seat", "座位号", 1..=99);
    let room_id: Option<i64> = form_value(pairs, "room_id").parse().ok();
    if room_id.is_none() {
        errors.push("room_id", "考场：请选择考场");
    }
    let (campaign, _) = super::campaigns::current(state).await?;
    let db = state.store().conn();
    let held = if ticket_no.is_empty() { Vec::new() } else { store::seats_by_ticket(db, campaign.id, agency_code, &ticket_no).await? };
    if !ticket_no.is_empty() && held.is_empty() {
        errors.push("ticket_no", format!("准考证号：本机构没有准考证号为 {ticket_no} 的考生"));
    }
    let sitting = form_value(pairs, "sitting");
    let chosen: Vec<store::SeatAssignment> = if sitting == "all" || sitting.is_empty() {
        held.clone()
    } else {
        let id: Option<i64> = sitting.parse().ok();
        let found: Vec<_> = held.iter().filter(|a| Some(a.sitting_id) == id).cloned().collect();
        if found.is_empty() && !held.is_empty() {
            errors.push("sitting", "场次：该考生没有安排这一场次");
        }
        found
    };
    let centres = store::centres(db, campaign.id, Some(&[agency_code.to_owned()])).await?;
    let rooms = store::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let room = room_id.and_then(|id| rooms.iter().find(|r| r.id == id));
    if room_id.is_some() && room.is_none() {
        errors.push("room_id", "考场：请选择本机构的考场");
    }
    if let Some(room) = room
        && seat > room.seat_count
    {
        errors.push("seat", format!("座位号：{}只有 {} 个座位（含备用）", room.name, room.seat_count));
    }
    errors.into_result().map_err(AppError::Invalid)?;
    let room = room.ok_or(AppError::NotFound)?;
    let sittings: HashMap<i64, store::SittingRow> =
        store::sittings(db, campaign.id, agency_code).await?.into_iter().map(|s| (s.id, s)).collect();
    let label = |sitting_id: i64| sittings.get(&sitting_id).map(sitting_label).unwrap_or_default();
    let mut to_move = Vec::new();
    for a in chosen {
        if a.room_id == room.id && a.seat == seat {
            continue;
        }
        if let Some(other) = store::seat_holder(db, a.sitting_id, room.id, seat).await? {
            return Err(AppError::field(
                "seat",
                format!("座位号：{}第{seat:02}座在“{}”已安排考生 {}，请选择空座位", room.name, label(a.sitting_id), other.ticket_no),
            ));
        }
        to_move.push(a);
    }
    if to_move.is_empty() {
        return Err(AppError::field("seat", "座位号：该考生已在这个座位，无需调整"));
    }
    let application_id = to_move[0].application_id;
    let printed = gongkao_storage::tickets::printed(db, application_id).await?.is_some();
    let centre = centres.iter().find(|c| c.id == room.centre_id).map(|c| c.name.clone()).unwrap_or_default();
    let where_now = format!("{centre} {} 第{seat:02}座", room.name);
    let subjects: Vec<String> = to_move.iter().map(|a| label(a.sitting_id)).collect();
    let counts = form_counts(state).await?;
    let app = gongkao_storage::applications::get(db, application_id).await?.ok_or(AppError::NotFound)?;
    let now = state.now();
    let tx = state.store().write().await?;
    for a in &to_move {
        let subject = sittings.get(&a.sitting_id).and_then(|s| Subject::parse(&s.subject));
        let form = form_for(&counts, subject, app.target_level, &app.work_type, room.number, seat);
        store::move_assignment(tx.conn(), a, room.id, seat, form, now).await.map_err(|e| match e {
            StoreError::Duplicate(_) => AppError::Conflict("该座位刚被他人安排，请刷新后重新选择".to_owned()),
            StoreError::Conflict => AppError::Conflict("该考生的座位已被他人调整，请刷新".to_owned()),
            other => other.into(),
        })?;
    }
    audit::append(
        &tx,
        now,
        actor.record(
            "exam.seat.move",
            format!("application:{application_id}"),
            format!(
                "准考证 {ticket_no}：{} 调至 {where_now}；原因：{reason}{}",
                subjects.join("、"),
                if printed { "；准考证已打印，已短信通知考生" } else { "" }
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    if printed && let Some(person) = gongkao_storage::units::applicant(db, app.applicant_id).await? {
        state.sender().send(crate::sender::OutboundMessage {
            at: now,
            channel: "sms",
            to: person.mobile,
            body: format!(
                "【河南工考】{}：您的考场座位已调整，{} 改在 {where_now}。请重新打印准考证，以新准考证为准。",
                person.name,
                subjects.join("、")
            ),
        });
    }
    Ok(SeatMove { application_id, moved: to_move.len(), notified: printed })
}
