//! Computer-based delivery (人机对话考试): the candidate's login at the seat, the paper, answer
//! saves through the group-commit writer, submission with scoring and a signed receipt, the
//! clock's sweep that submits when time is up, and the proctor's room actions.
//!
//! What a node keeps in memory. Each room is read whole, its clock and every attempt in it, in
//! one pass, and trusted for [`CACHE_TTL`]; an attempt this node changes is read again at its
//! next use. So nodes sharing a PostgreSQL database agree within that time, and a save costs no
//! read at all: 2,000 candidates in 70 rooms cost 140 small reads a second instead of one per
//! request. Built from those rows and kept while they stay the same: each attempt's context (its
//! sitting, ticket, presentation and the kinds of its items), sessions → attempts (checked
//! against the attempt's current session on every request), and each form's opened items (keys
//! stay here, never in a response).
//!
//! **Durability.** A save is acknowledged only after the transaction that wrote it committed:
//! SQLite runs in WAL mode with `synchronous=FULL`, PostgreSQL with `synchronous_commit=on`
//! (its default), so an acknowledged answer survives a power cut. Saves arriving together share
//! one commit (group commit): the writer takes everything queued while the previous commit was
//! being flushed.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use gongkao_domain::exam::assembly::{Form, Presentation, shuffle_for_candidate};
use gongkao_domain::exam::delivery::{
    self as rules, AttemptEvent, AttemptStatus, DeliveryRules, KeyedItem, LoginWindow, MultipleChoiceScoring, ReceiptFacts, RoomClock,
    SAVE_GRACE_MS, ShownItem, format_tenths, login_window, normalise_answer, receipt_digest, score_attempt, shown_option_count,
};
use gongkao_domain::exam::{ItemKind, Subject};
use gongkao_domain::item_bank::ItemContent;
use gongkao_storage::delivery::{self as store, Attempt, NewAttempt, NewEvent, RoomSession, RosterSeat, SaveRow, Submission};
use gongkao_storage::exam_sites::{SeatAssignment, SittingRow};
use gongkao_storage::{Store, StoreError, applications, audit, exam_sites, to_ms, units};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sm3::Sm3;
use tokio::sync::{mpsc, oneshot};

use super::{Actor, form_value};
use crate::AppState;
use crate::auth::{constant_time_eq, random_token, sm3_hex};
use crate::error::{AppError, AppResult};

pub const EXAM_COOKIE: &str = "gk_exam";
/// How long a node trusts its copy of a session, an attempt or a room's clock.
pub const CACHE_TTL: Duration = Duration::from_secs(1);
/// How long a node trusts its copy of a room's seats and their candidates (who sits where and
/// their names do not change during an exam; a seat not in the copy has it read again at once).
const ROSTER_TTL: Duration = Duration::from_secs(60);
/// Saves per request: the page's queue after an outage is sent in requests of this size.
pub const MAX_SAVES_PER_REQUEST: usize = 200;
/// Failed logins allowed per ticket number and per address within [`FAILURE_WINDOW`].
const MAX_FAILURES_PER_TICKET: u32 = 5;
const MAX_FAILURES_PER_ADDRESS: u32 = 30;
const FAILURE_WINDOW: Duration = Duration::from_secs(600);
/// Jobs one commit takes at most; more wait for the next.
const MAX_BATCH_JOBS: usize = 4_000;

/// A candidate signed in at the seat, as the middleware resolved it.
#[derive(Debug, Clone)]
pub struct SeatSession {
    pub attempt_id: i64,
    /// Scripts send it as `X-CSRF-Token`, forms as `csrf_token`.
    pub csrf: String,
}

/// The exam's paper as the server holds it.
struct Paper {
    form: Form,
    contents: Vec<ItemContent>,
    option_counts: Vec<u8>,
    /// The blueprint's rule for multiple-choice items.
    scoring: MultipleChoiceScoring,
}

/// What a node knows of one attempt: built from the attempt's row as its room was last read,
/// and rebuilt (without a read, unless the form changed) when that row changes.
struct AttemptCtx {
    attempt: Arc<Attempt>,
    sitting: Arc<SittingRow>,
    ticket_no: String,
    agency_code: String,
    paper: Option<Arc<Paper>>,
    presentation: Option<Arc<Presentation>>,
    /// Per display position.
    shown: Arc<Vec<ShownItem>>,
}

impl AttemptCtx {
    fn status(&self) -> AttemptStatus {
        AttemptStatus::parse(&self.attempt.status).unwrap_or(AttemptStatus::Ended)
    }

    fn duration_ms(&self) -> i64 {
        self.sitting.ends_at - self.sitting.starts_at
    }
}

/// What the group-commit writer does for one request; everything taken in one round shares one
/// transaction and one commit.
enum WriteJob {
    Saves {
        attempt_id: i64,
        rows: Vec<SaveRow>,
        done: oneshot::Sender<Result<bool, WriteError>>,
    },
    Login {
        job: Box<LoginWrite>,
        done: oneshot::Sender<Result<Box<Attempt>, WriteError>>,
    },
    /// Answered with the attempt's row as the confirmation left it.
    Confirm {
        attempt_id: i64,
        begin: bool,
        now: i64,
        done: oneshot::Sender<Result<Option<Box<Attempt>>, WriteError>>,
    },
}

/// A login's writes: the attempt (created on the first login, with its recorded seed), the new
/// session, the audit entry.
struct LoginWrite {
    seat_assignment_id: i64,
    sitting_id: i64,
    room_id: i64,
    application_id: i64,
    form_id: i64,
    seed: String,
    seat: i32,
    session_hash: String,
    now: i64,
    actor: Actor,
}

#[derive(Debug)]
enum WriteError {
    /// Refused for this job alone (its attempt is over); nothing of it was written.
    Refused(String),
    /// The round failed as a whole; nothing of it was written.
    Failed(String),
}

/// A room as this node last read it (see the module's comment).
struct RoomLive {
    session: Option<RoomSession>,
    attempts: HashMap<i64, Arc<Attempt>>,
}

/// A seat session this node has seen: its attempt and the CSRF token derived from it.
#[derive(Clone)]
struct KnownSession {
    attempt_id: i64,
    csrf: String,
}

/// (sitting, room).
type RoomKey = (i64, i64);
/// A copy and when it was read.
type Stamped<T> = (Instant, T);
/// One read at a time per room; the others wait for it.
type Gates = Mutex<HashMap<RoomKey, Arc<tokio::sync::Mutex<()>>>>;
/// A room's seats by seat assignment.
type Roster = Arc<HashMap<i64, Arc<RosterSeat>>>;
/// (subject, level, work type, form number).
type FormKey = (String, i32, String, i32);

/// The delivery state of one node (see the module's comment).
#[derive(Default)]
pub struct Hub {
    /// Session hash → attempt; valid only while the attempt's row names that session.
    sessions: Mutex<HashMap<String, KnownSession>>,
    /// Attempt → (sitting, room): where to find its row.
    places: Mutex<HashMap<i64, (i64, i64)>>,
    /// Attempts this node changed, for their next use: the row as written (when the write
    /// returned it), or `None`: read it again.
    stale: Mutex<HashMap<i64, Option<Arc<Attempt>>>>,
    contexts: Mutex<HashMap<i64, Arc<AttemptCtx>>>,
    rooms: Mutex<HashMap<RoomKey, Stamped<Arc<RoomLive>>>>,
    /// One read of a room at a time; the others wait for it.
    room_reads: Gates,
    sittings: TtlCache<i64, Arc<SittingRow>>,
    people: Mutex<HashMap<i64, Arc<SeatedPerson>>>,
    rosters: Mutex<HashMap<RoomKey, Stamped<Roster>>>,
    roster_reads: Gates,
    /// (subject, level, work type, number) → the assembled form's id.
    forms: TtlCache<FormKey, Option<i64>>,
    /// Woken when this node starts or resumes a room, for the pages waiting on it.
    room_bells: Mutex<HashMap<(i64, i64), Arc<tokio::sync::Notify>>>,
    papers: Mutex<HashMap<i64, Arc<tokio::sync::OnceCell<Arc<Paper>>>>>,
    /// The current campaign's id and delivery rules.
    rules: TtlCache<(), (i64, DeliveryRules)>,
    seb: TtlCache<i64, Arc<Vec<String>>>,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
    writer: OnceLock<mpsc::Sender<WriteJob>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Values trusted for [`CACHE_TTL`] and read again once however many ask at the same moment:
/// when a copy expires in the second 2,000 candidates log in, one of them reads it and the
/// others wait for that read instead of each reading it too.
struct TtlCache<K, V> {
    values: Mutex<HashMap<K, Stamped<V>>>,
    reads: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache { values: Mutex::default(), reads: Mutex::default() }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    fn fresh(&self, key: &K) -> Option<V> {
        lock(&self.values).get(key).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, v)| v.clone())
    }

    /// The value, or `read`'s (given the expired copy, so that an unchanged value can keep
    /// its identity).
    async fn get<F, Fut>(&self, key: K, read: F) -> AppResult<V>
    where
        F: FnOnce(Option<V>) -> Fut,
        Fut: std::future::Future<Output = AppResult<V>>,
    {
        if let Some(v) = self.fresh(&key) {
            return Ok(v);
        }
        let gate = lock(&self.reads).entry(key.clone()).or_default().clone();
        let _reading = gate.lock().await;
        if let Some(v) = self.fresh(&key) {
            return Ok(v);
        }
        let before = lock(&self.values).get(&key).map(|(_, v)| v.clone());
        let v = read(before).await?;
        lock(&self.values).insert(key, (Instant::now(), v.clone()));
        Ok(v)
    }

    fn clear(&self) {
        lock(&self.values).clear();
    }

    fn forget(&self, key: &K) {
        lock(&self.values).remove(key);
    }
}

impl Hub {
    /// This node changed the attempt: its next use reads it again.
    fn forget_attempt(&self, attempt_id: i64) {
        lock(&self.stale).insert(attempt_id, None);
    }

    /// This node changed the attempt and has the row as committed: its next use takes that
    /// row instead of reading it again, unless another change of this node is pending (then
    /// it reads the row, which has both).
    fn wrote(&self, attempt: Attempt) {
        let id = attempt.id;
        let row = Arc::new(attempt);
        lock(&self.stale)
            .entry(id)
            .and_modify(|e| {
                if e.is_some() {
                    *e = Some(row.clone())
                }
            })
            .or_insert(Some(row));
    }

    /// This node changed the room (its clock, or many attempts at once): read it again.
    fn forget_room(&self, sitting_id: i64, room_id: i64) {
        lock(&self.rooms).remove(&(sitting_id, room_id));
    }

    /// The bell of a room, rung when this node starts or resumes it.
    fn bell(&self, sitting_id: i64, room_id: i64) -> Arc<tokio::sync::Notify> {
        lock(&self.room_bells).entry((sitting_id, room_id)).or_default().clone()
    }

    fn ring(&self, sitting_id: i64, room_id: i64) {
        if let Some(bell) = lock(&self.room_bells).get(&(sitting_id, room_id)) {
            bell.notify_waiters();
        }
    }

    /// Puts a freshly read attempt into its room's copy, so that the copy's other readers see it.
    fn patch(&self, attempt: &Arc<Attempt>) {
        let mut rooms = lock(&self.rooms);
        if let Some((_, live)) = rooms.get_mut(&(attempt.sitting_id, attempt.room_id)) {
            let mut attempts = live.attempts.clone();
            attempts.insert(attempt.id, attempt.clone());
            *live = Arc::new(RoomLive { session: live.session.clone(), attempts });
        }
    }

