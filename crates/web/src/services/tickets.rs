//! Admission tickets (准考证): the candidate prints their own inside the print window; the exam
//! officer prints a centre's tickets as one PDF. The QR code carries a signed payload, so a
//! centre's check-in can tell a real ticket from a forged one without asking the server.
use std::collections::HashMap;

use gongkao_documents::{MAX_TICKETS_PER_PDF, TicketDoc, TicketSubject, default_rules};
use gongkao_domain::campaign::{Level, format_shanghai};
use gongkao_domain::exam::Subject;
use gongkao_domain::exam::print_window::{PrintWindow, parse_print_window};
use gongkao_domain::id_number::IdNumber;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::applications::{self, Application};
use gongkao_storage::exam_sites as store;
use gongkao_storage::tickets as ticket_store;
use gongkao_storage::{audit, from_ms, units};
use hmac::{Hmac, KeyInit, Mac};
use sm3::{Digest, Sm3};
use time::OffsetDateTime;

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;

/// The payload in the QR code: `GK1|<ticket>|<application>|<tag>`, the tag being the first 16
/// bytes of HMAC-SM3 under a key derived from the item-bank key (outside the database).
pub fn qr_payload(state: &AppState, ticket_no: &str, application_id: i64) -> String {
    let body = format!("GK1|{ticket_no}|{application_id}");
    format!("{body}|{}", hex::encode(tag(state, &body)))
}

const TAG_BYTES: usize = 16;

fn mac(state: &AppState, body: &str) -> Option<Hmac<Sm3>> {
    let key = state.config().item_cipher.derive(b"gongkao admission-ticket qr v1");
    let mut mac = <Hmac<Sm3> as KeyInit>::new_from_slice(&key).ok()?;
    mac.update(body.as_bytes());
    Some(mac)
}

fn tag(state: &AppState, body: &str) -> Vec<u8> {
    mac(state, body).map(|m| m.finalize().into_bytes()[..TAG_BYTES].to_vec()).unwrap_or_default()
}

/// Checks a scanned payload; returns (ticket number, application id) when it is genuine.
pub fn verify_qr(state: &AppState, payload: &str) -> Option<(String, i64)> {
    let (body, tag_hex) = payload.rsplit_once('|')?;
    let mut parts = body.split('|');
    if parts.next()? != "GK1" {
        return None;
    }
    let ticket = parts.next()?.to_owned();
    let application = parts.next()?.parse().ok()?;
    let given = hex::decode(tag_hex).ok()?;
    // The tag is the first 16 bytes of the MAC; `verify_truncated_left` compares in constant time.
    (given.len() == TAG_BYTES && mac(state, body)?.verify_truncated_left(&given).is_ok()).then_some((ticket, application))
}

/// What every ticket of one agency shares, read once: the campaign, the agencies' names, the
/// agency's sittings, and the rooms and centres as they are met. A centre's batch builds
/// thousands of tickets from one source instead of re-reading these per candidate.
struct TicketSource {
    campaign: gongkao_storage::campaigns::Campaign,
    agencies: Vec<gongkao_storage::campaigns::Agency>,
    agency_code: String,
    sittings: HashMap<i64, store::SittingRow>,
    rooms: HashMap<i64, (store::Room, store::Centre)>,
}

impl TicketSource {
    async fn load(state: &AppState, agency_code: &str) -> AppResult<TicketSource> {
        let (campaign, _) = super::campaigns::current(state).await?;
        let sittings = store::sittings(state.store().conn(), campaign.id, agency_code).await?.into_iter().map(|s| (s.id, s)).collect();
        Ok(TicketSource {
            agencies: super::jurisdiction::agencies(state).await?,
            campaign,
            agency_code: agency_code.to_owned(),
            sittings,
            rooms: HashMap::new(),
        })
    }

