//! Training classes (培训班) of the exam officer's agency: create and edit a class, enrol the
//! agency's admitted candidates (in bulk, all or none, or one by one), remove one with a reason,
//! record a day's attendance (考勤) for everyone at once, and print the sign-in sheet (签到表).
//! The rules are in `gongkao_domain::training`; the route's `TrainingClass` target has already
//! checked that the class belongs to an agency the officer covers.
//!
//! Every write bumps the class's row version first: an edit from a stale page, or two officers
//! filling the same class at once, ends in "已被他人修改，请刷新" instead of passing the capacity
//! check twice.
use std::collections::{HashMap, HashSet};

use gongkao_domain::application::ApplicationStatus;
use gongkao_domain::campaign::{Level, format_date, format_shanghai};
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::training::{
    Attendance, Candidate, ClassForm, ClassSpec, EnrolError, Mark, class_days, day_label, parse_date, refuse_one, select_for_class,
    validate_change, validate_class, validate_day_sheet, validate_reason,
};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::training::{self as store, ClassFields, Trainee, TrainingClass};
use gongkao_storage::{StoreError, applications, audit, campaigns as store_campaigns, exam_sites, units};
use time::Date;

use super::{Actor, form_value};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::sender::OutboundMessage;

/// The conflict every guarded write of a class reports.
fn stale(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict => AppError::Conflict("培训班已被他人修改，请刷新后重试".to_owned()),
        other => other.into(),
    }
}

/// A stored class as the domain sees it. Rows are only written through [`validate_class`], so
/// a row that does not convert is a bug, not user input.
pub fn spec_of(c: &TrainingClass) -> AppResult<ClassSpec> {
    let bad = || AppError::Internal(format!("training_class {} 数据无效", c.id));
    Ok(ClassSpec {
        name: c.name.clone(),
        place: c.place.clone(),
        organiser: (!c.organiser.is_empty()).then(|| c.organiser.clone()),
        level: u8::try_from(c.level).ok().and_then(Level::from_number).ok_or_else(bad)?,
        work_type: c.work_type.clone(),
        starts_on: parse_date(&c.starts_on).ok_or_else(bad)?,
        ends_on: parse_date(&c.ends_on).ok_or_else(bad)?,
        capacity: u32::try_from(c.capacity).map_err(|_| bad())?,
    })
}

fn form_of(pairs: &[(String, String)]) -> ClassForm<'_> {
    ClassForm {
        name: form_value(pairs, "name"),
        place: form_value(pairs, "place"),
        organiser: form_value(pairs, "organiser"),
        level: form_value(pairs, "level"),
        work_type: form_value(pairs, "work_type"),
        starts_on: form_value(pairs, "starts_on"),
        ends_on: form_value(pairs, "ends_on"),
        capacity: form_value(pairs, "capacity"),
    }
}

/// The work types a class may be limited to: the current campaign's catalogue.
pub async fn work_types(state: &AppState) -> AppResult<Vec<String>> {
    let (campaign, _) = super::campaigns::current(state).await?;
    Ok(store_campaigns::work_types(state.store().conn(), campaign.catalogue_id).await?)
}

async fn checked(state: &AppState, pairs: &[(String, String)]) -> AppResult<(i64, ClassSpec)> {
    let (campaign, _) = super::campaigns::current(state).await?;
    let catalogue = store_campaigns::work_types(state.store().conn(), campaign.catalogue_id).await?;
    let spec = validate_class(&form_of(pairs), campaign.year, &catalogue).map_err(AppError::Invalid)?;
    Ok((campaign.id, spec))
}

fn summary(spec: &ClassSpec) -> String {
    format!(
        "{}，{} {}，{}，{}，{}人",
        spec.name,
        spec.level.short_label(),
        spec.work_type_label(),
        spec.dates_label(),
        spec.place,
        spec.capacity
    )
}