    fn failed(&self, key: &str) -> u32 {
        let mut f = lock(&self.failures);
        let now = Instant::now();
        let e = f.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(e.0) > FAILURE_WINDOW {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1
    }

    fn failures(&self, key: &str) -> u32 {
        lock(&self.failures).get(key).filter(|(t, _)| t.elapsed() <= FAILURE_WINDOW).map_or(0, |(_, n)| *n)
    }
}

fn hub(state: &AppState) -> &Hub {
    &state.0.delivery
}

fn rules_key(campaign_id: i64) -> String {
    format!("delivery_rules:{campaign_id}")
}

/// The current campaign's delivery rules: as the province set them, or the defaults of
/// comparable machine-exam rules (domain-rules §6.3).
pub async fn delivery_rules(state: &AppState) -> AppResult<DeliveryRules> {
    Ok(campaign_and_rules(state).await?.1)
}

/// The current campaign's id and delivery rules, trusted for [`CACHE_TTL`] (every seat login
/// needs the campaign: 2,000 of them in the same second would otherwise read it 2,000 times).
async fn campaign_and_rules(state: &AppState) -> AppResult<(i64, DeliveryRules)> {
    hub(state)
        .rules
        .get((), |_| async {
            let (campaign, _) = super::campaigns::current(state).await?;
            let rules = match gongkao_storage::misc::setting(state.store().conn(), &rules_key(campaign.id)).await? {
                Some(json) => serde_json::from_str(&json).map_err(|e| AppError::Internal(format!("delivery rules: {e}")))?,
                None => DeliveryRules::default(),
            };
            Ok((campaign.id, rules))
        })
        .await
}

/// The province sets the campaign's rules (late entry, earliest submission, who starts rooms,
/// whether scores show on screen).
pub async fn set_rules(state: &AppState, actor: &Actor, pairs: &[(String, String)]) -> AppResult<DeliveryRules> {
    let rules = rules::parse_rules(|k| form_value(pairs, k).to_owned()).map_err(AppError::Invalid)?;
    let (campaign, _) = super::campaigns::current(state).await?;
    let json = serde_json::to_string(&rules).map_err(|e| AppError::Internal(e.to_string()))?;
    let tx = state.store().write().await?;
    gongkao_storage::misc::put_setting(tx.conn(), &rules_key(campaign.id), &json, &actor.username, state.now()).await?;
    let summary = format!(
        "开考{}分钟后禁止入场，开考{}分钟后可交卷，{}，{}",
        rules.late_entry_minutes,
        rules.earliest_submit_minutes,
        if rules.proctor_starts { "监考员开考" } else { "到点自动开考" },
        if rules.show_score { "交卷后显示成绩" } else { "交卷后不显示成绩" }
    );
    audit::append(&tx, state.now(), actor.record("delivery.rules", format!("campaign:{}", campaign.id), summary)).await?;
    tx.commit().await?;
    hub(state).rules.clear();
    Ok(rules)
}

fn now_ms(state: &AppState) -> i64 {
    to_ms(state.now())
}

fn conflict(message: &str) -> AppError {
    AppError::Conflict(message.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// The CSRF token of a seat session: derived from the cookie's value, so it needs no storage.
fn seat_csrf(token: &str) -> String {
    sm3_hex(&format!("exam-csrf:{token}"))
}

/// Resolves the `gk_exam` cookie; `None` when it names no live session. A session this node
/// knows costs no read: the attempt's row in its room's copy says whether it is still the
/// attempt's session (a login elsewhere, a logout or a move replaces it).
pub async fn resolve_session(state: &AppState, token: &str) -> AppResult<Option<SeatSession>> {
    let hash = sm3_hex(token);
    let known = lock(&hub(state).sessions).get(&hash).cloned();
    let known = match known {
        Some(k) => k,
        None => {
            let Some(a) = store::attempt_by_session(state.store().conn(), &hash).await? else { return Ok(None) };
            let k = KnownSession { attempt_id: a.id, csrf: seat_csrf(token) };
            let a = Arc::new(a);
            lock(&hub(state).places).insert(a.id, (a.sitting_id, a.room_id));
            hub(state).patch(&a);
            lock(&hub(state).sessions).insert(hash.clone(), k.clone());
            k
        }
    };
    let current = match live_attempt(state, known.attempt_id).await {
        Ok(a) => Some(a),
        Err(AppError::NotFound) => None,
        Err(e) => return Err(e),
    };
    if current.is_none_or(|a| a.session_hash.as_deref() != Some(hash.as_str())) {
        lock(&hub(state).sessions).remove(&hash);
        return Ok(None);
    }
    Ok(Some(SeatSession { attempt_id: known.attempt_id, csrf: known.csrf }))
}

/// The form's opened paper, loaded once per node: the first request of a form loads it and
/// audits the opening; every request that arrives meanwhile waits for that one load (2,000
/// candidates asking at the same second would otherwise each open the same items).
async fn load_paper(state: &AppState, form_id: i64) -> AppResult<Arc<Paper>> {
    let cell = lock(&hub(state).papers).entry(form_id).or_default().clone();
    cell.get_or_try_init(|| open_paper(state, form_id)).await.cloned()
}

async fn open_paper(state: &AppState, form_id: i64) -> AppResult<Arc<Paper>> {
    let row = store::form(state.store().conn(), form_id).await?.ok_or(AppError::NotFound)?;
    let items: Vec<gongkao_domain::exam::assembly::FormItem> =
        serde_json::from_str(&row.items).map_err(|e| AppError::Internal(format!("paper_form {form_id}: {e}")))?;
    let form = Form { number: u32::try_from(row.number).unwrap_or(0), items };
    let pairs: Vec<(i64, i32)> = form.items.iter().map(|i| (i.item_id, i.version)).collect();
    let contents = super::items::open_for_delivery(state, &pairs).await?;
    let option_counts = form.items.iter().zip(&contents).map(|(i, c)| shown_option_count(i.kind, c.options.len())).collect();
    let blueprint = gongkao_storage::papers::blueprint(state.store().conn(), row.blueprint_id).await?.ok_or(AppError::NotFound)?;
    let partial = serde_json::from_str::<gongkao_domain::exam::blueprint::Blueprint>(&blueprint.body)
        .map_err(|e| AppError::Internal(format!("blueprint {}: {e}", blueprint.id)))?
        .multiple_choice_partial_credit;
    let paper = Arc::new(Paper { form, contents, option_counts, scoring: MultipleChoiceScoring::of_blueprint(partial) });
    let actor = Actor::system("delivery");
    super::audit::record(
        state,
        actor.record("paper.open", format!("paper_form:{form_id}"), format!("机考载入试卷（{}题）", paper.form.items.len())),
    )
    .await?;
    Ok(paper)
}

/// The room as this node last read it, read again (once, however many ask) when older than
/// [`CACHE_TTL`]. Rows that did not change keep their identity, so the contexts built from them
/// stay valid.
async fn room_live(state: &AppState, sitting_id: i64, room_id: i64) -> AppResult<Arc<RoomLive>> {
    let key = (sitting_id, room_id);
    let h = hub(state);
    let fresh = |h: &Hub| lock(&h.rooms).get(&key).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, r)| r.clone());
    if let Some(r) = fresh(h) {
        return Ok(r);
    }
    let gate = lock(&h.room_reads).entry(key).or_default().clone();
    let _reading = gate.lock().await;
    if let Some(r) = fresh(h) {
        return Ok(r);
    }
    let db = state.store().conn();
    let session = store::room_session(db, sitting_id, room_id).await?;
    let rows = store::attempts_in_room(db, sitting_id, room_id).await?;
    let before = lock(&h.rooms).get(&key).map(|(_, r)| r.clone());
    let attempts = rows
        .into_iter()
        .map(|a| {
            let kept = before.as_ref().and_then(|b| b.attempts.get(&a.id)).filter(|b| ***b == a).cloned();
            (a.id, kept.unwrap_or_else(|| Arc::new(a)))
        })
        .collect();
    let live = Arc::new(RoomLive { session, attempts });
    lock(&h.rooms).insert(key, (Instant::now(), live.clone()));
    Ok(live)
}

/// The attempt's row: from its room's copy, or read (and put into that copy) when this node
/// does not know where it is, changed it, or it moved to another room.
async fn live_attempt(state: &AppState, attempt_id: i64) -> AppResult<Arc<Attempt>> {
    let h = hub(state);
    let stale = lock(&h.stale).remove(&attempt_id);
    let place = lock(&h.places).get(&attempt_id).copied();
    if stale.is_none()
        && let Some((sitting_id, room_id)) = place
        && let Some(a) = room_live(state, sitting_id, room_id).await?.attempts.get(&attempt_id)
    {
        return Ok(a.clone());
    }
    let a = match stale.flatten() {
        Some(written) => written,
        None => Arc::new(store::attempt(state.store().conn(), attempt_id).await?.ok_or(AppError::NotFound)?),
    };
    lock(&h.places).insert(attempt_id, (a.sitting_id, a.room_id));
    h.patch(&a);
    Ok(a)
}

/// The candidate of a seat from the room's roster (one query per room, see
/// [`store::room_roster`]); read again when the seat is not in this node's copy.
async fn roster_seat(state: &AppState, sitting_id: i64, room_id: i64, seat_assignment_id: i64) -> AppResult<Option<Arc<RosterSeat>>> {
    let key = (sitting_id, room_id);
    let h = hub(state);
    let cached = |h: &Hub| {
        lock(&h.rosters).get(&key).filter(|(at, _)| at.elapsed() < ROSTER_TTL).map(|(at, r)| (*at, r.get(&seat_assignment_id).cloned()))
    };
    let asked = Instant::now();
    if let Some((_, Some(seat))) = cached(h) {
        return Ok(Some(seat));
    }
    let gate = lock(&h.roster_reads).entry(key).or_default().clone();
    let _reading = gate.lock().await;
    // Another request read the roster while this one waited: that copy is recent enough.
    if let Some((at, found)) = cached(h)
        && (found.is_some() || at >= asked)
    {
        return Ok(found);
    }
    let rows = store::room_roster(state.store().conn(), sitting_id, room_id).await?;
    let roster: HashMap<i64, Arc<RosterSeat>> = rows.into_iter().map(|r| (r.seat_assignment_id, Arc::new(r))).collect();
    let found = roster.get(&seat_assignment_id).cloned();
    lock(&h.rosters).insert(key, (Instant::now(), Arc::new(roster)));
    Ok(found)
}

/// The id of assembled form `number` for the subject, level and work type ("" for shared
/// subjects), trusted for [`CACHE_TTL`].
async fn form_id(state: &AppState, subject: &str, level: i32, work_type: &str, number: i32) -> AppResult<Option<i64>> {
    let key = (subject.to_owned(), level, work_type.to_owned(), number);
    hub(state)
        .forms
        .get(key, |_| async move { Ok(store::form_for(state.store().conn(), subject, level, work_type, number).await?.map(|f| f.id)) })
        .await
}

/// A sitting's row, trusted for [`CACHE_TTL`]; an unchanged row keeps its identity.
async fn sitting_row(state: &AppState, sitting_id: i64) -> AppResult<Arc<SittingRow>> {
    hub(state)
        .sittings
        .get(sitting_id, |before| async move {
            let row = store::sitting(state.store().conn(), sitting_id).await?.ok_or(AppError::NotFound)?;
            Ok(match before {
                Some(b) if *b == row => b,
                _ => Arc::new(row),
            })
        })
        .await
}

async fn context(state: &AppState, attempt_id: i64) -> AppResult<Arc<AttemptCtx>> {
    let attempt = live_attempt(state, attempt_id).await?;
    let sitting = sitting_row(state, attempt.sitting_id).await?;
    let before = lock(&hub(state).contexts).get(&attempt_id).cloned();
    if let Some(ctx) = &before
        && Arc::ptr_eq(&ctx.attempt, &attempt)
        && Arc::ptr_eq(&ctx.sitting, &sitting)
    {
        return Ok(ctx.clone());
    }
    // The seat, paper and presentation only change with the seat, the form or the seed.
    let same_paper = before.as_ref().filter(|b| {
        b.attempt.seat_assignment_id == attempt.seat_assignment_id
            && b.attempt.form_id == attempt.form_id
            && b.attempt.candidate_seed == attempt.candidate_seed
    });
    let ctx = match same_paper {
        Some(b) => AttemptCtx {
            attempt,
            sitting,
            ticket_no: b.ticket_no.clone(),
            agency_code: b.agency_code.clone(),
            paper: b.paper.clone(),
            presentation: b.presentation.clone(),
            shown: b.shown.clone(),
        },
        None => {
            // The ticket and agency from the room's roster (read once per room), else the seat.
            let (ticket_no, agency_code) = match roster_seat(state, attempt.sitting_id, attempt.room_id, attempt.seat_assignment_id).await?
            {
                Some(r) => (r.ticket_no.clone(), r.agency_code.clone()),
                None => {
                    let seat = store::seat(state.store().conn(), attempt.seat_assignment_id).await?.ok_or(AppError::NotFound)?;
                    (seat.ticket_no, seat.agency_code)
                }
            };
            let (paper, presentation, shown) = match attempt.form_id {
                Some(form_id) => {
                    let paper = load_paper(state, form_id).await?;
                    let seed = attempt.candidate_seed.parse::<u64>().map_err(|_| AppError::Internal("candidate seed".to_owned()))?;
                    let presentation =
                        shuffle_for_candidate(&paper.form, &paper.option_counts, seed).map_err(|e| AppError::Internal(e.to_string()))?;
                    let shown = presentation
                        .items
                        .iter()
                        .map(|p| {
                            let i = p.form_index as usize;
                            ShownItem { kind: paper.form.items[i].kind, option_count: paper.option_counts[i] }
                        })
                        .collect();
                    (Some(paper), Some(Arc::new(presentation)), Arc::new(shown))
                }
                None => (None, None, Arc::new(Vec::new())),
            };
            AttemptCtx { attempt, sitting, ticket_no, agency_code, paper, presentation, shown }
        }
    };
    let ctx = Arc::new(ctx);
    lock(&hub(state).contexts).insert(attempt_id, ctx.clone());
    Ok(ctx)
}

/// The room's clock as its candidates live it (see [`RoomClock::effective`]).
async fn room_clock(state: &AppState, sitting: &SittingRow, room_id: i64) -> AppResult<RoomClock> {
    let rules = delivery_rules(state).await?;
    let clock = room_live(state, sitting.id, room_id).await?.session.as_ref().map(clock_of).unwrap_or_default();
    Ok(clock.effective(now_ms(state), sitting.starts_at, &rules))
}

fn clock_of(s: &RoomSession) -> RoomClock {
    RoomClock { started_at: s.started_at, paused_at: s.paused_at, paused_total_ms: s.paused_total_ms }
}

// ---------------------------------------------------------------------------------------------
// Safe Exam Browser

/// What a request tells about the browser, for the Safe Exam Browser check.
#[derive(Debug, Clone, Default)]
pub struct BrowserFacts {
    /// The address as the browser requested it, scheme and host included (both schemes are
    /// tried: a reverse proxy may end TLS).
    pub url: String,
    /// `X-SafeExamBrowser-ConfigKeyHash`.
    pub config_key_hash: Option<String>,
}

fn seb_key(sitting_id: i64) -> String {
    format!("seb_config_keys:{sitting_id}")
}

/// The Config Keys a sitting requires (one per SEB configuration the centres use); empty when
/// any browser may be used.
pub async fn seb_keys(state: &AppState, sitting_id: i64) -> AppResult<Arc<Vec<String>>> {
    hub(state)
        .seb
        .get(sitting_id, |_| async move {
            let keys: Vec<String> = gongkao_storage::misc::setting(state.store().conn(), &seb_key(sitting_id))
                .await?
                .map(|v| v.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect())
                .unwrap_or_default();
            Ok(Arc::new(keys))
        })
        .await
}

/// Safe Exam Browser sends, with every request, SHA-256 of the absolute URL followed by the
/// configuration's Config Key (as Moodle checks it). A sitting with keys set accepts only
/// requests that carry the hash of one of them.
pub fn seb_allows(keys: &[String], browser: &BrowserFacts) -> bool {
    if keys.is_empty() {
        return true;
    }
    let Some(given) = browser.config_key_hash.as_deref().map(str::to_ascii_lowercase) else { return false };
    let other_scheme = match browser.url.split_once("://") {
        Some(("http", rest)) => format!("https://{rest}"),
        Some(("https", rest)) => format!("http://{rest}"),
        _ => browser.url.clone(),
    };
    keys.iter().any(|key| {
        [&browser.url, &other_scheme].iter().any(|url| {
            let mut h = <sha2::Sha256 as sha2::Digest>::new();
            sha2::Digest::update(&mut h, url.as_bytes());
            sha2::Digest::update(&mut h, key.as_bytes());
            constant_time_eq(hex::encode(sha2::Digest::finalize(h)).as_bytes(), given.as_bytes())
        })
    })
}

fn seb_refused() -> AppError {
    AppError::Conflict("本场考试须使用考点配置的安全考试浏览器（Safe Exam Browser）登录和作答，请联系监考员".to_owned())
}

/// The check on every exam request of a seat session; the browser's facts are only gathered
/// for sittings that require Safe Exam Browser.
pub async fn check_browser(state: &AppState, attempt_id: i64, browser: impl FnOnce() -> BrowserFacts) -> AppResult<()> {
    let ctx = context(state, attempt_id).await?;
    let keys = seb_keys(state, ctx.attempt.sitting_id).await?;
    if keys.is_empty() || seb_allows(&keys, &browser()) { Ok(()) } else { Err(seb_refused()) }
}

/// The exam officer sets (or clears, with an empty text) the Config Keys of one of the agency's
/// sittings: 64 hexadecimal characters each, one per line.
pub async fn set_seb_keys(state: &AppState, actor: &Actor, agency_code: &str, pairs: &[(String, String)]) -> AppResult<()> {
    let sitting_id: i64 = form_value(pairs, "sitting").parse().map_err(|_| AppError::field("sitting", "场次：请选择"))?;
    let sitting = store::sitting(state.store().conn(), sitting_id).await?.ok_or_else(|| AppError::field("sitting", "场次：不存在"))?;
    if sitting.agency_code != agency_code {
        return Err(AppError::Forbidden);
    }
    let text = pairs.iter().find(|(k, _)| k == "seb_keys").map(|(_, v)| v.as_str()).unwrap_or("");
    let mut keys = Vec::new();
    for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        if line.len() != 64 || !line.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(AppError::field("seb_keys", format!("SEB 配置密钥：第{}行应为64位十六进制字符（Config Key）", n + 1)));
        }
        keys.push(line.to_ascii_lowercase());
    }
    if keys.len() > 20 {
        return Err(AppError::field("seb_keys", "SEB 配置密钥：不超过20个"));
    }
    let tx = state.store().write().await?;
    gongkao_storage::misc::put_setting(tx.conn(), &seb_key(sitting_id), &keys.join("\n"), &actor.username, state.now()).await?;
    let summary = if keys.is_empty() {
        "不再要求安全考试浏览器".to_owned()
    } else {
        format!("要求安全考试浏览器（{}个配置密钥）", keys.len())
    };
    audit::append(&tx, state.now(), actor.record("sitting.seb", format!("sitting:{sitting_id}"), summary)).await?;
    tx.commit().await?;
    hub(state).seb.forget(&sitting_id);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Login