    /// Everything printed on one candidate's ticket, or `None` when they are not seated yet.
    /// Also returns the first start and the last end of their sittings.
    async fn ticket(&mut self, state: &AppState, app: &Application) -> AppResult<Option<(TicketDoc, OffsetDateTime, OffsetDateTime)>> {
        let db = state.store().conn();
        if app.agency_code.as_deref() != Some(self.agency_code.as_str()) {
            return Ok(None);
        }
        let seats = store::seats_of(db, app.id).await?;
        let Some(first) = seats.first() else { return Ok(None) };
        let person = units::applicant(db, app.applicant_id).await?.ok_or(AppError::NotFound)?;
        let unit_name = match app.unit_id {
            Some(u) => units::get(db, u).await?.map(|u| u.name).unwrap_or_default(),
            None => String::new(),
        };
        let agency_name = super::jurisdiction::agency_name(&self.agencies, &self.agency_code);
        let mut subjects = Vec::new();
        let mut window: Option<(OffsetDateTime, OffsetDateTime)> = None;
        let mut ordered: Vec<_> = seats.iter().filter_map(|s| self.sittings.get(&s.sitting_id).map(|t| (t, s))).collect();
        ordered.sort_by_key(|(t, _)| t.starts_at);
        for (sitting, seat) in ordered {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.rooms.entry(seat.room_id) {
                let room = store::room(db, seat.room_id).await?.ok_or(AppError::NotFound)?;
                let centre = store::centre(db, room.centre_id).await?.ok_or(AppError::NotFound)?;
                slot.insert((room, centre));
            }
            let Some((room, centre)) = self.rooms.get(&seat.room_id) else { continue };
            let (starts, ends) = (from_ms(sitting.starts_at), from_ms(sitting.ends_at));
            window = Some(match window {
                None => (starts, ends),
                Some((a, b)) => (a.min(starts), b.max(ends)),
            });
            subjects.push(TicketSubject {
                subject: Subject::parse(&sitting.subject).map_or("", Subject::label).to_owned(),
                date: sitting.exam_date.clone(),
                time: format!("{}—{}", super::exam_sites::hm(starts), super::exam_sites::hm(ends)),
                centre_name: centre.name.clone(),
                centre_address: centre.address.clone(),
                room: format!("{:03} {}", room.number, room.name),
                seat: format!("{:02}", seat.seat),
            });
        }
        let Some((opens, closes)) = window else { return Ok(None) };
        let photo = super::files::photo_of(state, app.id).await?;
        let level = u8::try_from(app.target_level).ok().and_then(Level::from_number).map(Level::label).unwrap_or_default();
        let doc = TicketDoc {
            campaign_title: self.campaign.title.clone(),
            agency_name,
            name: person.name.clone(),
            sex: if person.sex == "female" { "女".to_owned() } else { "男".to_owned() },
            id_number_masked: IdNumber::parse(&person.id_number).map(|i| i.masked()).unwrap_or_default(),
            unit_name,
            work_type: app.work_type.clone(),
            level: level.to_owned(),
            ticket_number: first.ticket_no.clone(),
            photo,
            subjects,
            rules: default_rules(),
            pledge: Some(DEFAULT_PLEDGE_LINE.to_owned()),
            qr_payload: qr_payload(state, &first.ticket_no, app.id),
            printed_at: format_shanghai(state.now()),
        };
        Ok(Some((doc, opens, closes)))
    }
}

/// One candidate's ticket (see [`TicketSource::ticket`]).
async fn ticket_of(state: &AppState, app: &Application) -> AppResult<Option<(TicketDoc, OffsetDateTime, OffsetDateTime)>> {
    let Some(agency) = app.agency_code.as_deref() else { return Ok(None) };
    TicketSource::load(state, agency).await?.ticket(state, app).await
}

/// The tickets of every candidate seated in the centre, in room and seat order, with their
/// application ids. Run as a job (`job`), it reports progress every 100 candidates and stops
/// when its owner cancels.
pub async fn centre_ticket_docs(
    state: &AppState,
    centre_id: i64,
    job: Option<&crate::jobs::JobContext>,
) -> Result<(store::Centre, Vec<(i64, TicketDoc)>), crate::jobs::JobError> {
    let (centre, ids) = centre_candidates(state, centre_id).await?;
    let mut source = TicketSource::load(state, &centre.agency_code).await?;
    let total = ids.len() as u64;
    let mut docs = Vec::with_capacity(ids.len());
    for (n, id) in ids.into_iter().enumerate() {
        if let Some(ctx) = job
            && n % 100 == 0
        {
            ctx.progress(n as u64, total, &format!("正在整理准考证 {n} / {total}")).await?;
        }
        let Some(app) = applications::get(state.store().conn(), id).await.map_err(AppError::from)? else { continue };
        if let Some((doc, _, _)) = source.ticket(state, &app).await? {
            docs.push((app.id, doc));
        }
    }
    Ok((centre, docs))
}

/// Printed on every ticket when the campaign has no pledge of its own to accept online.
const DEFAULT_PLEDGE_LINE: &str = "本人已阅读并知悉考生须知，承诺遵守考试纪律，如有违纪违规行为，自愿接受处理。";