/// Creates a class of the officer's own agency in the current campaign.
pub async fn create(state: &AppState, actor: &Actor, agency_code: &str, pairs: &[(String, String)]) -> AppResult<i64> {
    let (campaign_id, spec) = checked(state, pairs).await?;
    let (starts, ends) = (format_date(spec.starts_on), format_date(spec.ends_on));
    let fields = fields_of(&spec, &starts, &ends);
    let now = state.now();
    let tx = state.store().write().await?;
    let id = store::insert_class(tx.conn(), campaign_id, agency_code, &fields, &actor.username, now).await?;
    audit::append(&tx, now, actor.record("training.class.create", format!("training_class:{id}"), summary(&spec))).await?;
    tx.commit().await?;
    Ok(id)
}

fn fields_of<'a>(spec: &'a ClassSpec, starts: &'a str, ends: &'a str) -> ClassFields<'a> {
    ClassFields {
        name: &spec.name,
        place: &spec.place,
        organiser: spec.organiser.as_deref().unwrap_or(""),
        level: i32::from(spec.level.number()),
        work_type: spec.work_type.as_deref(),
        starts_on: starts,
        ends_on: ends,
        capacity: i32::try_from(spec.capacity).unwrap_or(i32::MAX),
    }
}

fn version_of(pairs: &[(String, String)]) -> AppResult<i32> {
    form_value(pairs, "version")
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::field("version", "版本：页面缺少版本信息，请刷新后重试"))
}

async fn load(state: &AppState, class_id: i64) -> AppResult<TrainingClass> {
    store::class(state.store().conn(), class_id).await?.ok_or(AppError::NotFound)
}

/// Edits a class at the version the form was opened with. Once people are enrolled the level
/// and work type stay, the capacity may not drop under the enrolled and the dates must keep
/// every day with attendance.
pub async fn update(state: &AppState, actor: &Actor, class_id: i64, pairs: &[(String, String)]) -> AppResult<()> {
    let version = version_of(pairs)?;
    let (_, spec) = checked(state, pairs).await?;
    let row = load(state, class_id).await?;
    let old = spec_of(&row)?;
    let db = state.store().conn();
    let enrolled = usize::try_from(store::enrolled_count(db, class_id).await?).unwrap_or(usize::MAX);
    let days: Vec<Date> = store::attendance_days(db, class_id).await?.iter().filter_map(|d| parse_date(d)).collect();
    validate_change(&old, &spec, enrolled, &days).map_err(AppError::Invalid)?;
    let (starts, ends) = (format_date(spec.starts_on), format_date(spec.ends_on));
    let now = state.now();
    let tx = state.store().write().await?;
    // The checks above read outside the transaction; the guarded update proves nothing changed
    // since the page was opened, because every enrolment and attendance moves the version too.
    store::update_class(tx.conn(), class_id, version, &fields_of(&spec, &starts, &ends), now).await.map_err(stale)?;
    audit::append(&tx, now, actor.record("training.class.update", format!("training_class:{class_id}"), summary(&spec))).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a class nobody is enrolled in, at the version the page showed.
pub async fn delete(state: &AppState, actor: &Actor, class_id: i64, pairs: &[(String, String)]) -> AppResult<()> {
    let version = version_of(pairs)?;
    let row = load(state, class_id).await?;
    let enrolled = store::enrolled_count(state.store().conn(), class_id).await?;
    if enrolled > 0 {
        return Err(AppError::Conflict(format!("本班已有{enrolled}人参训，不能删除；请先将参训人员移出")));
    }
    let now = state.now();
    let tx = state.store().write().await?;
    store::delete_class(tx.conn(), class_id, version).await.map_err(stale)?;
    audit::append(&tx, now, actor.record("training.class.delete", format!("training_class:{class_id}"), row.name.clone())).await?;
    tx.commit().await?;
    Ok(())
}

/// The agency's admitted candidates of levels 5–2 (level 1 is not trained).
async fn candidates(state: &AppState, class: &TrainingClass) -> AppResult<Vec<Candidate>> {
    let rows = exam_sites::admitted(state.store().conn(), class.campaign_id, &class.agency_code).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, _, work_type, level)| {
            let level = u8::try_from(level).ok().filter(|l| (2..=5).contains(l))?;
            Some(Candidate { application_id: id, level, work_type })
        })
        .collect())
}