/// A successful login: the cookie's value and the attempt.
pub struct LoggedIn {
    pub token: String,
    pub attempt_id: i64,
}

fn login_refused() -> AppError {
    AppError::field("ticket_no", "准考证号、身份证号或考场登录码不正确，请核对后重试（多次错误将被暂时锁定）")
}

/// Logs a candidate in at the seat: ticket number, ID number and the room's access code that
/// the proctor shows. A cheap lookup, not a password hash: thousands log in within a minute.
/// Failures are counted per ticket number and per address; successes are not limited.
pub async fn login(state: &AppState, pairs: &[(String, String)], client_ip: &str, browser: &BrowserFacts) -> AppResult<LoggedIn> {
    let ticket_no = form_value(pairs, "ticket_no").to_owned();
    let id_number = form_value(pairs, "id_number").to_uppercase();
    let code = form_value(pairs, "access_code").to_owned();
    let mut errors = gongkao_domain::validation::FieldErrors::new();
    if ticket_no.is_empty() {
        errors.push("ticket_no", "准考证号：请填写");
    }
    if id_number.is_empty() {
        errors.push("id_number", "身份证号：请填写");
    }
    if code.is_empty() {
        errors.push("access_code", "考场登录码：请填写监考员公布的登录码");
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let h = hub(state);
    let ticket_key = format!("ticket:{ticket_no}");
    let address_key = format!("ip:{client_ip}");
    if h.failures(&ticket_key) >= MAX_FAILURES_PER_TICKET || h.failures(&address_key) >= MAX_FAILURES_PER_ADDRESS {
        return Err(AppError::TooManyRequests("登录错误次数过多，请10分钟后再试，或请监考员协助".to_owned()));
    }
    let fail = |e: AppError| {
        h.failed(&ticket_key);
        h.failed(&address_key);
        e
    };
    let db = state.store().conn();
    let now = now_ms(state);
    let (campaign_id, rules) = campaign_and_rules(state).await?;
    let seats = store::seats_for_ticket(db, campaign_id, &ticket_no).await?;
    let Some(first) = seats.first() else { return Err(fail(login_refused())) };
    let person = roster_seat(state, first.sitting_id, first.room_id, first.id).await?.ok_or(AppError::NotFound)?;
    if person.id_number.to_uppercase() != id_number {
        return Err(fail(login_refused()));
    }
    // The sitting whose login window is open now.
    let mut chosen: Option<(SeatAssignment, Arc<SittingRow>, RoomSession)> = None;
    let mut closed = false;
    for seat in seats {
        let sitting = match sitting_row(state, seat.sitting_id).await {
            Ok(s) => s,
            Err(AppError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let session = room_live(state, seat.sitting_id, seat.room_id).await?.session.clone();
        let clock = session.as_ref().map(clock_of).unwrap_or_default().effective(now, sitting.starts_at, &rules);
        match login_window(&clock, now, sitting.starts_at, sitting.ends_at, &rules) {
            LoginWindow::Open => {
                let Some(session) = session else {
                    return Err(conflict("监考员尚未开放本考场，请稍候"));
                };
                chosen = Some((seat, sitting, session));
                break;
            }
            LoginWindow::Closed if now < sitting.ends_at => closed = true,
            _ => {}
        }
    }
    let Some((seat, sitting, session)) = chosen else {
        if closed {
            return Err(conflict("已超过开考后允许入场的时间，不能登录，按缺考处理；如有疑问请联系监考员"));
        }
        return Err(conflict("现在不是您的考试时间，请按准考证上的时间参加考试"));
    };
    if !constant_time_eq(session.access_code.as_bytes(), code.to_uppercase().as_bytes()) {
        return Err(fail(AppError::field("access_code", "考场登录码不正确，请核对监考员公布的登录码")));
    }
    if !seb_allows(&seb_keys(state, sitting.id).await?, browser) {
        return Err(seb_refused());
    }
    let form_id = match seat.form_number {
        Some(n) => {
            let work_type =
                if Subject::parse(&sitting.subject).is_some_and(Subject::per_work_type) { person.work_type.as_str() } else { "" };
            form_id(state, &sitting.subject, person.target_level, work_type, n).await?
        }
        None => None,
    };
    let Some(form_id) = form_id else {
        return Err(conflict("本场次尚未组卷，请联系监考员"));
    };
    let seed = rand::rng().next_u64().to_string();
    let token = random_token(32);
    let hash = sm3_hex(&token);
    let hash_of_session = hash.clone();
    let actor = candidate_actor(&seat.ticket_no, &seat.agency_code, client_ip);
    let job = LoginWrite {
        seat_assignment_id: seat.id,
        sitting_id: seat.sitting_id,
        room_id: seat.room_id,
        application_id: seat.application_id,
        form_id,
        seed,
        seat: seat.seat,
        session_hash: hash,
        now,
        actor,
    };
    let (done, wait) = oneshot::channel();
    send(state, WriteJob::Login { job: Box::new(job), done }).await?;
    let attempt = received(wait.await)?;
    let attempt_id = attempt.id;
    lock(&h.places).insert(attempt_id, (attempt.sitting_id, attempt.room_id));
    h.wrote(*attempt);
    let known = KnownSession { attempt_id, csrf: seat_csrf(&token) };
    lock(&h.sessions).insert(hash_of_session, known);
    Ok(LoggedIn { token, attempt_id })
}

fn candidate_actor(ticket_no: &str, agency_code: &str, client_ip: &str) -> Actor {
    Actor {
        username: format!("candidate:{ticket_no}"),
        role: "candidate".to_owned(),
        jurisdiction: agency_code.to_owned(),
        client_ip: client_ip.to_owned(),
    }
}

/// Ends the session on this browser (the attempt goes on; logging in again resumes it).
pub async fn logout(state: &AppState, token: &str) -> AppResult<()> {
    let hash = sm3_hex(token);
    if let Some(a) = store::attempt_by_session(state.store().conn(), &hash).await? {
        let tx = state.store().write().await?;
        store::clear_session(tx.conn(), a.id, &hash).await?;
        tx.commit().await?;
        hub(state).forget_attempt(a.id);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Identity and state

/// What the identity page shows the candidate to confirm.
pub struct Identity {
    pub name: String,
    pub id_number_masked: String,
    pub ticket_no: String,
    pub subject: String,
    pub sitting: String,
    pub centre: String,
    pub room: String,
    pub seat: i32,
    pub has_photo: bool,
    pub confirmed: bool,
    pub application_id: i64,
}

/// What the identity page shows that does not change during the exam, read once per attempt
/// and seat on this node (the identity page, the exam page and the photo all need it).
#[derive(Clone)]
struct SeatedPerson {
    seat_assignment_id: i64,
    name: String,
    id_number_masked: String,
    centre: String,
    room: String,
    has_photo: bool,
}

async fn seated_person(state: &AppState, ctx: &AttemptCtx) -> AppResult<Arc<SeatedPerson>> {
    let a = &ctx.attempt;
    if let Some(p) = lock(&hub(state).people).get(&a.id).filter(|p| p.seat_assignment_id == a.seat_assignment_id) {
        return Ok(p.clone());
    }
    let p = match roster_seat(state, a.sitting_id, a.room_id, a.seat_assignment_id).await? {
        Some(r) => SeatedPerson {
            seat_assignment_id: a.seat_assignment_id,
            name: r.name.clone(),
            id_number_masked: masked_id(&r.id_number),
            centre: r.centre.clone(),
            room: r.room.clone(),
            has_photo: r.has_photo,
        },
        // Moved to a seat in another room: read one by one.
        None => seated_person_by_reads(state, a).await?,
    };
    let p = Arc::new(p);
    lock(&hub(state).people).insert(a.id, p.clone());
    Ok(p)
}

fn masked_id(id_number: &str) -> String {
    gongkao_domain::id_number::IdNumber::parse(id_number).map(|i| i.masked()).unwrap_or_else(|_| "—".to_owned())
}

async fn seated_person_by_reads(state: &AppState, a: &Attempt) -> AppResult<SeatedPerson> {
    let db = state.store().conn();
    let app = applications::get(db, a.application_id).await?.ok_or(AppError::NotFound)?;
    let person = units::applicant(db, app.applicant_id).await?.ok_or(AppError::NotFound)?;
    let room = exam_sites::room(db, a.room_id).await?.ok_or(AppError::NotFound)?;
    let centre = exam_sites::centre(db, room.centre_id).await?.ok_or(AppError::NotFound)?;
    let has_photo = super::files::current(state, app.id).await?.iter().any(|f| f.kind == super::files::FileKind::Photo.as_str());
    Ok(SeatedPerson {
        seat_assignment_id: a.seat_assignment_id,
        id_number_masked: masked_id(&person.id_number),
        name: person.name,
        centre: centre.name,
        room: room.name,
        has_photo,
    })
}

pub async fn identity(state: &AppState, attempt_id: i64) -> AppResult<Identity> {
    let ctx = context(state, attempt_id).await?;
    let p = seated_person(state, &ctx).await?;
    Ok(Identity {
        name: p.name.clone(),
        id_number_masked: p.id_number_masked.clone(),
        ticket_no: ctx.ticket_no.clone(),
        subject: Subject::parse(&ctx.sitting.subject).map_or(ctx.sitting.subject.clone(), |s| s.label().to_owned()),
        sitting: super::exam_sites::sitting_label(&ctx.sitting),
        centre: p.centre.clone(),
        room: p.room.clone(),
        seat: ctx.attempt.seat,
        has_photo: p.has_photo,
        confirmed: ctx.attempt.confirmed_at.is_some(),
        application_id: ctx.attempt.application_id,
    })
}

pub async fn confirm_identity(state: &AppState, attempt_id: i64) -> AppResult<()> {
    let now = now_ms(state);
    let ctx = context(state, attempt_id).await?;
    let started = room_clock(state, &ctx.sitting, ctx.attempt.room_id).await?.is_started();
    if ctx.attempt.confirmed_at.is_some() && (ctx.status() != AttemptStatus::Waiting || !started) {
        // Confirmed before (a second tab, a login again): nothing to write.
        return Ok(());
    }
    let (done, wait) = oneshot::channel();
    send(state, WriteJob::Confirm { attempt_id, begin: started, now, done }).await?;
    match received(wait.await)? {
        Some(row) => hub(state).wrote(*row),
        None => hub(state).forget_attempt(attempt_id),
    }
    Ok(())
}

/// The page's view of the attempt, polled while waiting and after each reconnection.
#[derive(Debug, Serialize)]
pub struct ExamState {
    pub status: &'static str,
    pub status_label: &'static str,
    pub confirmed: bool,
    pub room_started: bool,
    pub paused: bool,
    pub remaining_ms: i64,
    /// Milliseconds until submission is allowed (0 when it is).
    pub submit_in_ms: i64,
    pub item_count: usize,
    pub server_time: i64,
}

pub async fn exam_state(state: &AppState, attempt_id: i64) -> AppResult<ExamState> {
    let mut ctx = context(state, attempt_id).await?;
    let clock = room_clock(state, &ctx.sitting, ctx.attempt.room_id).await?;
    let now = now_ms(state);
    if ctx.status() == AttemptStatus::Waiting && clock.is_started() && ctx.attempt.confirmed_at.is_some() {
        begin(state, &ctx).await?;
        ctx = context(state, attempt_id).await?;
    }
    let rules = delivery_rules(state).await?;
    let earliest = i64::from(rules.earliest_submit_minutes) * 60_000;
    let status = ctx.status();
    Ok(ExamState {
        status: status.as_str(),
        status_label: status.label(),
        confirmed: ctx.attempt.confirmed_at.is_some(),
        room_started: clock.is_started(),
        paused: clock.is_paused(),
        remaining_ms: clock.remaining_ms(now, ctx.duration_ms(), ctx.attempt.extension_ms),
        submit_in_ms: if clock.is_started() { (earliest - clock.elapsed_ms(now)).max(0) } else { earliest },
        item_count: ctx.shown.len(),
        server_time: now,
    })
}

/// The longest a waiting page's request for the state is held.
pub const MAX_STATE_WAIT: Duration = Duration::from_secs(25);

/// The state, held back while the candidate waits for the room to start (a long poll): it
/// answers as soon as this node starts the room, within a second when another node does or the
/// sitting starts by itself, and after `wait` at the latest. So the paper appears the moment
/// the proctor starts the room, without thousands of pages polling every second or two.
pub async fn exam_state_when_started(state: &AppState, attempt_id: i64, wait: Duration) -> AppResult<ExamState> {
    let until = Instant::now() + wait.min(MAX_STATE_WAIT);
    loop {
        let ctx = context(state, attempt_id).await?;
        let bell = hub(state).bell(ctx.attempt.sitting_id, ctx.attempt.room_id);
        let rung = bell.notified();
        tokio::pin!(rung);
        // Listening before looking: a start between the look and the wait still wakes us.
        rung.as_mut().enable();
        let now = exam_state(state, attempt_id).await?;
        let left = until.saturating_duration_since(Instant::now());
        if now.status != AttemptStatus::Waiting.as_str() || !now.confirmed || now.room_started || left.is_zero() {
            return Ok(now);
        }
        let until_start = u64::try_from(ctx.sitting.starts_at - now.server_time).ok().filter(|ms| *ms > 0).map(Duration::from_millis);
        let nap = left.min(Duration::from_secs(1)).min(until_start.unwrap_or(Duration::MAX));
        tokio::select! {
            () = &mut rung => {}
            () = tokio::time::sleep(nap) => {}
        }
    }
}

async fn begin(state: &AppState, ctx: &AttemptCtx) -> AppResult<()> {
    rules::next(ctx.status(), AttemptEvent::Begin).map_err(AppError::Conflict)?;
    let tx = state.store().write().await?;
    match store::set_status(tx.conn(), ctx.attempt.id, "waiting", "answering", now_ms(state)).await {
        // Another request of the same page began it first.
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    hub(state).forget_attempt(ctx.attempt.id);
    Ok(())
}

/// One item as the candidate's page receives it: never the key.
#[derive(Debug, Serialize)]
pub struct ShownItemView {
    pub position: usize,
    pub kind: ItemKind,
    pub kind_label: &'static str,
    pub points: String,
    pub stem: String,
    pub options: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SavedAnswer {
    pub position: i32,
    pub answer: String,
    pub flagged: bool,
    pub seq: i64,
}

impl From<store::Response> for SavedAnswer {
    fn from(r: store::Response) -> Self {
        SavedAnswer { position: r.position, answer: r.answer, flagged: r.flagged, seq: r.seq }
    }
}

#[derive(Debug, Serialize)]
pub struct PaperView {
    pub subject: String,
    pub items: Vec<ShownItemView>,
    pub answers: Vec<SavedAnswer>,
    pub last_seq: i64,
    pub state: ExamState,
}

/// The candidate's own form, in their order, with every acknowledged answer. Only once the
/// room has started and the candidate is answering.
pub async fn paper(state: &AppState, attempt_id: i64) -> AppResult<PaperView> {
    let exam = exam_state(state, attempt_id).await?;
    if exam.status != AttemptStatus::Answering.as_str() {
        return Err(conflict(match exam.status {
            "waiting" if !exam.confirmed => "请先核对并确认身份信息",
            "waiting" => "考试尚未开始，请等待监考员开考",
            _ => "本场考试已结束",
        }));
    }
    let ctx = context(state, attempt_id).await?;
    let items = (0..ctx.shown.len()).map(|position| shown_item(&ctx, position)).collect::<AppResult<Vec<_>>>()?;
    let saved = store::responses(state.store().conn(), attempt_id).await?;
    let last_seq = saved.iter().map(|r| r.seq).max().unwrap_or(0);
    let answers = saved.into_iter().map(SavedAnswer::from).collect();
    let subject = Subject::parse(&ctx.sitting.subject).map_or(ctx.sitting.subject.clone(), |s| s.label().to_owned());
    Ok(PaperView { subject, items, answers, last_seq, state: exam })
}

fn shown_item(ctx: &AttemptCtx, position: usize) -> AppResult<ShownItemView> {
    let (Some(paper), Some(presentation)) = (&ctx.paper, &ctx.presentation) else { return Err(conflict("本场次尚未组卷")) };
    let p = presentation.items.get(position).ok_or_else(|| AppError::field("position", format!("题号：第{}题不存在", position + 1)))?;
    let i = p.form_index as usize;
    let item = &paper.form.items[i];
    let content = &paper.contents[i];
    let options = match item.kind {
        ItemKind::SingleChoice | ItemKind::MultipleChoice => {
            p.option_order.iter().filter_map(|o| content.options.get(usize::from(*o)).cloned()).collect()
        }
        ItemKind::TrueFalse => gongkao_domain::item_bank::TRUE_FALSE_OPTIONS.iter().map(|s| (*s).to_owned()).collect(),
        _ => Vec::new(),
    };
    Ok(ShownItemView {
        position,
        kind: item.kind,
        kind_label: item.kind.label(),
        points: format_tenths(item.points),
        stem: content.stem.clone(),
        options,
    })
}

/// One item and its stored answer: what a page that loads item by item asks for after each
/// save (the like-for-like path of older systems, which return the next question with each
/// save).
#[derive(Debug, Serialize)]
pub struct ItemWithAnswer {
    pub item: ShownItemView,
    pub answer: Option<SavedAnswer>,
}

pub async fn item(state: &AppState, attempt_id: i64, position: usize) -> AppResult<ItemWithAnswer> {
    let ctx = context(state, attempt_id).await?;
    if ctx.status() != AttemptStatus::Answering {
        return Err(conflict("考试尚未开始或已结束"));
    }
    let item = shown_item(&ctx, position)?;
    let answer =
        store::response(state.store().conn(), attempt_id, i32::try_from(position).unwrap_or(i32::MAX)).await?.map(SavedAnswer::from);
    Ok(ItemWithAnswer { item, answer })
}

// ---------------------------------------------------------------------------------------------
// Saves

/// One save as the page sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct SaveIn {
    pub seq: i64,
    pub position: i32,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub flagged: bool,
}

#[derive(Debug, Deserialize)]
pub struct SaveRequest {
    pub saves: Vec<SaveIn>,
    /// Optional: the page's attempt, checked against the session's.
    #[serde(default)]
    pub attempt: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct SaveOutcome {
    /// Sequence numbers now durable (every save of the request).
    pub acked: Vec<i64>,
    pub remaining_ms: i64,
}

fn writer(state: &AppState) -> mpsc::Sender<WriteJob> {
    hub(state)
        .writer
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<WriteJob>(65_536);
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            // SQLite has one writer; PostgreSQL overlaps a few commits.
            let writers = if state.store().backend() == gongkao_storage::sea_orm::DbBackend::Postgres { 4 } else { 1 };
            for _ in 0..writers {
                tokio::spawn(write_loop(state.store().clone(), rx.clone()));
            }
            tx
        })
        .clone()
}

async fn send(state: &AppState, job: WriteJob) -> AppResult<()> {
    writer(state).send(job).await.map_err(|_| AppError::Internal("answer writer stopped".to_owned()))
}

fn received<T>(r: Result<Result<T, WriteError>, oneshot::error::RecvError>) -> AppResult<T> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(WriteError::Refused(m))) => Err(AppError::Conflict(m)),
        Ok(Err(WriteError::Failed(e))) => Err(AppError::Internal(e)),
        Err(_) => Err(AppError::Internal("the writer dropped the request".to_owned())),
    }
}

async fn write_loop(store: Store, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<WriteJob>>>) {
    loop {
        let mut jobs = Vec::new();
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(job) => jobs.push(job),
                None => return,
            }
            while jobs.len() < MAX_BATCH_JOBS {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
        }
        match write_round(&store, &mut jobs).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    match (job, outcome) {
                        (WriteJob::Saves { attempt_id, done, .. }, Outcome::Saves(open)) => {
                            let _ = done.send(Ok(open.contains(&attempt_id)));
                        }
                        (WriteJob::Login { done, .. }, Outcome::Login(r)) => {
                            let _ = done.send(r);
                        }
                        (WriteJob::Confirm { done, .. }, Outcome::Confirm(row)) => {
                            let _ = done.send(Ok(row));
                        }
                        (WriteJob::Confirm { done, .. }, _) => {
                            let _ = done.send(Err(WriteError::Failed("write round out of step".to_owned())));
                        }
                        (WriteJob::Saves { done, .. }, _) => {
                            let _ = done.send(Err(WriteError::Failed("write round out of step".to_owned())));
                        }
                        (WriteJob::Login { done, .. }, _) => {
                            let _ = done.send(Err(WriteError::Failed("write round out of step".to_owned())));
                        }
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = jobs.len(), "write round failed");
                for job in jobs {
                    let failed = WriteError::Failed(e.to_string());
                    match job {
                        WriteJob::Saves { done, .. } => {
                            let _ = done.send(Err(failed));
                        }
                        WriteJob::Login { done, .. } => {
                            let _ = done.send(Err(failed));
                        }
                        WriteJob::Confirm { done, .. } => {
                            let _ = done.send(Err(failed));
                        }
                    }
                }
            }
        }
    }
}

