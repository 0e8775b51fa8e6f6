//! Practice (模拟练习): candidates in a training class of the current campaign practise each
//! subject of their application on papers drawn from the practice pool (练习题库), through the
//! exam's own page and script, and see their score, the keys and the marking guides after
//! submitting.
//!
//! Practice is kept apart from the real exam: papers are drawn only from active items of the
//! practice pool (assembly only from the exam's pool, see `storage::papers::active_pool`), and
//! attempts and answers live in `practice_attempt`/`practice_response`, never in the exam's
//! tables, so nothing here counts towards a result. Starting and submitting are audited; the
//! answers of a paper are saved with the exam's sequence numbers (the highest wins, so the page's
//! queue may resend freely). Keys stay on the server until the attempt is submitted.
//!
//! Who may open an attempt is the policy's business: the routes' `PracticeAttempt` target is
//! covered only for the applicant who started it (see `auth::target_in_scope`).
use gongkao_domain::exam::assembly::{Form, FormItem, Presentation, shuffle_for_candidate};
use gongkao_domain::exam::delivery::{
    KeyedItem, MultipleChoiceScoring, ShownItem, format_tenths, normalise_answer, score_attempt, shown_option_count,
};
use gongkao_domain::exam::practice::{self as rules, MAX_PRACTICE_ITEMS, PracticePoolItem, Verdict};
use gongkao_domain::exam::{ItemKind, Subject};
use gongkao_domain::item_bank::{ItemContent, OPTION_LABELS, TRUE_FALSE_OPTIONS};
use gongkao_storage::applications::Application;
use gongkao_storage::practice::{self as store, NewPracticeAttempt, PracticeAttempt, PracticeResult, PracticeSave};
use gongkao_storage::{StoreError, applications, audit, from_ms, to_ms};
use rand::RngCore;
use serde::Serialize;

use super::Actor;
use super::delivery::{ItemWithAnswer, MAX_SAVES_PER_REQUEST, SaveOutcome, SaveRequest, SavedAnswer, ShownItemView};
use crate::AppState;
use crate::error::{AppError, AppResult};

/// Past attempts listed on the practice page.
pub const LIST_LIMIT: u64 = 50;

const ANSWERING: &str = "answering";
const SUBMITTED: &str = "submitted";

fn now_ms(state: &AppState) -> i64 {
    to_ms(state.now())
}

fn status_label(status: &str) -> &'static str {
    if status == SUBMITTED { "已交卷" } else { "练习中" }
}

fn subject_label(code: &str) -> String {
    Subject::parse(code).map_or_else(|| code.to_owned(), |s| s.label().to_owned())
}

fn level_label(level: i32) -> &'static str {
    u8::try_from(level).ok().and_then(gongkao_domain::campaign::Level::from_number).map_or("", |l| l.label())
}

/// `12分05秒`, `1小时02分`.
fn duration_label(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 { format!("{}小时{:02}分", s / 3600, (s % 3600) / 60) } else { format!("{}分{:02}秒", s / 60, s % 60) }
}

// ---------------------------------------------------------------------------------------------
// The gate

/// The applicant's application that may practise, or the reason (in Chinese) why they may not:
/// practice is for the admitted enrolled in a training class of the current campaign
/// (`services::training::may_practice`).
pub async fn gate(state: &AppState, applicant_id: Option<i64>) -> AppResult<Result<Application, String>> {
    let Some(applicant_id) = applicant_id else { return Err(AppError::Forbidden) };
    let (campaign, _) = super::campaigns::current(state).await?;
    let Some(app) = applications::live_for(state.store().conn(), campaign.id, applicant_id).await? else {
        return Ok(Err("模拟练习：您在本考核年度没有有效的申报，不能参加模拟练习。".to_owned()));
    };
    if !super::training::may_practice(state, app.id).await? {
        return Ok(Err("模拟练习：仅向已准予参加考核、并已参加本考核年度培训班的人员开放。您目前不符合条件，如已参加培训，请联系所在地工考管理机构核实参训登记。".to_owned()));
    }
    Ok(Ok(app))
}

// ---------------------------------------------------------------------------------------------
// The practice page

/// A subject the applicant may practise.
pub struct SubjectChoice {
    pub code: &'static str,
    pub label: &'static str,
    /// Active items in the practice pool for it.
    pub available: usize,
}

/// One past or open attempt.
pub struct AttemptRow {
    pub id: i64,
    pub subject: String,
    pub started: String,
    pub item_count: usize,
    pub status: &'static str,
    pub submitted: bool,
    pub elapsed: String,
    pub score: String,
    pub percent: String,
}