/// How many of the agency's admitted candidates would join the class in bulk now.
pub async fn eligible_count(state: &AppState, class: &TrainingClass) -> AppResult<usize> {
    let spec = spec_of(class)?;
    let all = candidates(state, class).await?;
    let ids: Vec<i64> = all.iter().filter(|c| spec.admits(c.level, &c.work_type)).map(|c| c.application_id).collect();
    let taken: HashSet<i64> = store::enrolled_among(state.store().conn(), &ids).await?.into_iter().collect();
    Ok(ids.iter().filter(|id| !taken.contains(id)).count())
}

/// Enrols, in one transaction, the applications of `ids` and tells each person.
async fn enrol(state: &AppState, actor: &Actor, class: &TrainingClass, spec: &ClassSpec, ids: &[i64], how: &str) -> AppResult<()> {
    let now = state.now();
    let tx = state.store().write().await?;
    store::bump_version(tx.conn(), class.id, class.version, now).await.map_err(stale)?;
    store::insert_enrolments(tx.conn(), class.id, ids, &actor.username, now).await.map_err(|e| match e {
        // Someone put one of them in another class since the list was read.
        StoreError::Duplicate(_) => AppError::Conflict("部分人员刚被报名到其他培训班，请刷新后重试".to_owned()),
        other => other.into(),
    })?;
    let people = store::trainees(tx.conn(), ids).await?;
    let names: Vec<&str> = people.iter().take(20).map(|t| t.name.as_str()).collect();
    let more = if people.len() > names.len() { format!("等{}人", people.len()) } else { String::new() };
    audit::append(
        &tx,
        now,
        actor.record(
            "training.enrol",
            format!("training_class:{}", class.id),
            format!("{}：{how}报名{}人（{}{more}）", spec.name, ids.len(), names.join("、")),
        ),
    )
    .await?;
    tx.commit().await?;
    for person in people {
        state.sender().send(OutboundMessage {
            at: now,
            channel: "sms",
            to: person.mobile,
            body: format!(
                "【河南工考】{}：您已报名参加“{}”，培训地点：{}，培训日期：{}。请按时参加并签到。",
                person.name,
                spec.name,
                spec.place,
                spec.dates_label()
            ),
        });
    }
    Ok(())
}

/// Enrols every admitted candidate of the class's agency who matches its level and work type
/// and is not yet in a class: all of them, or nobody if they do not fit.
pub async fn enrol_all(state: &AppState, actor: &Actor, class_id: i64) -> AppResult<usize> {
    let class = load(state, class_id).await?;
    let spec = spec_of(&class)?;
    let db = state.store().conn();
    let all = candidates(state, &class).await?;
    let ids: Vec<i64> = all.iter().map(|c| c.application_id).collect();
    let taken: HashSet<i64> = store::enrolled_among(db, &ids).await?.into_iter().collect();
    let enrolled = usize::try_from(store::enrolled_count(db, class_id).await?).unwrap_or(usize::MAX);
    let chosen = select_for_class(&spec, enrolled, &all, &taken).map_err(|e| match e {
        EnrolError::NoneMatching => AppError::field("enrol", format!("参训人员：{e}")),
        EnrolError::OverCapacity { .. } => AppError::field("capacity", format!("容纳人数：{e}")),
    })?;
    enrol(state, actor, &class, &spec, &chosen, "批量").await?;
    Ok(chosen.len())
}