enum Outcome {
    Saves(Arc<std::collections::HashSet<i64>>),
    Login(Result<Box<Attempt>, WriteError>),
    Confirm(Option<Box<Attempt>>),
}

/// One transaction for a round of jobs: the answers in one guarded statement, then the logins
/// and confirmations, then the logins' audit entries (appended last, as everywhere).
async fn write_round(store: &Store, jobs: &mut [WriteJob]) -> Result<Vec<Outcome>, StoreError> {
    let tx = store.write().await?;
    let rows: Vec<SaveRow> = jobs
        .iter_mut()
        .filter_map(|j| match j {
            WriteJob::Saves { rows, .. } => Some(std::mem::take(rows)),
            _ => None,
        })
        .flatten()
        .collect();
    let open: Arc<std::collections::HashSet<i64>> =
        Arc::new(if rows.is_empty() { Default::default() } else { store::save_batch(tx.conn(), &rows).await?.into_iter().collect() });
    // The round's logins, with three statements in all (a start storm brings hundreds in one
    // round): the seats' attempts as they were, one upsert that creates the missing attempts
    // and sets the sessions, the attempts as they are now. Two logins of one seat in the same
    // round behave as one after the other: both succeed, the later session wins.
    let seats: Vec<i64> =
        jobs.iter().filter_map(|j| if let WriteJob::Login { job, .. } = j { Some(job.seat_assignment_id) } else { None }).collect();
    let login_now = jobs.iter().find_map(|j| if let WriteJob::Login { job, .. } = j { Some(job.now) } else { None });
    let before = store::attempts_of_seats(tx.conn(), &seats).await?;
    let mut last_login: HashMap<i64, &LoginWrite> = HashMap::new();
    for job in jobs.iter() {
        if let WriteJob::Login { job, .. } = job {
            let open = before.get(&job.seat_assignment_id).is_none_or(|a| AttemptStatus::parse(&a.status).is_some_and(|s| !s.is_final()));
            if open {
                last_login.insert(job.seat_assignment_id, job);
            }
        }
    }
    let upserts: Vec<(NewAttempt<'_>, &str)> = last_login
        .values()
        .map(|job| {
            let attempt = NewAttempt {
                seat_assignment_id: job.seat_assignment_id,
                sitting_id: job.sitting_id,
                room_id: job.room_id,
                application_id: job.application_id,
                form_id: Some(job.form_id),
                candidate_seed: &job.seed,
                seat: job.seat,
                status: AttemptStatus::Waiting.as_str(),
            };
            (attempt, job.session_hash.as_str())
        })
        .collect();
    let after = match login_now {
        Some(now) => {
            store::upsert_logins(tx.conn(), &upserts, now).await?;
            store::attempts_of_seats(tx.conn(), &seats).await?
        }
        None => HashMap::new(),
    };
    drop(upserts);
    // The round's confirmations: one statement for those whose room has started, one for the
    // others, each at the latest of their times.
    let mut confirmed = HashMap::new();
    for begin in [true, false] {
        let group: Vec<(i64, i64)> = jobs
            .iter()
            .filter_map(|j| match j {
                WriteJob::Confirm { attempt_id, begin: b, now, .. } if *b == begin => Some((*attempt_id, *now)),
                _ => None,
            })
            .collect();
        if let Some(now) = group.iter().map(|(_, now)| *now).max() {
            let ids: Vec<i64> = group.iter().map(|(id, _)| *id).collect();
            confirmed.extend(store::confirm_identities(tx.conn(), &ids, begin, now).await?);
        }
    }
    let mut seen: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut audits = Vec::new();
    for job in jobs.iter() {
        outcomes.push(match job {
            WriteJob::Saves { .. } => Outcome::Saves(open.clone()),
            WriteJob::Confirm { attempt_id, .. } => Outcome::Confirm(confirmed.get(attempt_id).cloned().map(Box::new)),
            WriteJob::Login { job, .. } => {
                let Some(attempt) = after.get(&job.seat_assignment_id) else { return Err(StoreError::NotFound) };
                let status = AttemptStatus::parse(&attempt.status).unwrap_or(AttemptStatus::Ended);
                let is_last = last_login.get(&job.seat_assignment_id).is_some_and(|l| std::ptr::eq(*l, job.as_ref()));
                // The last login of a seat must own the session now; if not, the attempt ended
                // meanwhile (another node's proctor) and the upsert left it alone.
                if status.is_final() || (is_last && attempt.session_hash.as_deref() != Some(job.session_hash.as_str())) {
                    Outcome::Login(Err(WriteError::Refused(format!("您本场考试的状态为“{}”，不能再登录", status.label()))))
                } else {
                    let earlier = before.get(&job.seat_assignment_id).is_some_and(|a| a.logged_in_at.is_some());
                    let again = if earlier || !seen.insert(attempt.id) { "（再次登录，原登录失效）" } else { "" };
                    audits.push((
                        job.now,
                        job.actor.record("exam.login", format!("attempt:{}", attempt.id), format!("{}座{again}", job.seat)),
                    ));
                    Outcome::Login(Ok(Box::new(attempt.clone())))
                }
            }
        });
    }
    audit::append_many(&tx, audits.into_iter().map(|(at, record)| (gongkao_storage::from_ms(at), record)).collect()).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Takes the page's saves: checks each against the candidate's own items, writes them through
/// the group-commit writer and answers once they are durable. Idempotent: a save repeated or
/// arriving after a newer one for the same item changes nothing, and is acknowledged.
pub async fn save(state: &AppState, session: &SeatSession, request: SaveRequest) -> AppResult<SaveOutcome> {
    if request.attempt.is_some_and(|a| a != session.attempt_id) {
        return Err(AppError::Forbidden);
    }
    if request.saves.is_empty() || request.saves.len() > MAX_SAVES_PER_REQUEST {
        return Err(AppError::field("saves", format!("作答：每次提交1至{MAX_SAVES_PER_REQUEST}条")));
    }
    let ctx = context(state, session.attempt_id).await?;
    let clock = room_clock(state, &ctx.sitting, ctx.attempt.room_id).await?;
    let now = now_ms(state);
    if ctx.status() != AttemptStatus::Answering {
        return Err(conflict(match ctx.status() {
            AttemptStatus::Waiting => "考试尚未开始",
            _ => "本场考试已交卷或已结束，答案不能再修改",
        }));
    }
    if let Some(deadline) = clock.deadline(ctx.duration_ms(), ctx.attempt.extension_ms)
        && now > deadline + SAVE_GRACE_MS
    {
        return Err(conflict("考试时间已到，答案不能再修改"));
    }
    let mut rows = Vec::with_capacity(request.saves.len());
    for s in &request.saves {
        let Some(item) = usize::try_from(s.position).ok().and_then(|p| ctx.shown.get(p)) else {
            return Err(AppError::field("position", format!("题号：第{}题不存在", i64::from(s.position) + 1)));
        };
        if s.seq <= 0 {
            return Err(AppError::field("seq", "序号：应为正整数"));
        }
        let answer = normalise_answer(*item, &s.answer).map_err(|m| AppError::field("answer", m))?;
        rows.push(SaveRow { attempt_id: ctx.attempt.id, position: s.position, answer, flagged: s.flagged, seq: s.seq, saved_at: now });
    }
    let acked = request.saves.iter().map(|s| s.seq).collect();
    let (done, wait) = oneshot::channel();
    send(state, WriteJob::Saves { attempt_id: ctx.attempt.id, rows, done }).await?;
    if received(wait.await)? {
        Ok(SaveOutcome { acked, remaining_ms: clock.remaining_ms(now, ctx.duration_ms(), ctx.attempt.extension_ms) })
    } else {
        hub(state).forget_attempt(ctx.attempt.id);
        Err(conflict("本场考试已交卷或已结束，答案不能再修改"))
    }
}

// ---------------------------------------------------------------------------------------------
// Submission and scoring

/// Who ended the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitter {
    Candidate,
    /// The clock: time ran out.
    Clock,
}

impl Submitter {
    fn as_str(self) -> &'static str {
        match self {
            Submitter::Candidate => "candidate",
            Submitter::Clock => "clock",
        }
    }
}