pub struct Overview {
    pub level_label: &'static str,
    pub work_type: String,
    pub choices: Vec<SubjectChoice>,
    pub attempts: Vec<AttemptRow>,
}

/// The subjects of the application's level (as the real exam defines them), each with its work
/// type when the subject is per work type.
fn subjects_of(app: &Application) -> Vec<(Subject, Option<String>)> {
    let level = u8::try_from(app.target_level).unwrap_or(0);
    Subject::computer_based_for(level).iter().map(|s| (*s, s.per_work_type().then(|| app.work_type.clone()))).collect()
}

async fn pool(state: &AppState, subject: Subject, level: i32, work_type: Option<&str>) -> AppResult<Vec<PracticePoolItem>> {
    let rows = gongkao_storage::items::practice_pool(state.store().conn(), subject.as_str(), level, work_type).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(item_id, version, kind, points)| {
            Some(PracticePoolItem { item_id, version, kind: ItemKind::parse(&kind)?, points: u32::try_from(points).ok()? })
        })
        .collect())
}

pub async fn overview(state: &AppState, app: &Application) -> AppResult<Overview> {
    let mut choices = Vec::new();
    for (subject, work_type) in subjects_of(app) {
        let available = pool(state, subject, app.target_level, work_type.as_deref()).await?.len();
        choices.push(SubjectChoice { code: subject.as_str(), label: subject.label(), available });
    }
    let now = now_ms(state);
    let attempts = store::attempts_of(state.store().conn(), app.applicant_id, LIST_LIMIT)
        .await?
        .iter()
        .map(|a| {
            let submitted = a.status == SUBMITTED;
            let percent = a
                .objective_tenths
                .zip(a.objective_total_tenths)
                .and_then(|(s, t)| rules::percent_tenths(u32::try_from(s).unwrap_or(0), u32::try_from(t).unwrap_or(0)));
            AttemptRow {
                id: a.id,
                subject: subject_label(&a.subject),
                started: gongkao_domain::campaign::format_shanghai(from_ms(a.started_at)),
                item_count: form_items(a).map_or(0, |i| i.len()),
                status: status_label(&a.status),
                submitted,
                elapsed: duration_label(a.submitted_at.unwrap_or(now) - a.started_at),
                score: a
                    .objective_tenths
                    .zip(a.objective_total_tenths)
                    .map(|(s, t)| format!("{}/{}", tenths(s), tenths(t)))
                    .unwrap_or_else(|| "—".to_owned()),
                percent: percent.map_or_else(|| "—".to_owned(), format_tenths),
            }
        })
        .collect();
    Ok(Overview { level_label: level_label(app.target_level), work_type: app.work_type.clone(), choices, attempts })
}

fn tenths(t: i32) -> String {
    format_tenths(u32::try_from(t).unwrap_or(0))
}

fn form_items(a: &PracticeAttempt) -> AppResult<Vec<FormItem>> {
    serde_json::from_str(&a.items).map_err(|e| AppError::Internal(format!("practice_attempt {}: {e}", a.id)))
}

/// The real subject's multiple-choice rule (its blueprint's), or all or nothing when the
/// subject has no blueprint yet.
async fn scoring_for(state: &AppState, subject: Subject, level: i32, work_type: Option<&str>) -> AppResult<MultipleChoiceScoring> {
    let blueprints = gongkao_storage::papers::blueprints(state.store().conn()).await?;
    let found = blueprints.iter().find(|b| b.subject == subject.as_str() && b.level == level && b.work_type == work_type.unwrap_or(""));
    let partial = match found {
        Some(b) => {
            serde_json::from_str::<gongkao_domain::exam::blueprint::Blueprint>(&b.body)
                .map_err(|e| AppError::Internal(format!("blueprint {}: {e}", b.id)))?
                .multiple_choice_partial_credit
        }
        None => false,
    };
    Ok(MultipleChoiceScoring::of_blueprint(partial))
}