/// Finds the application the officer typed: an ID number (the person's live application in the
/// current campaign) or an application number. Another agency's application reads as not
/// found, so the form reveals nothing outside the officer's jurisdiction.
async fn find_application(state: &AppState, class: &TrainingClass, who: &str) -> AppResult<applications::Application> {
    const LABEL: &str = "身份证号码或申报编号";
    let who = who.trim();
    let db = state.store().conn();
    let not_found = || AppError::field("who", format!("{LABEL}：未找到本机构的该申报人员"));
    let app = if who.is_empty() {
        return Err(AppError::field("who", format!("{LABEL}：请填写")));
    } else if who.chars().count() == 18 {
        let id = IdNumber::parse(&who.to_uppercase()).map_err(|e| AppError::field("who", e.to_string()))?;
        let Some(person) = units::applicant_by_id_number(db, id.as_str()).await? else { return Err(not_found()) };
        applications::live_for(db, class.campaign_id, person.id).await?
    } else if let Ok(n) = who.parse::<i64>() {
        applications::get(db, n).await?.filter(|a| a.campaign_id == class.campaign_id)
    } else {
        return Err(AppError::field("who", format!("{LABEL}：应为18位身份证号码或数字申报编号")));
    };
    app.filter(|a| a.agency_code.as_deref() == Some(class.agency_code.as_str())).ok_or_else(not_found)
}

/// Enrols one person, named by ID number or application number.
pub async fn enrol_one(state: &AppState, actor: &Actor, class_id: i64, pairs: &[(String, String)]) -> AppResult<i64> {
    let class = load(state, class_id).await?;
    let spec = spec_of(&class)?;
    let app = find_application(state, &class, form_value(pairs, "who")).await?;
    if app.status != ApplicationStatus::Admitted.as_str() {
        let label = ApplicationStatus::parse(&app.status).map_or("未知", ApplicationStatus::label);
        return Err(AppError::field(
            "who",
            format!("身份证号码或申报编号：该人员的申报状态为“{label}”，只有已准予参加考核（审核通过并已缴费）的人员可以参训"),
        ));
    }
    let db = state.store().conn();
    if let Some(e) = store::enrolment_of(db, app.id).await? {
        let name = store::class(db, e.class_id).await?.map(|c| c.name).unwrap_or_default();
        return Err(AppError::field("who", format!("身份证号码或申报编号：该人员已在培训班“{name}”中")));
    }
    let enrolled = usize::try_from(store::enrolled_count(db, class_id).await?).unwrap_or(usize::MAX);
    let candidate =
        Candidate { application_id: app.id, level: u8::try_from(app.target_level).unwrap_or(0), work_type: app.work_type.clone() };
    if let Some(why) = refuse_one(&spec, enrolled, &candidate) {
        return Err(AppError::field("who", format!("身份证号码或申报编号：{why}")));
    }
    enrol(state, actor, &class, &spec, &[app.id], "单独").await?;
    Ok(app.id)
}

/// Removes one person from the class with a reason; their attendance in it goes too (the audit
/// entry keeps how many marks).
pub async fn remove(state: &AppState, actor: &Actor, class_id: i64, pairs: &[(String, String)]) -> AppResult<()> {
    let reason = validate_reason(form_value(pairs, "reason")).map_err(AppError::Invalid)?;
    let class = load(state, class_id).await?;
    let db = state.store().conn();
    let Some(application_id) = form_value(pairs, "application_id").trim().parse::<i64>().ok() else {
        return Err(AppError::field("application_id", "移出人员：请从参训名单中选择"));
    };
    if store::enrolment_of(db, application_id).await?.is_none_or(|e| e.class_id != class_id) {
        return Err(AppError::field("application_id", "移出人员：该人员不在本班参训名单中"));
    }
    let person = store::trainees(db, &[application_id]).await?.pop();
    let now = state.now();
    let tx = state.store().write().await?;
    store::bump_version(tx.conn(), class_id, class.version, now).await.map_err(stale)?;
    let marks = store::delete_enrolment(tx.conn(), class_id, application_id).await.map_err(stale)?;
    let name = person.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    audit::append(
        &tx,
        now,
        actor.record(
            "training.remove",
            format!("training_class:{class_id}"),
            format!("{}：移出{name}（申报编号{application_id}），原因：{reason}；删除其考勤{marks}条", class.name),
        ),
    )
    .await?;
    tx.commit().await?;
    if let Some(p) = person {
        state.sender().send(OutboundMessage {
            at: now,
            channel: "sms",
            to: p.mobile,
            body: format!("【河南工考】{}：您已被移出培训班“{}”，原因：{reason}。如有疑问请联系工考管理机构。", p.name, class.name),
        });
    }
    Ok(())
}