/// The receipt shown after submission.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub attempt_id: i64,
    pub ticket_no: String,
    pub name: String,
    pub subject: String,
    pub sitting: String,
    pub submitted_at: i64,
    pub submitted_by: String,
    pub answered: i32,
    pub item_count: usize,
    pub digest: String,
    pub signature: String,
    /// Shown when the campaign shows scores on screen and nothing awaits marking.
    pub score: Option<String>,
    pub for_marking: i32,
    pub status_label: &'static str,
}

fn receipt_mac(state: &AppState) -> Option<Hmac<Sm3>> {
    let key = state.config().item_cipher.derive(b"gongkao attempt receipt v1");
    <Hmac<Sm3> as KeyInit>::new_from_slice(&key).ok()
}

fn sign(state: &AppState, digest: &str) -> String {
    receipt_mac(state)
        .map(|mut m| {
            m.update(digest.as_bytes());
            hex::encode(m.finalize().into_bytes())
        })
        .unwrap_or_default()
}

/// Whether a receipt's signature is the server's (for a dispute).
pub fn verify_receipt(state: &AppState, digest: &str, signature: &str) -> bool {
    let Ok(given) = hex::decode(signature) else { return false };
    receipt_mac(state).is_some_and(|mut m| {
        m.update(digest.as_bytes());
        m.verify_slice(&given).is_ok()
    })
}