/// Starts a practice attempt in the subject chosen on the form (`subject`): draws the paper from
/// the practice pool with a fresh recorded seed. Refused, with nothing written, when the
/// applicant may not practise, the subject is not one of their application, or its pool is
/// empty.
pub async fn start(state: &AppState, applicant_id: Option<i64>, actor: &Actor, pairs: &[(String, String)]) -> AppResult<i64> {
    let app = gate(state, applicant_id).await?.map_err(AppError::Conflict)?;
    let code = super::form_value(pairs, "subject");
    let Some((subject, work_type)) = subjects_of(&app).into_iter().find(|(s, _)| s.as_str() == code) else {
        return Err(AppError::field("subject", "科目：请选择本人申报等级的考试科目"));
    };
    let pool = pool(state, subject, app.target_level, work_type.as_deref()).await?;
    let mut seed_bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut seed_bytes);
    let seed = u64::from_le_bytes(seed_bytes);
    let form = rules::draw(&pool, MAX_PRACTICE_ITEMS, seed).map_err(|e| AppError::field("subject", e.to_string()))?;
    let scoring = scoring_for(state, subject, app.target_level, work_type.as_deref()).await?;
    let items = serde_json::to_string(&form.items).map_err(|e| AppError::Internal(e.to_string()))?;
    let total = form.total_tenths();
    let now = state.now();
    let tx = state.store().write().await?;
    let id = store::insert_attempt(
        tx.conn(),
        NewPracticeAttempt {
            campaign_id: app.campaign_id,
            application_id: app.id,
            applicant_id: app.applicant_id,
            subject: subject.as_str(),
            level: app.target_level,
            work_type: work_type.as_deref().unwrap_or(""),
            seed: &seed.to_string(),
            items: &items,
            scoring: scoring.as_str(),
            total_tenths: i32::try_from(total).unwrap_or(i32::MAX),
        },
        to_ms(now),
    )
    .await?;
    let summary = format!(
        "模拟练习开始：{}·{}{}，{}题，满分{}分，种子{seed}",
        subject.label(),
        level_label(app.target_level),
        work_type.as_deref().map(|w| format!("·{w}")).unwrap_or_default(),
        form.items.len(),
        format_tenths(u32::try_from(total).unwrap_or(u32::MAX)),
    );
    audit::append(&tx, now, actor.record("practice.start", format!("practice_attempt:{id}"), summary)).await?;
    tx.commit().await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// One attempt's paper

/// An attempt with its paper opened: the items at their recorded versions, in the candidate's
/// order (rebuilt from the recorded seed), keys included (never sent before submission).
struct Loaded {
    attempt: PracticeAttempt,
    form: Form,
    contents: Vec<ItemContent>,
    presentation: Presentation,
    shown: Vec<ShownItem>,
    scoring: MultipleChoiceScoring,
}

impl Loaded {
    fn answering(&self) -> bool {
        self.attempt.status == ANSWERING
    }
}

async fn attempt(state: &AppState, id: i64) -> AppResult<PracticeAttempt> {
    store::attempt(state.store().conn(), id).await?.ok_or(AppError::NotFound)
}

async fn load(state: &AppState, id: i64) -> AppResult<Loaded> {
    let attempt = attempt(state, id).await?;
    let items = form_items(&attempt)?;
    let form = Form { number: 1, items };
    let pairs: Vec<(i64, i32)> = form.items.iter().map(|i| (i.item_id, i.version)).collect();
    let contents = super::items::open_for_delivery(state, &pairs).await?;
    let option_counts: Vec<u8> = form.items.iter().zip(&contents).map(|(i, c)| shown_option_count(i.kind, c.options.len())).collect();
    let seed = attempt.seed.parse::<u64>().map_err(|_| AppError::Internal(format!("practice_attempt {id}: seed")))?;
    let presentation = shuffle_for_candidate(&form, &option_counts, seed).map_err(|e| AppError::Internal(e.to_string()))?;
    let shown = presentation
        .items
        .iter()
        .map(|p| {
            let i = p.form_index as usize;
            ShownItem { kind: form.items[i].kind, option_count: option_counts[i] }
        })
        .collect();
    let scoring = if attempt.scoring == MultipleChoiceScoring::PartialCredit.as_str() {
        MultipleChoiceScoring::PartialCredit
    } else {
        MultipleChoiceScoring::AllOrNothing
    };
    Ok(Loaded { attempt, form, contents, presentation, shown, scoring })
}