/// The print window the agency set, if it did.
async fn agency_window(state: &AppState, campaign_id: i64, agency_code: &str) -> AppResult<Option<PrintWindow>> {
    Ok(ticket_store::window(state.store().conn(), campaign_id, agency_code)
        .await?
        .map(|w| PrintWindow { opens: from_ms(w.opens_at), closes: from_ms(w.closes_at) }))
}

/// The campaign's pledge (承诺书) and the SM3 of its text, if the campaign has one.
pub async fn campaign_pledge(state: &AppState, campaign_id: i64) -> AppResult<Option<ticket_store::Pledge>> {
    Ok(ticket_store::pledge(state.store().conn(), campaign_id).await?)
}

fn sm3_hex(text: &str) -> String {
    hex::encode(Sm3::digest(text.as_bytes()))
}

/// The applicant's ticket as their page shows it.
pub struct TicketStatus {
    /// Why there is no ticket yet (not applied, not admitted, not seated).
    pub unavailable: Option<String>,
    pub doc: Option<TicketDoc>,
    pub window: Option<PrintWindow>,
    pub open_now: bool,
    /// The pledge to accept before printing: its text and SM3.
    pub pledge: Option<(String, String)>,
    pub pledge_accepted_at: Option<String>,
    pub printed: Option<ticket_store::Printed>,
}

impl TicketStatus {
    fn unavailable(why: &str) -> TicketStatus {
        TicketStatus {
            unavailable: Some(why.to_owned()),
            doc: None,
            window: None,
            open_now: false,
            pledge: None,
            pledge_accepted_at: None,
            printed: None,
        }
    }

    /// The candidate may download the PDF now.
    pub fn may_print(&self) -> bool {
        self.doc.is_some() && self.open_now && (self.pledge.is_none() || self.pledge_accepted_at.is_some())
    }
}

/// Everything the applicant's ticket page shows, and what `own_ticket` checks.
pub async fn ticket_status(state: &AppState, p: &Principal) -> AppResult<(TicketStatus, Option<Application>)> {
    let applicant = p.applicant_id.ok_or(AppError::Forbidden)?;
    let (campaign, _) = super::campaigns::current(state).await?;
    let db = state.store().conn();
    let Some(app) = applications::live_for(db, campaign.id, applicant).await? else {
        return Ok((TicketStatus::unavailable("您本年度没有申报，无准考证"), None));
    };
    if app.status != "admitted" {
        return Ok((TicketStatus::unavailable("您的申报尚未准予参加考核（审核通过并缴费后），暂无准考证"), Some(app)));
    }
    let Some((mut doc, first_start, last_end)) = ticket_of(state, &app).await? else {
        return Ok((TicketStatus::unavailable("考务编排尚未完成，暂无准考证，请留意工考管理机构通知"), Some(app)));
    };
    let agency = agency_window(state, campaign.id, app.agency_code.as_deref().unwrap_or("")).await?;
    let window = PrintWindow::for_candidate(agency, first_start, last_end);
    let pledge = campaign_pledge(state, campaign.id).await?;
    let accepted = match &pledge {
        Some(pl) => ticket_store::accepted_at(db, app.id, &pl.body_sm3).await?.map(|t| format_shanghai(from_ms(t))),
        None => None,
    };
    if pledge.is_some() {
        doc.pledge = accepted.as_ref().map(|t| format!("考生已于 {t} 在线阅读并签署《考生承诺书》，承诺遵守考试纪律。"));
    }
    let status = TicketStatus {
        unavailable: None,
        open_now: window.contains(state.now()),
        window: Some(window),
        pledge: pledge.map(|pl| (pl.body, pl.body_sm3)),
        pledge_accepted_at: accepted,
        printed: ticket_store::printed(db, app.id).await?,
        doc: Some(doc),
    };
    Ok((status, Some(app)))
}