/// Scores and closes an attempt in one transaction: the status moves first (on PostgreSQL that
/// row lock waits for any save statement still running on it), then the answers are read, so the
/// receipt covers exactly what is stored.
async fn finish(state: &AppState, ctx: &AttemptCtx, by: Submitter, to: AttemptStatus, actor: &Actor) -> AppResult<()> {
    let (Some(paper), Some(presentation)) = (&ctx.paper, &ctx.presentation) else { return Err(conflict("本场次尚未组卷")) };
    let now = now_ms(state);
    let from = ctx.attempt.status.clone();
    let tx = state.store().write().await?;
    // Claim the attempt first with a provisional status change, then fill in the result.
    store::set_status(tx.conn(), ctx.attempt.id, &from, to.as_str(), now).await?;
    let saved = store::responses(tx.conn(), ctx.attempt.id).await?;
    let mut answers: Vec<&str> = vec![""; presentation.items.len()];
    for r in &saved {
        if let Some(slot) = usize::try_from(r.position).ok().and_then(|p| answers.get_mut(p)) {
            *slot = r.answer.as_str();
        }
    }
    let keys: Vec<KeyedItem> = paper
        .form
        .items
        .iter()
        .zip(&paper.contents)
        .map(|(i, c)| KeyedItem { kind: i.kind, points: i.points, key: c.key.iter().filter_map(|k| u8::try_from(*k).ok()).collect() })
        .collect();
    let score = score_attempt(&paper.form, &keys, presentation, &answers, paper.scoring).map_err(|e| AppError::Internal(e.to_string()))?;
    let answered: Vec<(u32, &str)> =
        saved.iter().filter(|r| !r.answer.is_empty()).map(|r| (u32::try_from(r.position).unwrap_or(0), r.answer.as_str())).collect();
    let digest = receipt_digest(&ReceiptFacts {
        attempt_id: ctx.attempt.id,
        ticket_no: &ctx.ticket_no,
        sitting_id: ctx.attempt.sitting_id,
        submitted_at: now,
        answers: &answered,
    });
    let signature = sign(state, &digest);
    // What a re-check needs besides the answers and the seed: each item's version and the rule.
    let key_versions = serde_json::to_string(&serde_json::json!({
        "items": paper.form.items.iter().map(|i| (i.item_id, i.version)).collect::<Vec<_>>(),
        "multiple_choice": paper.scoring.as_str(),
    }))
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let item_scores = serde_json::to_string(&score.items).map_err(|e| AppError::Internal(e.to_string()))?;
    store::finish(
        tx.conn(),
        ctx.attempt.id,
        to.as_str(),
        to.as_str(),
        Submission {
            submitted_by: by.as_str(),
            objective_tenths: i32::try_from(score.objective_tenths).unwrap_or(i32::MAX),
            answered: i32::try_from(score.answered).unwrap_or(0),
            for_marking: i32::try_from(score.for_marking).unwrap_or(0),
            item_scores: &item_scores,
            key_versions: &key_versions,
            receipt_digest: &digest,
            receipt_signature: &signature,
        },
        now,
    )
    .await?;
    let summary = format!(
        "{}：作答{}题，客观题{}分{}",
        match (by, to) {
            (_, AttemptStatus::Ended) => "违纪终止",
            (Submitter::Clock, _) => "时间到自动交卷",
            _ => "考生交卷",
        },
        score.answered,
        format_tenths(score.objective_tenths),
        if score.for_marking > 0 { format!("，{}题待阅卷", score.for_marking) } else { String::new() }
    );
    audit::append(&tx, state.now(), actor.record("exam.submit", format!("attempt:{}", ctx.attempt.id), summary)).await?;
    tx.commit().await?;
    hub(state).forget_attempt(ctx.attempt.id);
    Ok(())
}

/// The candidate submits: not before the earliest-submit time.
pub async fn submit(state: &AppState, session: &SeatSession, client_ip: &str) -> AppResult<Receipt> {
    let ctx = context(state, session.attempt_id).await?;
    rules::next(ctx.status(), AttemptEvent::Submit).map_err(AppError::Conflict)?;
    let clock = room_clock(state, &ctx.sitting, ctx.attempt.room_id).await?;
    rules::may_submit(&clock, now_ms(state), &delivery_rules(state).await?).map_err(|m| AppError::field("submit", m))?;
    let actor = candidate_actor(&ctx.ticket_no, &ctx.agency_code, client_ip);
    finish(state, &ctx, Submitter::Candidate, AttemptStatus::Submitted, &actor).await?;
    receipt(state, session.attempt_id).await
}

pub async fn receipt(state: &AppState, attempt_id: i64) -> AppResult<Receipt> {
    let ctx = context(state, attempt_id).await?;
    let a = &ctx.attempt;
    let (Some(digest), Some(signature), Some(submitted_at)) = (&a.receipt_digest, &a.receipt_signature, a.submitted_at) else {
        return Err(conflict("尚未交卷"));
    };
    let db = state.store().conn();
    let app = applications::get(db, a.application_id).await?.ok_or(AppError::NotFound)?;
    let person = units::applicant(db, app.applicant_id).await?.ok_or(AppError::NotFound)?;
    let rules = delivery_rules(state).await?;
    let for_marking = a.for_marking.unwrap_or(0);
    let status = ctx.status();
    let score = (rules.show_score && for_marking == 0 && status == AttemptStatus::Submitted)
        .then(|| format_tenths(u32::try_from(a.objective_tenths.unwrap_or(0)).unwrap_or(0)));
    Ok(Receipt {
        attempt_id,
        ticket_no: ctx.ticket_no.clone(),
        name: person.name,
        subject: Subject::parse(&ctx.sitting.subject).map_or(ctx.sitting.subject.clone(), |s| s.label().to_owned()),
        sitting: super::exam_sites::sitting_label(&ctx.sitting),
        submitted_at,
        submitted_by: a.submitted_by.clone().unwrap_or_default(),
        answered: a.answered.unwrap_or(0),
        item_count: ctx.shown.len(),
        digest: digest.clone(),
        signature: signature.clone(),
        score,
        for_marking,
        status_label: status.label(),
    })
}