/// The options as shown at a display position (letters in display order).
fn shown_options(l: &Loaded, position: usize) -> Vec<String> {
    let Some(p) = l.presentation.items.get(position) else { return Vec::new() };
    let i = p.form_index as usize;
    match l.form.items[i].kind {
        ItemKind::SingleChoice | ItemKind::MultipleChoice => {
            p.option_order.iter().filter_map(|o| l.contents[i].options.get(usize::from(*o)).cloned()).collect()
        }
        ItemKind::TrueFalse => TRUE_FALSE_OPTIONS.iter().map(|s| (*s).to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// One item as the page receives it: the exam's shape, never the key.
fn shown_item(l: &Loaded, position: usize) -> AppResult<ShownItemView> {
    let p = l.presentation.items.get(position).ok_or_else(|| AppError::field("position", format!("题号：第{}题不存在", position + 1)))?;
    let item = &l.form.items[p.form_index as usize];
    Ok(ShownItemView {
        position,
        kind: item.kind,
        kind_label: item.kind.label(),
        points: format_tenths(item.points),
        stem: l.contents[p.form_index as usize].stem.clone(),
        options: shown_options(l, position),
    })
}

/// What the practice page shows around the paper.
pub struct PaperHead {
    pub subject: String,
    pub item_count: usize,
    pub total: String,
    pub submitted: bool,
}

pub async fn head(state: &AppState, id: i64) -> AppResult<PaperHead> {
    let a = attempt(state, id).await?;
    Ok(PaperHead {
        subject: subject_label(&a.subject),
        item_count: form_items(&a)?.len(),
        total: tenths(a.total_tenths),
        submitted: a.status == SUBMITTED,
    })
}

/// The page's view of the attempt: the exam's shape, with the time spent instead of a countdown.
#[derive(Debug, Serialize)]
pub struct PracticeState {
    pub status: &'static str,
    pub status_label: &'static str,
    pub confirmed: bool,
    pub room_started: bool,
    pub paused: bool,
    /// No time limit: always 0 (the page shows `elapsed_ms`).
    pub remaining_ms: i64,
    pub elapsed_ms: i64,
    pub submit_in_ms: i64,
    pub item_count: usize,
    pub server_time: i64,
}

fn state_of(a: &PracticeAttempt, item_count: usize, now: i64) -> PracticeState {
    let submitted = a.status == SUBMITTED;
    PracticeState {
        status: if submitted { SUBMITTED } else { ANSWERING },
        status_label: status_label(&a.status),
        confirmed: true,
        room_started: true,
        paused: false,
        remaining_ms: 0,
        elapsed_ms: (a.submitted_at.unwrap_or(now) - a.started_at).max(0),
        submit_in_ms: 0,
        item_count,
        server_time: now,
    }
}

pub async fn practice_state(state: &AppState, id: i64) -> AppResult<PracticeState> {
    let a = attempt(state, id).await?;
    let count = form_items(&a)?.len();
    Ok(state_of(&a, count, now_ms(state)))
}

#[derive(Debug, Serialize)]
pub struct PracticePaper {
    pub subject: String,
    pub items: Vec<ShownItemView>,
    pub answers: Vec<SavedAnswer>,
    pub last_seq: i64,
    pub state: PracticeState,
}

fn saved(r: store::PracticeResponse) -> SavedAnswer {
    SavedAnswer { position: r.position, answer: r.answer, flagged: r.flagged, seq: r.seq }
}

fn finished() -> AppError {
    AppError::Conflict("本次练习已交卷，答案不能再修改；请查看成绩与答案解析".to_owned())
}

/// The paper in the candidate's order with every stored answer; only while answering.
pub async fn paper(state: &AppState, id: i64) -> AppResult<PracticePaper> {
    let l = load(state, id).await?;
    if !l.answering() {
        return Err(finished());
    }
    let items = (0..l.shown.len()).map(|p| shown_item(&l, p)).collect::<AppResult<Vec<_>>>()?;
    let stored = store::responses(state.store().conn(), id).await?;
    let last_seq = stored.iter().map(|r| r.seq).max().unwrap_or(0);
    Ok(PracticePaper {
        subject: subject_label(&l.attempt.subject),
        items,
        answers: stored.into_iter().map(saved).collect(),
        last_seq,
        state: state_of(&l.attempt, l.shown.len(), now_ms(state)),
    })
}

pub async fn item(state: &AppState, id: i64, position: usize) -> AppResult<ItemWithAnswer> {
    let l = load(state, id).await?;
    if !l.answering() {
        return Err(finished());
    }
    let item = shown_item(&l, position)?;
    let answer = store::response(state.store().conn(), id, i32::try_from(position).unwrap_or(i32::MAX)).await?.map(saved);
    Ok(ItemWithAnswer { item, answer })
}

/// Takes the page's saves (the exam's request shape): every save is checked against the
/// attempt's own items first, and either all are stored or none. Idempotent: a repeated or
/// older save changes nothing and is acknowledged.
pub async fn save(state: &AppState, id: i64, request: SaveRequest) -> AppResult<SaveOutcome> {
    if request.attempt.is_some_and(|a| a != id) {
        return Err(AppError::field("attempt", "练习：请求中的练习编号与页面不一致，请刷新页面"));
    }
    if request.saves.is_empty() || request.saves.len() > MAX_SAVES_PER_REQUEST {
        return Err(AppError::field("saves", format!("作答：每次提交1至{MAX_SAVES_PER_REQUEST}条")));
    }
    let a = attempt(state, id).await?;
    if a.status != ANSWERING {
        return Err(finished());
    }
    // Kinds and option counts are read from the bank only to check the answers.
    let l = load(state, id).await?;
    let mut rows = Vec::with_capacity(request.saves.len());
    for s in &request.saves {
        let Some(item) = usize::try_from(s.position).ok().and_then(|p| l.shown.get(p)) else {
            return Err(AppError::field("position", format!("题号：第{}题不存在", i64::from(s.position) + 1)));
        };
        if s.seq <= 0 {
            return Err(AppError::field("seq", "序号：应为正整数"));
        }
        let answer = normalise_answer(*item, &s.answer).map_err(|m| AppError::field("answer", m))?;
        rows.push(PracticeSave { position: s.position, answer, flagged: s.flagged, seq: s.seq });
    }
    let tx = state.store().write().await?;
    match store::save(tx.conn(), id, &rows, now_ms(state)).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(finished()),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(SaveOutcome { acked: request.saves.iter().map(|s| s.seq).collect(), remaining_ms: 0 })
}

#[derive(Debug, Serialize)]
pub struct Submitted {
    pub attempt_id: i64,
    pub feedback: String,
    pub score: String,
    pub objective_total: String,
    pub percent: Option<String>,
}

/// Submits and scores the attempt in one transaction (status first, then the answers, so the
/// score covers exactly what is stored), audited. A second submission is refused.
pub async fn submit(state: &AppState, actor: &Actor, id: i64) -> AppResult<Submitted> {
    let l = load(state, id).await?;
    if !l.answering() {
        return Err(finished());
    }
    let now = state.now();
    let tx = state.store().write().await?;
    match store::claim_submission(tx.conn(), id, to_ms(now)).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(finished()),
        Err(e) => return Err(e.into()),
    }
    let stored = store::responses(tx.conn(), id).await?;
    let mut answers: Vec<&str> = vec![""; l.presentation.items.len()];
    for r in &stored {
        if let Some(slot) = usize::try_from(r.position).ok().and_then(|p| answers.get_mut(p)) {
            *slot = r.answer.as_str();
        }
    }
    let keys = keys_of(&l);
    let score = score_attempt(&l.form, &keys, &l.presentation, &answers, l.scoring).map_err(|e| AppError::Internal(e.to_string()))?;
    let objective_total: u32 = l.form.items.iter().filter(|i| i.kind.is_objective()).map(|i| i.points).sum();
    let item_scores = serde_json::to_string(&score.items).map_err(|e| AppError::Internal(e.to_string()))?;
    store::record_result(
        tx.conn(),
        id,
        PracticeResult {
            objective_tenths: i32::try_from(score.objective_tenths).unwrap_or(i32::MAX),
            objective_total_tenths: i32::try_from(objective_total).unwrap_or(i32::MAX),
            answered: i32::try_from(score.answered).unwrap_or(0),
            for_marking: i32::try_from(score.for_marking).unwrap_or(0),
            item_scores: &item_scores,
        },
    )
    .await?;
    let percent = rules::percent_tenths(score.objective_tenths, objective_total).map(format_tenths);
    let summary = format!(
        "模拟练习交卷：{}，作答{}题，得分{}/{}{}",
        subject_label(&l.attempt.subject),
        score.answered,
        format_tenths(score.objective_tenths),
        format_tenths(objective_total),
        percent.as_deref().map(|p| format!("（百分制{p}）")).unwrap_or_default()
    );
    audit::append(&tx, now, actor.record("practice.submit", format!("practice_attempt:{id}"), summary)).await?;
    tx.commit().await?;
    Ok(Submitted {
        attempt_id: id,
        feedback: format!("/practice/{id}/feedback"),
        score: format_tenths(score.objective_tenths),
        objective_total: format_tenths(objective_total),
        percent,
    })
}

fn keys_of(l: &Loaded) -> Vec<KeyedItem> {
    l.form
        .items
        .iter()
        .zip(&l.contents)
        .map(|(i, c)| KeyedItem { kind: i.kind, points: i.points, key: c.key.iter().filter_map(|k| u8::try_from(*k).ok()).collect() })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Feedback

pub struct FeedbackOption {
    pub letter: &'static str,
    pub text: String,
    pub correct: bool,
    pub chosen: bool,
}

pub struct FeedbackItem {
    pub number: usize,
    pub kind_label: &'static str,
    pub points: String,
    pub stem: String,
    pub options: Vec<FeedbackOption>,
    /// Display letters, or the text of a subjective answer.
    pub answer: String,
    /// Display letters; empty for subjective items.
    pub key: String,
    pub verdict: &'static str,
    pub verdict_code: &'static str,
    /// Points scored; empty for subjective items.
    pub scored: String,
    /// 评分要点, for self-assessment.
    pub marking_guide: String,
}

pub struct Feedback {
    pub subject: String,
    pub started: String,
    pub submitted: String,
    pub elapsed: String,
    pub answered: i32,
    pub item_count: usize,
    pub score: String,
    pub objective_total: String,
    pub percent: Option<String>,
    pub for_marking: i32,
    pub items: Vec<FeedbackItem>,
}

/// The score and every item with the candidate's answer, the key, the verdict and the marking
/// guide. Only after submission: before it, nothing of the keys leaves the server.
pub async fn feedback(state: &AppState, id: i64) -> AppResult<Feedback> {
    let l = load(state, id).await?;
    let a = &l.attempt;
    let (Some(submitted_at), Some(objective), Some(objective_total)) = (a.submitted_at, a.objective_tenths, a.objective_total_tenths)
    else {
        return Err(AppError::Conflict("尚未交卷：交卷后才能查看成绩和答案解析".to_owned()));
    };
    let stored = store::responses(state.store().conn(), id).await?;
    let keys = keys_of(&l);
    let mut items = Vec::with_capacity(l.shown.len());
    for (position, p) in l.presentation.items.iter().enumerate() {
        let i = p.form_index as usize;
        let item = &l.form.items[i];
        let content = &l.contents[i];
        let answer =
            stored.iter().find(|r| usize::try_from(r.position).ok() == Some(position)).map(|r| r.answer.clone()).unwrap_or_default();
        let score = gongkao_domain::exam::delivery::score_item(&keys[i], &p.option_order, &answer, l.scoring);
        let verdict: Verdict = rules::verdict(item.points, &answer, score);
        let key = rules::shown_key(item.kind, &p.option_order, &keys[i].key);
        let options = shown_options(&l, position)
            .into_iter()
            .enumerate()
            .filter_map(|(k, text)| {
                let letter = *OPTION_LABELS.get(k)?;
                Some(FeedbackOption {
                    letter,
                    text,
                    correct: key.contains(letter),
                    chosen: item.kind.is_objective() && answer.contains(letter),
                })
            })
            .collect();
        items.push(FeedbackItem {
            number: position + 1,
            kind_label: item.kind.label(),
            points: format_tenths(item.points),
            stem: content.stem.clone(),
            options,
            answer,
            key,
            verdict: verdict.label(),
            verdict_code: verdict.as_str(),
            scored: match score {
                gongkao_domain::exam::delivery::ItemScore::Scored(t) => format_tenths(t),
                gongkao_domain::exam::delivery::ItemScore::ForMarking => String::new(),
            },
            marking_guide: content.marking_guide.clone(),
        });
    }
    let objective = u32::try_from(objective).unwrap_or(0);
    let objective_total = u32::try_from(objective_total).unwrap_or(0);
    Ok(Feedback {
        subject: subject_label(&a.subject),
        started: gongkao_domain::campaign::format_shanghai(from_ms(a.started_at)),
        submitted: gongkao_domain::campaign::format_shanghai(from_ms(submitted_at)),
        elapsed: duration_label(submitted_at - a.started_at),
        answered: a.answered.unwrap_or(0),
        item_count: l.shown.len(),
        score: format_tenths(objective),
        objective_total: format_tenths(objective_total),
        percent: rules::percent_tenths(objective, objective_total).map(format_tenths),
        for_marking: a.for_marking.unwrap_or(0),
        items,
    })
}

/// The applicant who started an attempt: the policy's `PracticeAttempt` target.
pub async fn owner(state: &AppState, id: i64) -> AppResult<Option<i64>> {
    Ok(store::owner(state.store().conn(), id).await?)
}