/// The applicant accepts the campaign's pledge; `pledge_sm3` is the text they were shown, so a
/// pledge changed meanwhile is not accepted unread.
pub async fn accept_pledge(state: &AppState, p: &Principal, actor: &Actor, pairs: &[(String, String)]) -> AppResult<()> {
    let get = |k: &str| super::form_value(pairs, k);
    let (status, app) = ticket_status(state, p).await?;
    let app = app.ok_or_else(|| AppError::Conflict("您本年度没有申报，无准考证".to_owned()))?;
    if let Some(why) = status.unavailable {
        return Err(AppError::Conflict(why));
    }
    let Some((_, sm3)) = status.pledge else {
        return Err(AppError::Conflict("本年度考核无需签署承诺书，可直接打印准考证".to_owned()));
    };
    if get("pledge_sm3") != sm3 {
        return Err(AppError::Conflict("承诺书内容已更新，请重新阅读后再确认".to_owned()));
    }
    if get("agree") != "on" {
        return Err(AppError::field("agree", "承诺：请阅读承诺书并勾选“本人已阅读并承诺遵守”"));
    }
    if status.pledge_accepted_at.is_some() {
        return Ok(());
    }
    let now = state.now();
    let tx = state.store().write().await?;
    ticket_store::accept(tx.conn(), app.id, &sm3, now).await?;
    audit::append(&tx, now, actor.record("ticket.pledge.accept", format!("application:{}", app.id), format!("承诺书 SM3 {}", &sm3[..16])))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The agency's window as its exam officer sees it: as set, or `None` for the default.
pub async fn window_setting(state: &AppState, agency_code: &str) -> AppResult<Option<PrintWindow>> {
    let (campaign, _) = super::campaigns::current(state).await?;
    agency_window(state, campaign.id, agency_code).await
}

/// The first start and last end of the agency's sittings, if it has any.
async fn sitting_span(state: &AppState, campaign_id: i64, agency_code: &str) -> AppResult<Option<(OffsetDateTime, OffsetDateTime)>> {
    let rows = store::sittings(state.store().conn(), campaign_id, agency_code).await?;
    let first = rows.iter().map(|s| s.starts_at).min();
    let last = rows.iter().map(|s| s.ends_at).max();
    Ok(first.zip(last).map(|(a, b)| (from_ms(a), from_ms(b))))
}

/// The exam officer sets the agency's print window, or (`clear`) returns to the default.
pub async fn set_window(state: &AppState, actor: &Actor, agency_code: &str, pairs: &[(String, String)]) -> AppResult<()> {
    let get = |k: &str| super::form_value(pairs, k);
    let (campaign, _) = super::campaigns::current(state).await?;
    let now = state.now();
    if get("clear") == "1" {
        let tx = state.store().write().await?;
        if ticket_store::clear_window(tx.conn(), campaign.id, agency_code).await? > 0 {
            audit::append(
                &tx,
                now,
                actor.record("ticket.window.clear", format!("agency:{agency_code}"), "恢复默认：首场考试前7天开放".to_owned()),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    let span = sitting_span(state, campaign.id, agency_code).await?;
    let w = parse_print_window(get("opens_at"), get("closes_at"), span).map_err(AppError::Invalid)?;
    let tx = state.store().write().await?;
    ticket_store::set_window(tx.conn(), campaign.id, agency_code, (w.opens, w.closes), &actor.username, now).await?;
    audit::append(&tx, now, actor.record("ticket.window.set", format!("agency:{agency_code}"), w.label())).await?;
    tx.commit().await?;
    Ok(())
}

/// Longest pledge text: it is read on screen before printing, not a contract.
pub const MAX_PLEDGE_CHARS: usize = 3000;

/// The province sets the campaign's pledge text (empty removes it). A changed text must be
/// accepted again by candidates who accepted the old one.
pub async fn set_pledge(state: &AppState, actor: &Actor, pairs: &[(String, String)]) -> AppResult<()> {
    let body = pairs.iter().find(|(k, _)| k == "body").map(|(_, v)| v.trim().replace("\r\n", "\n")).unwrap_or_default();
    if body.chars().count() > MAX_PLEDGE_CHARS {
        let mut errors = FieldErrors::new();
        errors.push("body", format!("承诺书内容：不超过{MAX_PLEDGE_CHARS}个字（现为{}个字）", body.chars().count()));
        return Err(AppError::Invalid(errors));
    }
    let (campaign, _) = super::campaigns::current(state).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    if body.is_empty() {
        ticket_store::set_pledge(tx.conn(), campaign.id, None, &actor.username, now).await?;
        audit::append(&tx, now, actor.record("ticket.pledge.clear", format!("campaign:{}", campaign.id), "取消考生承诺书".to_owned()))
            .await?;
    } else {
        let sm3 = sm3_hex(&body);
        ticket_store::set_pledge(tx.conn(), campaign.id, Some((&body, &sm3)), &actor.username, now).await?;
        audit::append(
            &tx,
            now,
            actor.record(
                "ticket.pledge.set",
                format!("campaign:{}", campaign.id),
                format!("{}字，SM3 {}", body.chars().count(), &sm3[..16]),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn render_many(docs: Vec<TicketDoc>) -> AppResult<Vec<u8>> {
    super::rosters::documents().and_then(|d| d.admission_tickets(&docs).map_err(|e| AppError::Internal(e.to_string())))
}

/// The signed-in applicant's own ticket, inside the print window, after the pledge.
pub async fn own_ticket(state: &AppState, p: &Principal, actor: &Actor) -> AppResult<Vec<u8>> {
    let (status, app) = ticket_status(state, p).await?;
    if let Some(why) = status.unavailable {
        return Err(AppError::Conflict(why));
    }
    let (Some(app), Some(doc), Some(window)) = (app, status.doc.clone(), status.window) else {
        return Err(AppError::NotFound);
    };
    if !status.open_now {
        return Err(AppError::Conflict(format!("准考证打印时间为 {}（北京时间）", window.label())));
    }
    if status.pledge.is_some() && status.pledge_accepted_at.is_none() {
        return Err(AppError::Conflict("请先在“准考证”页面阅读并签署《考生承诺书》，再打印准考证".to_owned()));
    }
    let ticket_no = doc.ticket_number.clone();
    let pdf = tokio::task::spawn_blocking(move || render_many(vec![doc])).await.map_err(|e| AppError::Internal(e.to_string()))??;
    let now = state.now();
    let (campaign, _) = super::campaigns::current(state).await?;
    let tx = state.store().write().await?;
    ticket_store::mark_printed(tx.conn(), campaign.id, app.agency_code.as_deref().unwrap_or(""), &[app.id], now).await?;
    audit::append(&tx, now, actor.record("ticket.print", format!("application:{}", app.id), format!("准考证 {ticket_no}"))).await?;
    tx.commit().await?;
    Ok(pdf)
}

/// The applications seated in the centre, in room and seat order, each once.
async fn centre_candidates(state: &AppState, centre_id: i64) -> AppResult<(store::Centre, Vec<i64>)> {
    let db = state.store().conn();
    let centre = store::centre(db, centre_id).await?.ok_or(AppError::NotFound)?;
    let rooms = store::rooms_of(db, &[centre_id]).await?;
    let room_ids: Vec<i64> = rooms.iter().map(|r| r.id).collect();
    let plan = store::assignments_in_rooms(db, centre.campaign_id, &centre.agency_code, &room_ids).await?;
    let mut seen = std::collections::HashSet::new();
    let ids = plan.iter().filter(|a| seen.insert(a.application_id)).map(|a| a.application_id).collect();
    Ok((centre, ids))
}

/// The ticket of every candidate seated in the centre, one page each, in room and seat order.
pub async fn centre_tickets(state: &AppState, actor: &Actor, centre_id: i64) -> AppResult<(Vec<u8>, usize)> {
    let (centre, gathered) = centre_ticket_docs(state, centre_id, None).await.map_err(|e| AppError::Conflict(e.message().to_owned()))?;
    let (printed, docs): (Vec<i64>, Vec<TicketDoc>) = gathered.into_iter().unzip();
    if docs.is_empty() {
        return Err(AppError::Conflict("该考点还没有编排考生".to_owned()));
    }
    if docs.len() > MAX_TICKETS_PER_PDF {
        return Err(AppError::Conflict(format!(
            "该考点有 {} 名考生，超过直接下载的上限 {MAX_TICKETS_PER_PDF} 份，请使用“后台生成本考点全部准考证”",
            docs.len()
        )));
    }
    let count = docs.len();
    let pdf = tokio::task::spawn_blocking(move || render_many(docs)).await.map_err(|e| AppError::Internal(e.to_string()))??;
    let now = state.now();
    let tx = state.store().write().await?;
    ticket_store::mark_printed(tx.conn(), centre.campaign_id, &centre.agency_code, &printed, now).await?;
    audit::append(
        &tx,
        now,
        actor.record("ticket.print_batch", format!("test_centre:{centre_id}"), format!("{} 准考证 {count} 份", centre.name)),
    )
    .await?;
    tx.commit().await?;
    Ok((pdf, count))
}

/// The job kind that prints a centre's tickets in the background.
pub const CENTRE_TICKETS_JOB: &str = "tickets.centre";

#[derive(serde::Serialize, serde::Deserialize)]
struct CentreTicketsJob {
    centre_id: i64,
}

/// Queues the centre's tickets as a background job (a centre may seat thousands); the exam
/// officer follows its progress and downloads the PDF on the jobs page.
pub async fn queue_centre_tickets(state: &AppState, actor: &Actor, centre_id: i64) -> AppResult<i64> {
    let (centre, ids) = centre_candidates(state, centre_id).await?;
    if ids.is_empty() {
        return Err(AppError::Conflict("该考点还没有编排考生".to_owned()));
    }
    let payload = serde_json::to_value(CentreTicketsJob { centre_id }).map_err(|e| AppError::Internal(e.to_string()))?;
    let tx = state.store().write().await?;
    let id = gongkao_storage::jobs::enqueue(
        tx.conn(),
        gongkao_storage::jobs::NewJob::new(CENTRE_TICKETS_JOB, payload, &actor.username),
        state.now(),
    )
    .await?;
    audit::append(&tx, state.now(), actor.record("job.enqueue", format!("job:{id}"), format!("{} 准考证 {} 份", centre.name, ids.len())))
        .await?;
    tx.commit().await?;
    state.job_queued();
    Ok(id)
}

/// The handler of [`CENTRE_TICKETS_JOB`]: gathers each ticket with progress, then renders one PDF
/// off the async threads.
pub async fn centre_tickets_job(
    state: AppState,
    job: gongkao_storage::jobs::Job,
    ctx: crate::jobs::JobContext,
) -> Result<Option<crate::jobs::JobResult>, crate::jobs::JobError> {
    let CentreTicketsJob { centre_id } = crate::jobs::payload(&job)?;
    let (centre, gathered) = centre_ticket_docs(&state, centre_id, Some(&ctx)).await?;
    let total = gathered.len() as u64;
    let (printed, docs): (Vec<i64>, Vec<TicketDoc>) = gathered.into_iter().unzip();
    let count = docs.len();
    let result = if count <= MAX_TICKETS_PER_PDF {
        ctx.progress(total, total, "正在生成 PDF").await?;
        let pdf = tokio::task::spawn_blocking(move || render_many(docs))
            .await
            .map_err(|e| crate::jobs::JobError::from(format!("生成准考证失败：{e}")))??;
        crate::jobs::JobResult { name: format!("准考证-{}.pdf", centre.name), content_type: "application/pdf".to_owned(), bytes: pdf }
    } else {
        // One PDF of a whole large centre would hold gigabytes in memory while it renders:
        // volumes of a few hundred pages, rendered one after another, in one ZIP.
        let volumes: Vec<Vec<TicketDoc>> = docs.chunks(VOLUME).map(<[TicketDoc]>::to_vec).collect();
        let mut files = Vec::new();
        for (n, volume) in volumes.into_iter().enumerate() {
            ctx.progress((n * VOLUME) as u64, total, &format!("正在生成第 {} 册 PDF", n + 1)).await?;
            let pdf = tokio::task::spawn_blocking(move || render_many(volume))
                .await
                .map_err(|e| crate::jobs::JobError::from(format!("生成准考证失败：{e}")))??;
            files.push((format!("准考证-{}-第{:02}册.pdf", centre.name, n + 1), pdf));
        }
        let zip = zip_files(&files).map_err(|e| crate::jobs::JobError::from(format!("打包准考证失败：{e}")))?;
        crate::jobs::JobResult { name: format!("准考证-{}.zip", centre.name), content_type: "application/zip".to_owned(), bytes: zip }
    };
    // Marked before the result is stored: a seat moved after this is told to the candidate even
    // if the officer has not downloaded the file yet.
    let tx = state.store().write().await?;
    ticket_store::mark_printed(tx.conn(), centre.campaign_id, &centre.agency_code, &printed, state.now()).await?;
    tx.commit().await?;
    ctx.audit_on_success(ctx.actor().record(
        "ticket.print_batch",
        format!("test_centre:{centre_id}"),
        format!("{} 准考证 {count} 份（后台任务 {}）", centre.name, job.id),
    ));
    Ok(Some(result))
}

/// Tickets per PDF when a centre's batch is split into volumes.
const VOLUME: usize = 200;

fn zip_files(files: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // PDFs are already compressed.
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        w.start_file(name.as_str(), options)?;
        w.write_all(bytes)?;
    }
    Ok(w.finish()?.into_inner())
}