/// Submits every attempt whose time ran out (plus the grace for saves on their way), whether or
/// not a browser is connected. Run by the clock task every few seconds; returns how many it
/// submitted.
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    let db = state.store().conn();
    let sittings = store::sittings_answering(db).await?;
    let now = now_ms(state);
    let mut submitted = 0;
    for sitting_id in sittings {
        let Some(sitting) = store::sitting(db, sitting_id).await? else { continue };
        for a in store::open_attempts(db, &[sitting_id]).await? {
            if a.status != AttemptStatus::Answering.as_str() {
                continue;
            }
            // The node's copy of the room's clock: read once per room, not once per candidate.
            let clock = room_clock(state, &sitting, a.room_id).await?;
            let Some(deadline) = clock.deadline(sitting.ends_at - sitting.starts_at, a.extension_ms) else { continue };
            if now <= deadline + SAVE_GRACE_MS {
                continue;
            }
            hub(state).forget_attempt(a.id);
            let ctx = context(state, a.id).await?;
            match finish(state, &ctx, Submitter::Clock, AttemptStatus::Submitted, &Actor::system("exam-clock")).await {
                Ok(()) => submitted += 1,
                Err(AppError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(submitted)
}

/// Runs [`sweep`] every `every` until the process ends.
pub fn spawn_clock(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e.message(), "exam clock sweep failed");
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Proctor

/// One seat as the proctor's console shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SeatRow {
    pub seat: i32,
    pub ticket_no: String,
    pub name: String,
    pub attempt_id: Option<i64>,
    pub status: &'static str,
    pub status_label: &'static str,
    pub answered: i64,
    pub item_count: usize,
    pub last_contact: Option<String>,
    pub extension_minutes: i64,
    pub remaining: String,
    pub moved_to: Option<i32>,
}

/// The room's console: the clock, the access code and every seat.
#[derive(Debug, Clone, Serialize)]
pub struct Console {
    pub sitting_id: i64,
    pub room_id: i64,
    pub sitting: String,
    pub subject: String,
    pub centre: String,
    pub room: String,
    pub access_code: String,
    pub started: bool,
    pub started_at: Option<String>,
    pub paused: bool,
    pub remaining: String,
    pub counts: Vec<(&'static str, usize)>,
    pub seats: Vec<SeatRow>,
    pub events: Vec<EventRow>,
    pub record: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub at: String,
    pub seat: Option<i32>,
    pub what: String,
    pub reason: String,
    pub actor: String,
}

fn new_access_code() -> String {
    // No 0/O or 1/I: read off a screen at the front of the room.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

fn hm(ms: i64) -> String {
    super::exam_sites::hm(gongkao_storage::from_ms(ms))
}

fn minutes_seconds(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// One room of one sitting on the centre chief's overview.
pub struct RoomProgress {
    pub sitting_id: i64,
    pub room_id: i64,
    pub sitting: String,
    pub centre: String,
    pub room: String,
    pub seated: usize,
    /// e.g. "答题中 28，已交卷 1，未登录 1".
    pub progress: String,
}

/// Every room with seated candidates of the current campaign's sittings in these agencies
/// (`None`: all), by agency, sitting, centre and room: four queries however many rooms.
pub async fn room_overview(state: &AppState, agencies: Option<&[String]>) -> AppResult<Vec<RoomProgress>> {
    let db = state.store().conn();
    let (campaign, _) = super::campaigns::current(state).await?;
    let centres = exam_sites::centres(db, campaign.id, agencies).await?;
    let rooms = exam_sites::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let mut codes: Vec<&str> = centres.iter().map(|c| c.agency_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut sittings = Vec::new();
    for code in codes {
        sittings.extend(exam_sites::sittings(db, campaign.id, code).await?);
    }
    let ids: Vec<i64> = sittings.iter().map(|s| s.id).collect();
    let seated: HashMap<(i64, i64), i64> = store::seat_counts(db, &ids).await?.into_iter().map(|(s, r, n)| ((s, r), n)).collect();
    let mut by_status: HashMap<(i64, i64), Vec<(String, i64)>> = HashMap::new();
    for (s, r, status, n) in store::attempt_counts(db, &ids).await? {
        by_status.entry((s, r)).or_default().push((status, n));
    }
    let mut out = Vec::new();
    for sitting in &sittings {
        for c in centres.iter().filter(|c| c.agency_code == sitting.agency_code) {
            for r in rooms.iter().filter(|r| r.centre_id == c.id) {
                let Some(&n) = seated.get(&(sitting.id, r.id)).filter(|n| **n > 0) else { continue };
                let counts = by_status.get(&(sitting.id, r.id)).map(Vec::as_slice).unwrap_or(&[]);
                let mut parts = Vec::new();
                for status in AttemptStatus::ALL {
                    let k: i64 = counts.iter().filter(|(st, _)| st == status.as_str()).map(|(_, n)| n).sum();
                    if k > 0 {
                        parts.push(format!("{} {k}", status.label()));
                    }
                }
                let logged_in: i64 = counts.iter().map(|(_, n)| n).sum();
                if n > logged_in {
                    parts.push(format!("未登录 {}", n - logged_in));
                }
                out.push(RoomProgress {
                    sitting_id: sitting.id,
                    room_id: r.id,
                    sitting: super::exam_sites::sitting_label(sitting),
                    centre: c.name.clone(),
                    room: r.name.clone(),
                    seated: usize::try_from(n).unwrap_or(0),
                    progress: parts.join("，"),
                });
            }
        }
    }
    Ok(out)
}

/// The test centre a room belongs to and its agency, for the policy's jurisdiction check.
pub async fn room_agency(state: &AppState, room_id: i64) -> AppResult<Option<(i64, String)>> {
    let db = state.store().conn();
    let Some(room) = exam_sites::room(db, room_id).await? else { return Ok(None) };
    Ok(exam_sites::centre(db, room.centre_id).await?.map(|c| (c.id, c.agency_code)))
}

/// The room's session for the sitting, created with a new access code on first use.
pub async fn open_room(state: &AppState, sitting_id: i64, room_id: i64) -> AppResult<RoomSession> {
    if let Some(s) = store::room_session(state.store().conn(), sitting_id, room_id).await? {
        return Ok(s);
    }
    let tx = state.store().write().await?;
    let s = store::ensure_room_session(tx.conn(), sitting_id, room_id, &new_access_code()).await?;
    tx.commit().await?;
    hub(state).forget_room(sitting_id, room_id);
    Ok(s)
}

/// Opens (creating on first use, with a new access code) and reads the room's console.
pub async fn console(state: &AppState, sitting_id: i64, room_id: i64) -> AppResult<Console> {
    let db = state.store().conn();
    let sitting = store::sitting(db, sitting_id).await?.ok_or(AppError::NotFound)?;
    let room = exam_sites::room(db, room_id).await?.ok_or(AppError::NotFound)?;
    let centre = exam_sites::centre(db, room.centre_id).await?.ok_or(AppError::NotFound)?;
    if centre.agency_code != sitting.agency_code {
        return Err(AppError::NotFound);
    }
    let session = open_room(state, sitting_id, room_id).await?;
    let now = now_ms(state);
    let rules = delivery_rules(state).await?;
    let clock = clock_of(&session).effective(now, sitting.starts_at, &rules);
    let duration = sitting.ends_at - sitting.starts_at;
    let seats = store::seats_in_room(db, sitting_id, room_id).await?;
    let attempts: HashMap<i64, Attempt> =
        store::attempts_in_room(db, sitting_id, room_id).await?.into_iter().map(|a| (a.seat_assignment_id, a)).collect();
    let progress: HashMap<i64, (i64, i64, i64, i64)> =
        store::room_progress(db, sitting_id, room_id).await?.into_iter().map(|p| (p.0, p)).collect();
    let app_ids: Vec<i64> = seats.iter().map(|s| s.application_id).collect();
    let apps = applications::by_ids(db, &app_ids).await?;
    let person_ids: Vec<i64> = apps.iter().map(|a| a.applicant_id).collect();
    let people: HashMap<i64, String> = units::applicants_by_ids(db, &person_ids).await?.into_iter().map(|p| (p.id, p.name)).collect();
    let names: HashMap<i64, String> = apps.iter().filter_map(|a| Some((a.id, people.get(&a.applicant_id)?.clone()))).collect();
    let late_closed = matches!(login_window(&clock, now, sitting.starts_at, sitting.ends_at, &rules), LoginWindow::Closed);
    let mut rows = Vec::with_capacity(seats.len());
    for s in &seats {
        let attempt = attempts.get(&s.id);
        let (status, label) = match attempt.and_then(|a| AttemptStatus::parse(&a.status)) {
            Some(st) => (st.as_str(), st.label()),
            None if late_closed => ("absent", "缺考（未登录）"),
            None => ("not_logged_in", "未登录"),
        };
        let p = attempt.and_then(|a| progress.get(&a.id));
        let last = attempt.and_then(|a| p.map(|p| p.3).into_iter().chain(a.logged_in_at).max());
        let item_count = match attempt.and_then(|a| a.form_id) {
            Some(f) => lock(&hub(state).papers).get(&f).and_then(|c| c.get().map(|p| p.form.items.len())).unwrap_or(0),
            None => 0,
        };
        rows.push(SeatRow {
            seat: s.seat,
            ticket_no: s.ticket_no.clone(),
            name: names.get(&s.application_id).cloned().unwrap_or_default(),
            attempt_id: attempt.map(|a| a.id),
            status,
            status_label: label,
            answered: attempt.and_then(|a| a.answered.map(i64::from)).or(p.map(|p| p.1)).unwrap_or(0),
            item_count,
            last_contact: last.map(hm),
            extension_minutes: attempt.map_or(0, |a| a.extension_ms / 60_000),
            remaining: match attempt {
                Some(a) if a.status == "answering" || a.status == "waiting" => {
                    minutes_seconds(clock.remaining_ms(now, duration, a.extension_ms))
                }
                _ => "—".to_owned(),
            },
            moved_to: attempt.filter(|a| a.seat != s.seat).map(|a| a.seat),
        });
    }
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for (key, label) in [
        ("not_logged_in", "未登录"),
        ("waiting", "等待开考"),
        ("answering", "答题中"),
        ("submitted", "已交卷"),
        ("absent", "缺考"),
        ("ended", "违纪终止"),
    ] {
        counts.push((label, rows.iter().filter(|r| r.status == key).count()));
    }
    let seat_of: HashMap<i64, i32> = attempts.values().map(|a| (a.id, a.seat)).collect();
    let events = store::events(db, sitting_id, room_id)
        .await?
        .into_iter()
        .map(|e| EventRow {
            at: hm(e.at),
            seat: e.attempt_id.and_then(|a| seat_of.get(&a).copied()),
            what: event_label(&e.kind, e.category.as_deref(), e.minutes),
            reason: e.reason,
            actor: e.actor,
        })
        .collect();
    let centre_name = centre.name.clone();
    Ok(Console {
        sitting_id,
        room_id,
        sitting: super::exam_sites::sitting_label(&sitting),
        subject: Subject::parse(&sitting.subject).map_or(sitting.subject.clone(), |s| s.label().to_owned()),
        centre: centre_name,
        room: room.name,
        access_code: session.access_code.clone(),
        started: clock.is_started(),
        started_at: clock.started_at.map(hm),
        paused: clock.is_paused(),
        remaining: minutes_seconds(clock.remaining_ms(now, duration, 0)),
        counts,
        seats: rows,
        events,
        record: session.record,
    })
}

fn event_label(kind: &str, category: Option<&str>, minutes: Option<i32>) -> String {
    match kind {
        "start" => "开考".to_owned(),
        "pause" => "全场暂停".to_owned(),
        "resume" => "全场恢复".to_owned(),
        "extend" => format!("延长时间{}分钟", minutes.unwrap_or(0)),
        "absent" => "记为缺考".to_owned(),
        "move" => format!("调换至备用座位{}", minutes.unwrap_or(0)),
        "violation" => {
            let c = category.and_then(rules::violation);
            format!("违纪：{}（{}）", c.map_or("—", |c| c.label), c.map_or("", |c| c.consequence.label()))
        }
        other => other.to_owned(),
    }
}

/// A proctor's action on the whole room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomAction {
    Start,
    Pause,
    Resume,
}

fn required_reason(pairs: &[(String, String)]) -> AppResult<String> {
    let reason = form_value(pairs, "reason");
    if reason.is_empty() {
        return Err(AppError::field("reason", "原因：请填写"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::field("reason", "原因：不超过500个字"));
    }
    Ok(reason.to_owned())
}

pub async fn room_action(
    state: &AppState,
    actor: &Actor,
    sitting_id: i64,
    room_id: i64,
    action: RoomAction,
    pairs: &[(String, String)],
) -> AppResult<()> {
    let reason = match action {
        RoomAction::Start => form_value(pairs, "reason").to_owned(),
        _ => required_reason(pairs)?,
    };
    let db = state.store().conn();
    let sitting = store::sitting(db, sitting_id).await?.ok_or(AppError::NotFound)?;
    let session = store::room_session(db, sitting_id, room_id).await?.ok_or_else(|| conflict("请先打开本考场的监考页面"))?;
    let mut clock = clock_of(&session);
    let now = now_ms(state);
    let (kind, result) = match action {
        RoomAction::Start => ("start", clock.start(now, sitting.starts_at, sitting.ends_at)),
        RoomAction::Pause => ("pause", clock.pause(now)),
        RoomAction::Resume => ("resume", clock.resume(now)),
    };
    result.map_err(AppError::Conflict)?;
    let tx = state.store().write().await?;
    store::set_room_clock(
        tx.conn(),
        &session,
        clock.started_at,
        Some(session.started_by.as_deref().unwrap_or(&actor.username)),
        clock.paused_at,
        clock.paused_total_ms,
    )
    .await?;
    if action == RoomAction::Start {
        store::begin_room(tx.conn(), sitting_id, room_id, now).await?;
    }
    store::insert_event(
        tx.conn(),
        NewEvent { sitting_id, room_id, attempt_id: None, kind, category: None, minutes: None, reason: &reason, actor: &actor.username },
        now,
    )
    .await?;
    audit::append(
        &tx,
        state.now(),
        actor.record(
            &format!("proctor.{kind}"),
            format!("sitting:{sitting_id} room:{room_id}"),
            event_label(kind, None, None) + &reason_suffix(&reason),
        ),
    )
    .await?;
    tx.commit().await?;
    hub(state).forget_room(sitting_id, room_id);
    hub(state).ring(sitting_id, room_id);
    Ok(())
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() { String::new() } else { format!("：{reason}") }
}

/// A proctor's action on one seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatAction {
    Extend,
    Absent,
    Violation,
    Move,
}

pub async fn seat_action(
    state: &AppState,
    actor: &Actor,
    sitting_id: i64,
    room_id: i64,
    action: SeatAction,
    pairs: &[(String, String)],
) -> AppResult<()> {
    let reason = required_reason(pairs)?;
    let db = state.store().conn();
    let seat_no: i32 = form_value(pairs, "seat").parse().map_err(|_| AppError::field("seat", "座位号：请选择考生"))?;
    let seat = exam_sites::seat_holder(db, sitting_id, room_id, seat_no)
        .await?
        .ok_or_else(|| AppError::field("seat", format!("座位号：本考场{seat_no}号座位没有考生")))?;
    let now = now_ms(state);
    let attempt = match store::attempt_of_seat(db, seat.id).await? {
        Some(a) => a,
        // Marking a candidate who never logged in absent creates their attempt.
        None if action == SeatAction::Absent => {
            let tx = state.store().write().await?;
            let a = store::ensure_attempt(
                tx.conn(),
                NewAttempt {
                    seat_assignment_id: seat.id,
                    sitting_id,
                    room_id,
                    application_id: seat.application_id,
                    form_id: None,
                    candidate_seed: "0",
                    seat: seat.seat,
                    status: AttemptStatus::Waiting.as_str(),
                },
                now,
            )
            .await?;
            tx.commit().await?;
            a
        }
        None => return Err(AppError::field("seat", format!("座位号：{seat_no}号考生尚未登录"))),
    };
    let status = AttemptStatus::parse(&attempt.status).unwrap_or(AttemptStatus::Ended);
    let target = format!("attempt:{}", attempt.id);
    match action {
        SeatAction::Extend => {
            let minutes: u32 = form_value(pairs, "minutes").parse().unwrap_or(0);
            if !(1..=rules::MAX_EXTENSION_MINUTES).contains(&minutes) {
                return Err(AppError::field("minutes", format!("延长时间：应为1至{}分钟", rules::MAX_EXTENSION_MINUTES)));
            }
            if status.is_final() {
                return Err(conflict(&format!("考生状态为“{}”，不能延长时间", status.label())));
            }
            let tx = state.store().write().await?;
            store::add_extension(tx.conn(), attempt.id, i64::from(minutes) * 60_000, now).await?;
            event(&tx, sitting_id, room_id, attempt.id, "extend", None, Some(minutes as i32), &reason, actor, now).await?;
            audit::append(&tx, state.now(), actor.record("proctor.extend", target, format!("{seat_no}号座延长{minutes}分钟：{reason}")))
                .await?;
            tx.commit().await?;
        }
        SeatAction::Absent => {
            rules::next(status, AttemptEvent::MarkAbsent).map_err(AppError::Conflict)?;
            let tx = state.store().write().await?;
            store::set_status(tx.conn(), attempt.id, &attempt.status, "absent", now).await?;
            store::clear_any_session(tx.conn(), attempt.id).await?;
            event(&tx, sitting_id, room_id, attempt.id, "absent", None, None, &reason, actor, now).await?;
            audit::append(&tx, state.now(), actor.record("proctor.absent", target, format!("{seat_no}号座记为缺考：{reason}"))).await?;
            tx.commit().await?;
        }
        SeatAction::Violation => {
            let code = form_value(pairs, "category");
            let category = rules::violation(code).ok_or_else(|| AppError::field("category", "违纪类别：请选择"))?;
            if status.is_final() && category.ends_attempt {
                return Err(conflict(&format!("考生状态为“{}”，不能再终止考试", status.label())));
            }
            if category.ends_attempt {
                rules::next(status, AttemptEvent::EndForViolation).map_err(AppError::Conflict)?;
            }
            let tx = state.store().write().await?;
            event(&tx, sitting_id, room_id, attempt.id, "violation", Some(category.code), None, &reason, actor, now).await?;
            audit::append(
                &tx,
                state.now(),
                actor.record(
                    "proctor.violation",
                    target,
                    format!("{seat_no}号座{}（{}）：{reason}", category.label, category.consequence.label()),
                ),
            )
            .await?;
            tx.commit().await?;
            if category.ends_attempt {
                hub(state).forget_attempt(attempt.id);
                let ctx = context(state, attempt.id).await?;
                if ctx.paper.is_some() && ctx.status() == AttemptStatus::Answering {
                    finish(state, &ctx, Submitter::Candidate, AttemptStatus::Ended, actor).await?;
                } else {
                    let tx = state.store().write().await?;
                    store::set_status(tx.conn(), attempt.id, &ctx.attempt.status, "ended", now).await?;
                    tx.commit().await?;
                }
            }
        }
        SeatAction::Move => {
            let to: i32 = form_value(pairs, "to_seat").parse().map_err(|_| AppError::field("to_seat", "新座位号：请填写备用座位号"))?;
            let room = exam_sites::room(db, room_id).await?.ok_or(AppError::NotFound)?;
            if to <= room.seat_count || to > room.seat_count + room.spare_seats {
                return Err(AppError::field(
                    "to_seat",
                    format!("新座位号：应为本考场的备用座位（{}至{}号）", room.seat_count + 1, room.seat_count + room.spare_seats),
                ));
            }
            if store::attempts_in_room(db, sitting_id, room_id).await?.iter().any(|a| a.seat == to) {
                return Err(AppError::field("to_seat", format!("新座位号：{to}号备用座位已有考生")));
            }
            if status.is_final() {
                return Err(conflict(&format!("考生状态为“{}”，不能调换座位", status.label())));
            }
            let tx = state.store().write().await?;
            store::move_attempt(tx.conn(), attempt.id, to, now).await?;
            event(&tx, sitting_id, room_id, attempt.id, "move", None, Some(to), &reason, actor, now).await?;
            audit::append(&tx, state.now(), actor.record("proctor.move", target, format!("{seat_no}号座调换至{to}号备用座位：{reason}")))
                .await?;
            tx.commit().await?;
        }
    }
    hub(state).forget_attempt(attempt.id);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &gongkao_storage::WriteTx,
    sitting_id: i64,
    room_id: i64,
    attempt_id: i64,
    kind: &str,
    category: Option<&str>,
    minutes: Option<i32>,
    reason: &str,
    actor: &Actor,
    now: i64,
) -> AppResult<()> {
    store::insert_event(
        tx.conn(),
        NewEvent { sitting_id, room_id, attempt_id: Some(attempt_id), kind, category, minutes, reason, actor: &actor.username },
        now,
    )
    .await?;
    Ok(())
}

/// The room record (考场记录单) as a PDF for the proctors and the centre chief to sign; an
/// audited print of personal data.
pub async fn room_record_pdf(state: &AppState, actor: &Actor, sitting_id: i64, room_id: i64) -> AppResult<Vec<u8>> {
    let c = console(state, sitting_id, room_id).await?;
    let (campaign, _) = super::campaigns::current(state).await?;
    let seated = c.seats.len();
    let counts = c.counts.iter().filter(|(_, n)| *n > 0).map(|(label, n)| format!("{label} {n} 人")).collect::<Vec<_>>().join("，");
    let doc = gongkao_documents::RoomRecordDoc {
        title: "考场记录单".to_owned(),
        campaign_title: campaign.title.clone(),
        centre: c.centre.clone(),
        room: c.room.clone(),
        subject: c.subject.clone(),
        sitting: c.sitting.clone(),
        started_at: c.started_at.clone().unwrap_or_else(|| "未开考".to_owned()),
        counts: format!("应考 {seated} 人：{counts}"),
        printed_at: gongkao_domain::campaign::format_shanghai(state.now()),
        record: c.record.clone(),
        seats: c
            .seats
            .iter()
            .map(|s| gongkao_documents::RoomRecordSeat {
                seat: s.seat.to_string(),
                ticket_no: s.ticket_no.clone(),
                name: s.name.clone(),
                status: s.status_label.to_owned(),
                answered: if s.item_count > 0 { format!("{}/{}", s.answered, s.item_count) } else { s.answered.to_string() },
                note: [
                    s.moved_to.map(|m| format!("调至{m}号座")),
                    (s.extension_minutes > 0).then(|| format!("延时{}分钟", s.extension_minutes)),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("；"),
            })
            .collect(),
        events: c
            .events
            .iter()
            .map(|e| gongkao_documents::RoomRecordEvent {
                at: e.at.clone(),
                seat: e.seat.map_or_else(|| "全场".to_owned(), |s| s.to_string()),
                what: e.what.clone(),
                reason: e.reason.clone(),
                actor: e.actor.clone(),
            })
            .collect(),
    };
    let bytes = tokio::task::spawn_blocking(move || {
        super::rosters::documents().and_then(|d| d.room_record(&doc).map_err(|e| AppError::Internal(e.to_string())))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))??;
    let tx = state.store().write().await?;
    audit::append(
        &tx,
        state.now(),
        actor.record(
            "personal_data.room_record",
            format!("sitting:{sitting_id} room:{room_id}"),
            format!("{} {}：考场记录单（PDF）{seated}人", c.centre, c.room),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(bytes)
}

/// Saves the room record (考场记录单) the proctors write.
pub async fn save_record(state: &AppState, actor: &Actor, sitting_id: i64, room_id: i64, pairs: &[(String, String)]) -> AppResult<()> {
    let record = pairs.iter().find(|(k, _)| k == "record").map(|(_, v)| v.trim().replace("\r\n", "\n")).unwrap_or_default();
    if record.chars().count() > 3000 {
        return Err(AppError::field("record", "考场记录：不超过3000个字"));
    }
    let db = state.store().conn();
    let session = store::room_session(db, sitting_id, room_id).await?.ok_or_else(|| conflict("请先打开本考场的监考页面"))?;
    let tx = state.store().write().await?;
    store::set_room_record(tx.conn(), &session, &record).await?;
    audit::append(
        &tx,
        state.now(),
        actor.record("proctor.record", format!("sitting:{sitting_id} room:{room_id}"), format!("考场记录（{}字）", record.chars().count())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_codes_avoid_look_alike_characters() {
        for _ in 0..200 {
            let c = new_access_code();
            assert_eq!(c.len(), 6);
            assert!(!c.contains(['0', 'O', '1', 'I']));
        }
    }
}
