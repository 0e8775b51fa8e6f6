//! Practice attempts (模拟练习) and their answers (m0017). Nothing here reads or writes the
//! exam's attempts: practice never counts towards a result.
//!
//! Saves and submission meet on the attempt's row: a save first touches the row while it is
//! still being answered (on PostgreSQL that takes its lock), then writes its answers; submission
//! moves the status first, then reads the answers. Whichever comes second sees the first's
//! effect, so a submitted paper's answers never change.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Statement, Value,
};

use crate::entity::practice_attempt;
use crate::{StoreError, StoreResult};

pub use crate::entity::practice_attempt::Model as PracticeAttempt;

/// A new attempt, as drawn.
pub struct NewPracticeAttempt<'a> {
    pub campaign_id: i64,
    pub application_id: i64,
    pub applicant_id: i64,
    pub subject: &'a str,
    pub level: i32,
    pub work_type: &'a str,
    pub seed: &'a str,
    pub items: &'a str,
    pub scoring: &'a str,
    pub total_tenths: i32,
}

pub async fn insert_attempt(db: &impl ConnectionTrait, a: NewPracticeAttempt<'_>, now: i64) -> StoreResult<i64> {
    let am = practice_attempt::ActiveModel {
        campaign_id: Set(a.campaign_id),
        application_id: Set(a.application_id),
        applicant_id: Set(a.applicant_id),
        subject: Set(a.subject.to_owned()),
        level: Set(a.level),
        work_type: Set(a.work_type.to_owned()),
        seed: Set(a.seed.to_owned()),
        items: Set(a.items.to_owned()),
        scoring: Set(a.scoring.to_owned()),
        total_tenths: Set(a.total_tenths),
        status: Set("answering".to_owned()),
        started_at: Set(now),
        submitted_at: Set(None),
        objective_tenths: Set(None),
        objective_total_tenths: Set(None),
        answered: Set(None),
        for_marking: Set(None),
        item_scores: Set(None),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(practice_attempt::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id)
}

pub async fn attempt(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<PracticeAttempt>> {
    Ok(practice_attempt::Entity::find_by_id(id).one(db).await?)
}

/// The person an attempt belongs to (the policy's target check).
pub async fn owner(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<i64>> {
    Ok(practice_attempt::Entity::find_by_id(id)
        .select_only()
        .column(practice_attempt::Column::ApplicantId)
        .into_tuple::<i64>()
        .one(db)
        .await?)
}

/// The applicant's attempts, newest first, up to `limit`.
pub async fn attempts_of(db: &impl ConnectionTrait, applicant_id: i64, limit: u64) -> StoreResult<Vec<PracticeAttempt>> {
    Ok(practice_attempt::Entity::find()
        .filter(practice_attempt::Column::ApplicantId.eq(applicant_id))
        .order_by_desc(practice_attempt::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// How many practice rows exist: (attempts, responses). Tests check that refusals add none.
pub async fn count_rows(db: &impl ConnectionTrait) -> StoreResult<(i64, i64)> {
    let count = |table: &str| format!("SELECT COUNT(*) AS n FROM {table}");
    let a = db.query_one_raw(stmt(db, &count("practice_attempt"), vec![])).await?;
    let r = db.query_one_raw(stmt(db, &count("practice_response"), vec![])).await?;
    let n = |row: Option<QueryResult>| -> StoreResult<i64> { row.map_or(Ok(0), |r| r.try_get::<i64>("", "n").map_err(StoreError::from)) };
    Ok((n(a)?, n(r)?))
}

fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// One stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeResponse {
    pub position: i32,
    pub answer: String,
    pub flagged: bool,
    pub seq: i64,
    pub saved_at: i64,
}

fn response_of(r: &QueryResult) -> StoreResult<PracticeResponse> {
    Ok(PracticeResponse {
        position: r.try_get("", "position")?,
        answer: r.try_get("", "answer")?,
        flagged: r.try_get("", "flagged")?,
        seq: r.try_get("", "seq")?,
        saved_at: r.try_get("", "saved_at")?,
    })
}

pub async fn responses(db: &impl ConnectionTrait, attempt_id: i64) -> StoreResult<Vec<PracticeResponse>> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT position, answer, flagged, seq, saved_at FROM practice_response WHERE attempt_id = $1 ORDER BY position",
            vec![attempt_id.into()],
        ))
        .await?;
    rows.iter().map(response_of).collect()
}

pub async fn response(db: &impl ConnectionTrait, attempt_id: i64, position: i32) -> StoreResult<Option<PracticeResponse>> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT position, answer, flagged, seq, saved_at FROM practice_response WHERE attempt_id = $1 AND position = $2",
            vec![attempt_id.into(), position.into()],
        ))
        .await?;
    row.as_ref().map(response_of).transpose()
}

/// One answer to store.
#[derive(Debug, Clone)]
pub struct PracticeSave {
    pub position: i32,
    pub answer: String,
    pub flagged: bool,
    pub seq: i64,
}

/// Stores answers of an attempt still being answered, in the caller's transaction: per item the
/// highest sequence number wins, so a save repeated or arriving late changes nothing. An attempt
/// no longer being answered is [`StoreError::Conflict`], and nothing is written.
pub async fn save(db: &impl ConnectionTrait, attempt_id: i64, saves: &[PracticeSave], now: i64) -> StoreResult<()> {
    let touched = db
        .execute_raw(stmt(
            db,
            "UPDATE practice_attempt SET updated_at = $1 WHERE id = $2 AND status = 'answering'",
            vec![now.into(), attempt_id.into()],
        ))
        .await?;
    if touched.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    for s in saves {
        db.execute_raw(stmt(
            db,
            "INSERT INTO practice_response (attempt_id, position, answer, flagged, seq, saved_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (attempt_id, position) DO UPDATE SET answer = excluded.answer, flagged = excluded.flagged, \
             seq = excluded.seq, saved_at = excluded.saved_at WHERE excluded.seq > practice_response.seq",
            vec![attempt_id.into(), s.position.into(), s.answer.clone().into(), s.flagged.into(), s.seq.into(), now.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Moves an attempt from answering to submitted; a second submission is [`StoreError::Conflict`].
pub async fn claim_submission(db: &impl ConnectionTrait, attempt_id: i64, now: i64) -> StoreResult<()> {
    let r = db
        .execute_raw(stmt(
            db,
            "UPDATE practice_attempt SET status = 'submitted', submitted_at = $1, updated_at = $1 WHERE id = $2 AND status = 'answering'",
            vec![now.into(), attempt_id.into()],
        ))
        .await?;
    if r.rows_affected() == 0 { Err(StoreError::Conflict) } else { Ok(()) }
}

/// The result of a submitted attempt.
pub struct PracticeResult<'a> {
    pub objective_tenths: i32,
    pub objective_total_tenths: i32,
    pub answered: i32,
    pub for_marking: i32,
    pub item_scores: &'a str,
}

pub async fn record_result(db: &impl ConnectionTrait, attempt_id: i64, r: PracticeResult<'_>) -> StoreResult<()> {
    let res = db
        .execute_raw(stmt(
            db,
            "UPDATE practice_attempt SET objective_tenths = $1, objective_total_tenths = $2, answered = $3, for_marking = $4, \
             item_scores = $5 WHERE id = $6 AND status = 'submitted'",
            vec![
                r.objective_tenths.into(),
                r.objective_total_tenths.into(),
                r.answered.into(),
                r.for_marking.into(),
                r.item_scores.into(),
                attempt_id.into(),
            ],
        ))
        .await?;
    if res.rows_affected() == 0 { Err(StoreError::Conflict) } else { Ok(()) }
}