/// Records one day's attendance for everyone enrolled (fields `day` and `mark_<application id>`),
/// replacing that day's marks: all or nothing.
pub async fn record_attendance(state: &AppState, actor: &Actor, class_id: i64, pairs: &[(String, String)]) -> AppResult<Date> {
    let class = load(state, class_id).await?;
    let spec = spec_of(&class)?;
    let enrolled: Vec<i64> = store::enrolments(state.store().conn(), class_id).await?.into_iter().map(|e| e.application_id).collect();
    let mut errors = FieldErrors::new();
    let mut marks: Vec<(i64, &str)> = Vec::new();
    for (key, value) in pairs {
        let Some(id) = key.strip_prefix("mark_") else { continue };
        match id.parse::<i64>() {
            Ok(id) => marks.push((id, value.as_str())),
            Err(_) => errors.push("marks", format!("考勤：无法识别的字段 {key}")),
        }
    }
    let checked = validate_day_sheet(&spec, form_value(pairs, "day"), &enrolled, &marks);
    let (day, marks) = match checked {
        Ok(ok) if errors.is_empty() => ok,
        Ok(_) => return Err(AppError::Invalid(errors)),
        Err(e) => {
            errors.extend(e);
            return Err(AppError::Invalid(errors));
        }
    };
    let day_text = format_date(day);
    let rows: Vec<(i64, &str)> = marks.iter().map(|(id, m)| (*id, m.as_str())).collect();
    let count = Attendance::of(marks.iter().map(|(_, m)| *m));
    let now = state.now();
    let tx = state.store().write().await?;
    store::bump_version(tx.conn(), class_id, class.version, now).await.map_err(stale)?;
    let before = store::replace_day(tx.conn(), class_id, &day_text, &rows, &actor.username, now).await?;
    audit::append(
        &tx,
        now,
        actor.record(
            "training.attendance",
            format!("training_class:{class_id}"),
            format!(
                "{} {day_text}：出勤{}人，缺勤{}人，请假{}人{}",
                class.name,
                count.present,
                count.absent,
                count.excused,
                if before > 0 { format!("（更正，原有{before}条）") } else { String::new() }
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(day)
}

/// The enrolled people of a class, sorted by unit and then by name (pinyin), as the lists and
/// the sign-in sheet show them.
pub async fn trainees(state: &AppState, class_id: i64) -> AppResult<Vec<Trainee>> {
    let ids: Vec<i64> = store::enrolments(state.store().conn(), class_id).await?.into_iter().map(|e| e.application_id).collect();
    let mut people = store::trainees(state.store().conn(), &ids).await?;
    people.sort_by(|a, b| a.unit_name.cmp(&b.unit_name).then_with(|| a.name_sort.cmp(&b.name_sort)));
    Ok(people)
}

/// Marks of a class as (application id, day) → mark.
pub async fn marks(state: &AppState, class_id: i64) -> AppResult<HashMap<(i64, String), Mark>> {
    Ok(store::attendance(state.store().conn(), class_id)
        .await?
        .into_iter()
        .filter_map(|r| Some(((r.application_id, r.day), Mark::parse(&r.mark)?)))
        .collect())
}

/// The sign-in sheet (培训签到表) as a PDF, rendered off the async runtime; an audited export
/// of personal data like the rosters.
pub async fn sign_in_pdf(state: &AppState, actor: &Actor, class_id: i64) -> AppResult<Vec<u8>> {
    let class = load(state, class_id).await?;
    let spec = spec_of(&class)?;
    let (campaign, _) = super::campaigns::current(state).await?;
    let agencies = super::jurisdiction::agencies(state).await?;
    let people = trainees(state, class_id).await?;
    let doc = gongkao_documents::SignInDoc {
        title: "培训签到表".to_owned(),
        campaign_title: campaign.title.clone(),
        class_name: spec.name.clone(),
        place: spec.place.clone(),
        organiser: spec.organiser.clone().unwrap_or_default(),
        agency_name: super::jurisdiction::agency_name(&agencies, &class.agency_code),
        dates: spec.dates_label(),
        printed_at: format_shanghai(state.now()),
        days: spec.days().into_iter().map(day_label).collect(),
        rows: people
            .iter()
            .map(|p| gongkao_documents::SignInRow { name: p.name.clone(), unit: p.unit_name.clone(), work_type: p.work_type.clone() })
            .collect(),
    };
    let rows = doc.rows.len();
    let bytes = tokio::task::spawn_blocking(move || {
        super::rosters::documents().and_then(|d| d.sign_in_sheet(&doc).map_err(|e| AppError::Internal(e.to_string())))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))??;
    let now = state.now();
    let tx = state.store().write().await?;
    audit::append(
        &tx,
        now,
        actor.record(
            "personal_data.training_sign_in",
            format!("training_class:{class_id}"),
            format!("{}：签到表（PDF）{rows}人", class.name),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(bytes)
}

/// What an enrolled applicant sees of their class.
pub struct OwnTraining {
    pub name: String,
    pub place: String,
    pub organiser: String,
    pub dates: String,
    pub level: &'static str,
    pub work_type: String,
    /// (day, mark label) for every class day; "未登记" where nothing is recorded yet.
    pub days: Vec<(String, &'static str)>,
    pub attendance: String,
}

/// The applicant's class and their own attendance, if they are enrolled.
pub async fn own_training(state: &AppState, application_id: i64) -> AppResult<Option<OwnTraining>> {
    let db = state.store().conn();
    let Some(e) = store::enrolment_of(db, application_id).await? else { return Ok(None) };
    let Some(class) = store::class(db, e.class_id).await? else { return Ok(None) };
    let spec = spec_of(&class)?;
    let marks: HashMap<String, Mark> = store::attendance_of(db, class.id, application_id)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.day, Mark::parse(&r.mark)?)))
        .collect();
    let days = class_days(spec.starts_on, spec.ends_on)
        .into_iter()
        .map(|d| {
            let text = format_date(d);
            let label = marks.get(&text).map_or("未登记", |m| m.label());
            (text, label)
        })
        .collect();
    Ok(Some(OwnTraining {
        attendance: Attendance::of(marks.values().copied()).label(),
        name: spec.name.clone(),
        place: spec.place.clone(),
        organiser: spec.organiser.clone().unwrap_or_default(),
        dates: spec.dates_label(),
        level: spec.level.label(),
        work_type: spec.work_type_label().to_owned(),
        days,
    }))
}

/// Whether the candidate of `application_id` may take the practice exam (模拟练习): they are
/// enrolled in a training class of the current campaign and still admitted (an enrolment stays
/// on record when an application is later withdrawn or voided, but gives no access). For the
/// exam-delivery work (issue 6), which builds the practice exam itself; a database error is an
/// error, not a "no".
pub async fn may_practice(state: &AppState, application_id: i64) -> AppResult<bool> {
    let (campaign, _) = super::campaigns::current(state).await?;
    let db = state.store().conn();
    let admitted = applications::get(db, application_id).await?.is_some_and(|a| a.status == ApplicationStatus::Admitted.as_str());
    if !admitted {
        return Ok(false);
    }
    let Some(e) = store::enrolment_of(db, application_id).await? else { return Ok(false) };
    Ok(store::class(db, e.class_id).await?.is_some_and(|c| c.campaign_id == campaign.id))
}
