//! Computer-based delivery: rooms' clocks, attempts, answers and proctors' events (m0016).
//!
//! Answers are written in batches by the web layer's group-commit writer ([`save_batch`]): one
//! statement per batch, guarded so that an older sequence never overwrites a newer answer and
//! that nothing is written to an attempt that is no longer being answered.
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryResult, Statement, Value};

use crate::entity::{blueprint, paper_form, seat_assignment, sitting};
use crate::exam_sites::{SeatAssignment, SittingRow};
use crate::papers::FormRow;
use crate::{StoreError, StoreResult};

pub async fn sitting(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<SittingRow>> {
    Ok(sitting::Entity::find_by_id(id).one(db).await?)
}

/// The seats of the campaign's candidate holding this ticket number, in sitting order (a
/// candidate keeps one ticket number for all their sittings).
///
/// Selects by the ticket number alone and keeps the campaign's seats here: with the campaign in
/// the `WHERE` too, PostgreSQL chose `ix_seat_ticket` (campaign, agency, ticket), whose middle
/// column the query does not name, and compared the ticket of every seat of the campaign (0.5 ms
/// a login, half of PostgreSQL's work in a start storm). A ticket has a seat per subject, so
/// the rows are few.
pub async fn seats_for_ticket(db: &impl ConnectionTrait, campaign_id: i64, ticket_no: &str) -> StoreResult<Vec<SeatAssignment>> {
    let mut seats = seat_assignment::Entity::find().filter(seat_assignment::Column::TicketNo.eq(ticket_no)).all(db).await?;
    seats.retain(|s| s.campaign_id == campaign_id);
    seats.sort_by_key(|s| s.sitting_id);
    Ok(seats)
}

pub async fn seat(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<SeatAssignment>> {
    Ok(seat_assignment::Entity::find_by_id(id).one(db).await?)
}

/// The seats of a room in a sitting, by seat.
pub async fn seats_in_room(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64) -> StoreResult<Vec<SeatAssignment>> {
    Ok(seat_assignment::Entity::find()
        .filter(seat_assignment::Column::SittingId.eq(sitting_id))
        .filter(seat_assignment::Column::RoomId.eq(room_id))
        .order_by_asc(seat_assignment::Column::Seat)
        .all(db)
        .await?)
}

/// One seat of a room with what the seat login and the identity page need of its candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterSeat {
    pub seat_assignment_id: i64,
    pub application_id: i64,
    pub seat: i32,
    pub ticket_no: String,
    pub agency_code: String,
    pub target_level: i32,
    pub work_type: String,
    pub id_number: String,
    pub name: String,
    pub has_photo: bool,
    pub room: String,
    pub centre: String,
}

/// Every seat of a room in one sitting with its candidate, in one query: at the start of an
/// exam thirty candidates of a room log in within seconds, and each would otherwise read its
/// application, person, room, centre and photo one by one.
pub async fn room_roster(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64) -> StoreResult<Vec<RosterSeat>> {
    let sql = "SELECT s.id, s.application_id, s.seat, s.ticket_no, s.agency_code, a.target_level, a.work_type, p.id_number, p.name, \
               r.name AS room, c.name AS centre, \
               EXISTS (SELECT 1 FROM application_file f WHERE f.application_id = s.application_id AND f.kind = 'photo' \
                       AND f.removed_at IS NULL) AS has_photo \
               FROM seat_assignment s JOIN application a ON a.id = s.application_id JOIN applicant p ON p.id = a.applicant_id \
               JOIN exam_room r ON r.id = s.room_id JOIN test_centre c ON c.id = r.centre_id \
               WHERE s.sitting_id = $1 AND s.room_id = $2 ORDER BY s.seat";
    let rows = db.query_all_raw(stmt(db, sql, vec![sitting_id.into(), room_id.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(RosterSeat {
                seat_assignment_id: r.try_get("", "id")?,
                application_id: r.try_get("", "application_id")?,
                seat: r.try_get("", "seat")?,
                ticket_no: r.try_get("", "ticket_no")?,
                agency_code: r.try_get("", "agency_code")?,
                target_level: r.try_get("", "target_level")?,
                work_type: r.try_get("", "work_type")?,
                id_number: r.try_get("", "id_number")?,
                name: r.try_get("", "name")?,
                has_photo: r.try_get("", "has_photo")?,
                room: r.try_get("", "room")?,
                centre: r.try_get("", "centre")?,
            })
        })
        .collect()
}

/// Seated candidates per (sitting, room) of these sittings: the centre chief's overview.
pub async fn seat_counts(db: &impl ConnectionTrait, sitting_ids: &[i64]) -> StoreResult<Vec<(i64, i64, i64)>> {
    if sitting_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = sitting_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql =
        format!("SELECT sitting_id, room_id, COUNT(*) AS n FROM seat_assignment WHERE sitting_id IN ({list}) GROUP BY sitting_id, room_id");
    let rows = db.query_all_raw(stmt(db, &sql, vec![])).await?;
    rows.iter().map(|r| Ok((r.try_get::<i64>("", "sitting_id")?, r.try_get::<i64>("", "room_id")?, r.try_get::<i64>("", "n")?))).collect()
}

/// Attempts per (sitting, room, status) of these sittings.
pub async fn attempt_counts(db: &impl ConnectionTrait, sitting_ids: &[i64]) -> StoreResult<Vec<(i64, i64, String, i64)>> {
    if sitting_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = sitting_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT sitting_id, room_id, status, COUNT(*) AS n FROM exam_attempt WHERE sitting_id IN ({list}) GROUP BY sitting_id, room_id, status"
    );
    let rows = db.query_all_raw(stmt(db, &sql, vec![])).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "sitting_id")?,
                r.try_get::<i64>("", "room_id")?,
                r.try_get::<String>("", "status")?,
                r.try_get::<i64>("", "n")?,
            ))
        })
        .collect()
}

/// The assembled form `number` of the blueprint for this subject, level and work type ("" for
/// subjects shared by all work types).
pub async fn form_for(db: &impl ConnectionTrait, subject: &str, level: i32, work_type: &str, number: i32) -> StoreResult<Option<FormRow>> {
    let Some(bp) = blueprint::Entity::find()
        .filter(blueprint::Column::Subject.eq(subject))
        .filter(blueprint::Column::Level.eq(level))
        .filter(blueprint::Column::WorkType.eq(work_type))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(paper_form::Entity::find()
        .filter(paper_form::Column::BlueprintId.eq(bp.id))
        .filter(paper_form::Column::Number.eq(number))
        .one(db)
        .await?)
}

pub async fn form(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<FormRow>> {
    Ok(paper_form::Entity::find_by_id(id).one(db).await?)
}

/// A room's clock and access code for one sitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSession {
    pub id: i64,
    pub sitting_id: i64,
    pub room_id: i64,
    pub access_code: String,
    pub started_at: Option<i64>,
    pub started_by: Option<String>,
    pub paused_at: Option<i64>,
    pub paused_total_ms: i64,
    /// The proctors' room record (考场记录单) as written.
    pub record: String,
    pub version: i32,
}

fn room_session_of(r: &QueryResult) -> StoreResult<RoomSession> {
    Ok(RoomSession {
        id: r.try_get("", "id")?,
        sitting_id: r.try_get("", "sitting_id")?,
        room_id: r.try_get("", "room_id")?,
        access_code: r.try_get("", "access_code")?,
        started_at: r.try_get("", "started_at")?,
        started_by: r.try_get("", "started_by")?,
        paused_at: r.try_get("", "paused_at")?,
        paused_total_ms: r.try_get("", "paused_total_ms")?,
        record: r.try_get("", "record")?,
        version: r.try_get("", "version")?,
    })
}

fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// A guarded write: no row changed means the row was not in the state the statement required
/// (a concurrent change won), which is [`StoreError::Conflict`].
async fn guarded(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> StoreResult<()> {
    let r = db.execute_raw(stmt(db, sql, values)).await?;
    if r.rows_affected() == 0 { Err(StoreError::Conflict) } else { Ok(()) }
}

const ROOM_COLUMNS: &str = "id, sitting_id, room_id, access_code, started_at, started_by, paused_at, paused_total_ms, record, version";

pub async fn room_session(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64) -> StoreResult<Option<RoomSession>> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM sitting_room WHERE sitting_id = $1 AND room_id = $2");
    let row = db.query_one_raw(stmt(db, &sql, vec![sitting_id.into(), room_id.into()])).await?;
    row.as_ref().map(room_session_of).transpose()
}

/// The room's session, created with `access_code` if it has none yet (the first proctor to open
/// the console creates it; a second at the same moment reads the first one's).
pub async fn ensure_room_session(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64, access_code: &str) -> StoreResult<RoomSession> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO sitting_room (sitting_id, room_id, access_code, paused_total_ms, record, version) VALUES ($1, $2, $3, 0, '', 1) \
         ON CONFLICT (sitting_id, room_id) DO NOTHING",
        vec![sitting_id.into(), room_id.into(), access_code.into()],
    ))
    .await?;
    room_session(db, sitting_id, room_id).await?.ok_or(StoreError::NotFound)
}

/// Writes the clock, guarded on the version read.
pub async fn set_room_clock(
    db: &impl ConnectionTrait,
    s: &RoomSession,
    started_at: Option<i64>,
    started_by: Option<&str>,
    paused_at: Option<i64>,
    paused_total_ms: i64,
) -> StoreResult<()> {
    guarded(
        db,
        "UPDATE sitting_room SET started_at = $1, started_by = $2, paused_at = $3, paused_total_ms = $4, version = version + 1 \
         WHERE id = $5 AND version = $6",
        vec![
            started_at.into(),
            started_by.map(str::to_owned).into(),
            paused_at.into(),
            paused_total_ms.into(),
            s.id.into(),
            s.version.into(),
        ],
    )
    .await
}

pub async fn set_room_record(db: &impl ConnectionTrait, s: &RoomSession, record: &str) -> StoreResult<()> {
    guarded(
        db,
        "UPDATE sitting_room SET record = $1, version = version + 1 WHERE id = $2 AND version = $3",
        vec![record.into(), s.id.into(), s.version.into()],
    )
    .await
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub seat_assignment_id: i64,
    pub sitting_id: i64,
    pub room_id: i64,
    pub application_id: i64,
    pub form_id: Option<i64>,
    pub candidate_seed: String,
    pub status: String,
    pub session_hash: Option<String>,
    pub logged_in_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub began_at: Option<i64>,
    pub extension_ms: i64,
    pub seat: i32,
    pub submitted_at: Option<i64>,
    pub submitted_by: Option<String>,
    pub objective_tenths: Option<i32>,
    pub answered: Option<i32>,
    pub for_marking: Option<i32>,
    pub item_scores: Option<String>,
    pub key_versions: Option<String>,
    pub receipt_digest: Option<String>,
    pub receipt_signature: Option<String>,
}

const ATTEMPT_COLUMNS: &str = "id, seat_assignment_id, sitting_id, room_id, application_id, form_id, candidate_seed, status, \
    session_hash, logged_in_at, confirmed_at, began_at, extension_ms, seat, submitted_at, submitted_by, objective_tenths, \
    answered, for_marking, item_scores, key_versions, receipt_digest, receipt_signature";

fn attempt_of(r: &QueryResult) -> StoreResult<Attempt> {
    Ok(Attempt {
        id: r.try_get("", "id")?,
        seat_assignment_id: r.try_get("", "seat_assignment_id")?,
        sitting_id: r.try_get("", "sitting_id")?,
        room_id: r.try_get("", "room_id")?,
        application_id: r.try_get("", "application_id")?,
        form_id: r.try_get("", "form_id")?,
        candidate_seed: r.try_get("", "candidate_seed")?,
        status: r.try_get("", "status")?,
        session_hash: r.try_get("", "session_hash")?,
        logged_in_at: r.try_get("", "logged_in_at")?,
        confirmed_at: r.try_get("", "confirmed_at")?,
        began_at: r.try_get("", "began_at")?,
        extension_ms: r.try_get("", "extension_ms")?,
        seat: r.try_get("", "seat")?,
        submitted_at: r.try_get("", "submitted_at")?,
        submitted_by: r.try_get("", "submitted_by")?,
        objective_tenths: r.try_get("", "objective_tenths")?,
        answered: r.try_get("", "answered")?,
        for_marking: r.try_get("", "for_marking")?,
        item_scores: r.try_get("", "item_scores")?,
        key_versions: r.try_get("", "key_versions")?,
        receipt_digest: r.try_get("", "receipt_digest")?,
        receipt_signature: r.try_get("", "receipt_signature")?,
    })
}

async fn attempt_where(db: &impl ConnectionTrait, clause: &str, values: Vec<Value>) -> StoreResult<Option<Attempt>> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM exam_attempt WHERE {clause}");
    let row = db.query_one_raw(stmt(db, &sql, values)).await?;
    row.as_ref().map(attempt_of).transpose()
}

pub async fn attempt(db: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Attempt>> {
    attempt_where(db, "id = $1", vec![id.into()]).await
}

pub async fn attempt_of_seat(db: &impl ConnectionTrait, seat_assignment_id: i64) -> StoreResult<Option<Attempt>> {
    attempt_where(db, "seat_assignment_id = $1", vec![seat_assignment_id.into()]).await
}

pub async fn attempt_by_session(db: &impl ConnectionTrait, session_hash: &str) -> StoreResult<Option<Attempt>> {
    attempt_where(db, "session_hash = $1", vec![session_hash.into()]).await
}

pub async fn attempts_in_room(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64) -> StoreResult<Vec<Attempt>> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM exam_attempt WHERE sitting_id = $1 AND room_id = $2 ORDER BY seat");
    let rows = db.query_all_raw(stmt(db, &sql, vec![sitting_id.into(), room_id.into()])).await?;
    rows.iter().map(attempt_of).collect()
}

/// Attempts still open (waiting or answering) of the sittings given.
pub async fn open_attempts(db: &impl ConnectionTrait, sitting_ids: &[i64]) -> StoreResult<Vec<Attempt>> {
    if sitting_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = sitting_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM exam_attempt WHERE status IN ('waiting', 'answering') AND sitting_id IN ({list})");
    let rows = db.query_all_raw(stmt(db, &sql, vec![])).await?;
    rows.iter().map(attempt_of).collect()
}

/// Sittings that have attempts still being answered (what the clock's sweep looks at).
pub async fn sittings_answering(db: &impl ConnectionTrait) -> StoreResult<Vec<i64>> {
    let rows = db.query_all_raw(stmt(db, "SELECT DISTINCT sitting_id FROM exam_attempt WHERE status = 'answering'", vec![])).await?;
    rows.iter().map(|r| r.try_get::<i64>("", "sitting_id").map_err(StoreError::from)).collect()
}

pub struct NewAttempt<'a> {
    pub seat_assignment_id: i64,
    pub sitting_id: i64,
    pub room_id: i64,
    pub application_id: i64,
    pub form_id: Option<i64>,
    pub candidate_seed: &'a str,
    pub seat: i32,
    pub status: &'a str,
}

/// Creates the seat's attempt if it has none; returns the attempt either way.
pub async fn ensure_attempt(db: &impl ConnectionTrait, a: NewAttempt<'_>, now: i64) -> StoreResult<Attempt> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO exam_attempt (seat_assignment_id, sitting_id, room_id, application_id, form_id, candidate_seed, status, \
         extension_ms, seat, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9) \
         ON CONFLICT (seat_assignment_id) DO NOTHING",
        vec![
            a.seat_assignment_id.into(),
            a.sitting_id.into(),
            a.room_id.into(),
            a.application_id.into(),
            a.form_id.into(),
            a.candidate_seed.into(),
            a.status.into(),
            a.seat.into(),
            now.into(),
        ],
    ))
    .await?;
    attempt_of_seat(db, a.seat_assignment_id).await?.ok_or(StoreError::NotFound)
}

fn json_param<T: serde::Serialize>(what: &str, rows: &T) -> StoreResult<String> {
    serde_json::to_string(rows).map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("{what}: {e}"))))
}

/// A login as the batch's JSON parameter carries it.
#[derive(serde::Serialize)]
struct JsonLogin<'a> {
    sa: i64,
    si: i64,
    r: i64,
    ap: i64,
    f: Option<i64>,
    cs: &'a str,
    st: &'a str,
    se: i32,
    h: &'a str,
    t: i64,
}

/// The attempts of these seats (those that have one), keyed by seat assignment, in one query.
pub async fn attempts_of_seats(
    db: &impl ConnectionTrait,
    seat_assignment_ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Attempt>> {
    if seat_assignment_ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let seats_json = json_param("seats", &seat_assignment_ids)?;
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        format!(
            "SELECT {ATTEMPT_COLUMNS} FROM exam_attempt \
             WHERE seat_assignment_id IN (SELECT value::bigint FROM json_array_elements_text($1::json))"
        )
    } else {
        // CROSS JOIN keeps the list as the outer loop: each seat finds its attempt by key.
        let columns = ATTEMPT_COLUMNS.split(", ").map(|c| format!("a.{}", c.trim())).collect::<Vec<_>>().join(", ");
        format!("SELECT {columns} FROM json_each(?) AS j CROSS JOIN exam_attempt a WHERE a.seat_assignment_id = j.value")
    };
    let found = db.query_all_raw(Statement::from_sql_and_values(backend, sql, vec![seats_json.into()])).await?;
    found
        .iter()
        .map(|r| {
            let a = attempt_of(r)?;
            Ok((a.seat_assignment_id, a))
        })
        .collect()
}

/// The logins of one group commit in one statement: each seat's attempt is created (with its
/// recorded seed) if it has none, and its session set to the new one, unless the attempt is no
/// longer waiting or answering. One login per seat (the caller keeps the last of a seat's).
pub async fn upsert_logins(db: &impl ConnectionTrait, logins: &[(NewAttempt<'_>, &str)], now: i64) -> StoreResult<()> {
    if logins.is_empty() {
        return Ok(());
    }
    let rows: Vec<JsonLogin<'_>> = logins
        .iter()
        .map(|(a, h)| JsonLogin {
            sa: a.seat_assignment_id,
            si: a.sitting_id,
            r: a.room_id,
            ap: a.application_id,
            f: a.form_id,
            cs: a.candidate_seed,
            st: a.status,
            se: a.seat,
            h,
            t: now,
        })
        .collect();
    let json = json_param("logins", &rows)?;
    let backend = db.get_database_backend();
    let source = if backend == DbBackend::Postgres {
        "SELECT v.sa, v.si, v.r, v.ap, v.f, v.cs, v.st, 0, v.se, v.h, v.t, v.t, v.t \
         FROM json_to_recordset($1::json) AS v(sa bigint, si bigint, r bigint, ap bigint, f bigint, cs text, st text, se integer, h text, t bigint)"
    } else {
        // `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT.
        "SELECT json_extract(value, '$.sa'), json_extract(value, '$.si'), json_extract(value, '$.r'), json_extract(value, '$.ap'), \
         json_extract(value, '$.f'), json_extract(value, '$.cs'), json_extract(value, '$.st'), 0, json_extract(value, '$.se'), \
         json_extract(value, '$.h'), json_extract(value, '$.t'), json_extract(value, '$.t'), json_extract(value, '$.t') \
         FROM json_each(?) WHERE true"
    };
    let sql = format!(
        "INSERT INTO exam_attempt (seat_assignment_id, sitting_id, room_id, application_id, form_id, candidate_seed, status, \
         extension_ms, seat, session_hash, logged_in_at, created_at, updated_at) {source} \
         ON CONFLICT (seat_assignment_id) DO UPDATE SET session_hash = excluded.session_hash, logged_in_at = excluded.logged_in_at, \
         updated_at = excluded.updated_at WHERE exam_attempt.status IN ('waiting', 'answering')"
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, vec![json.into()])).await?;
    Ok(())
}

/// A new login takes the attempt over: the previous session stops working.
pub async fn set_session(db: &impl ConnectionTrait, attempt_id: i64, session_hash: &str, now: i64) -> StoreResult<()> {
    guarded(
        db,
        "UPDATE exam_attempt SET session_hash = $1, logged_in_at = $2, updated_at = $2 \
         WHERE id = $3 AND status IN ('waiting', 'answering')",
        vec![session_hash.into(), now.into(), attempt_id.into()],
    )
    .await
}

/// Logs this session out (the attempt goes on).
pub async fn clear_session(db: &impl ConnectionTrait, attempt_id: i64, session_hash: &str) -> StoreResult<()> {
    db.execute_raw(stmt(
        db,
        "UPDATE exam_attempt SET session_hash = NULL WHERE id = $1 AND session_hash = $2",
        vec![attempt_id.into(), session_hash.into()],
    ))
    .await?;
    Ok(())
}

/// Ends whatever session the attempt has (absent, moved).
pub async fn clear_any_session(db: &impl ConnectionTrait, attempt_id: i64) -> StoreResult<()> {
    db.execute_raw(stmt(db, "UPDATE exam_attempt SET session_hash = NULL WHERE id = $1", vec![attempt_id.into()])).await?;
    Ok(())
}

/// Candidates confirm their identity: all the confirmations of one group commit in one
/// statement (at the start of a sitting 2,000 arrive within a second). With `begin` (the room
/// has started) a waiting attempt with a paper begins. Returns the attempts as they now are,
/// by id: the caller would otherwise read each again at the candidate's next request.
pub async fn confirm_identities(
    db: &impl ConnectionTrait,
    attempt_ids: &[i64],
    begin: bool,
    now: i64,
) -> StoreResult<std::collections::HashMap<i64, Attempt>> {
    if attempt_ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let ids = json_param("attempts", &attempt_ids)?;
    let backend = db.get_database_backend();
    let listed = if backend == DbBackend::Postgres {
        "id IN (SELECT value::bigint FROM json_array_elements_text($2::json))"
    } else {
        "id IN (SELECT value FROM json_each($2))"
    };
    let set = if begin {
        "confirmed_at = COALESCE(confirmed_at, $1), updated_at = $1, \
         status = CASE WHEN status = 'waiting' AND form_id IS NOT NULL THEN 'answering' ELSE status END, \
         began_at = CASE WHEN status = 'waiting' AND form_id IS NOT NULL THEN COALESCE(began_at, $1) ELSE began_at END"
    } else {
        "confirmed_at = COALESCE(confirmed_at, $1), updated_at = $1"
    };
    let sql = format!("UPDATE exam_attempt SET {set} WHERE {listed} RETURNING {ATTEMPT_COLUMNS}");
    let rows = db.query_all_raw(stmt(db, &sql, vec![now.into(), ids.into()])).await?;
    rows.iter()
        .map(|r| {
            let a = attempt_of(r)?;
            Ok((a.id, a))
        })
        .collect()
}

/// At the room's start, every candidate already logged in and confirmed begins at once: one
/// statement for the room instead of one commit per candidate when they all ask for their
/// paper in the same second.
pub async fn begin_room(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64, now: i64) -> StoreResult<u64> {
    let r = db
        .execute_raw(stmt(
            db,
            "UPDATE exam_attempt SET status = 'answering', began_at = COALESCE(began_at, $1), updated_at = $1 \
             WHERE sitting_id = $2 AND room_id = $3 AND status = 'waiting' AND confirmed_at IS NOT NULL AND form_id IS NOT NULL",
            vec![now.into(), sitting_id.into(), room_id.into()],
        ))
        .await?;
    Ok(r.rows_affected())
}

/// Guarded status change; `began_at` is set on the first move to answering.
pub async fn set_status(db: &impl ConnectionTrait, attempt_id: i64, from: &str, to: &str, now: i64) -> StoreResult<()> {
    guarded(
        db,
        "UPDATE exam_attempt SET status = $1, updated_at = $2, \
         began_at = CASE WHEN $1 = 'answering' THEN COALESCE(began_at, $2) ELSE began_at END \
         WHERE id = $3 AND status = $4",
        vec![to.into(), now.into(), attempt_id.into(), from.into()],
    )
    .await
}

pub async fn add_extension(db: &impl ConnectionTrait, attempt_id: i64, extra_ms: i64, now: i64) -> StoreResult<()> {
    guarded(
        db,
        "UPDATE exam_attempt SET extension_ms = extension_ms + $1, updated_at = $2 WHERE id = $3 AND status IN ('waiting', 'answering')",
        vec![extra_ms.into(), now.into(), attempt_id.into()],
    )
    .await
}

/// Moves the attempt to another seat of the room; the old session stops working, so the
/// candidate logs in again at the new seat.
pub async fn move_attempt(db: &impl ConnectionTrait, attempt_id: i64, seat: i32, now: i64) -> StoreResult<()> {
    guarded(
        db,
        "UPDATE exam_attempt SET seat = $1, session_hash = NULL, updated_at = $2 WHERE id = $3 AND status IN ('waiting', 'answering')",
        vec![seat.into(), now.into(), attempt_id.into()],
    )
    .await
}

/// What submission records.
pub struct Submission<'a> {
    pub submitted_by: &'a str,
    pub objective_tenths: i32,
    pub answered: i32,
    pub for_marking: i32,
    pub item_scores: &'a str,
    pub key_versions: &'a str,
    pub receipt_digest: &'a str,
    pub receipt_signature: &'a str,
}

/// Ends the attempt (answering → submitted, or → ended for a violation) with its score and
/// receipt; guarded on the status.
pub async fn finish(db: &impl ConnectionTrait, attempt_id: i64, from: &str, to: &str, s: Submission<'_>, now: i64) -> StoreResult<()> {
    guarded(
        db,
        "UPDATE exam_attempt SET status = $1, submitted_at = $2, submitted_by = $3, objective_tenths = $4, answered = $5, \
         for_marking = $6, item_scores = $7, key_versions = $8, receipt_digest = $9, receipt_signature = $10, updated_at = $2 \
         WHERE id = $11 AND status = $12",
        vec![
            to.into(),
            now.into(),
            s.submitted_by.into(),
            s.objective_tenths.into(),
            s.answered.into(),
            s.for_marking.into(),
            s.item_scores.into(),
            s.key_versions.into(),
            s.receipt_digest.into(),
            s.receipt_signature.into(),
            attempt_id.into(),
            from.into(),
        ],
    )
    .await
}

/// One stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub position: i32,
    pub answer: String,
    pub flagged: bool,
    pub seq: i64,
    pub saved_at: i64,
}

fn response_of(r: &QueryResult) -> StoreResult<Response> {
    Ok(Response {
        position: r.try_get("", "position")?,
        answer: r.try_get("", "answer")?,
        flagged: r.try_get("", "flagged")?,
        seq: r.try_get("", "seq")?,
        saved_at: r.try_get("", "saved_at")?,
    })
}

pub async fn responses(db: &impl ConnectionTrait, attempt_id: i64) -> StoreResult<Vec<Response>> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT position, answer, flagged, seq, saved_at FROM attempt_response WHERE attempt_id = $1 ORDER BY position",
            vec![attempt_id.into()],
        ))
        .await?;
    rows.iter().map(response_of).collect()
}

pub async fn response(db: &impl ConnectionTrait, attempt_id: i64, position: i32) -> StoreResult<Option<Response>> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT position, answer, flagged, seq, saved_at FROM attempt_response WHERE attempt_id = $1 AND position = $2",
            vec![attempt_id.into(), position.into()],
        ))
        .await?;
    row.as_ref().map(response_of).transpose()
}

/// Per attempt of a room: answered items (non-empty answers), the highest sequence and the
/// last save, for the proctor's console.
pub async fn room_progress(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64) -> StoreResult<Vec<(i64, i64, i64, i64)>> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT r.attempt_id AS attempt_id, \
                    SUM(CASE WHEN r.answer <> '' THEN 1 ELSE 0 END) AS answered, \
                    MAX(r.seq) AS last_seq, MAX(r.saved_at) AS last_saved \
             FROM attempt_response r JOIN exam_attempt a ON a.id = r.attempt_id \
             WHERE a.sitting_id = $1 AND a.room_id = $2 GROUP BY r.attempt_id",
            vec![sitting_id.into(), room_id.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "attempt_id")?,
                r.try_get::<i64>("", "answered")?,
                r.try_get::<i64>("", "last_seq")?,
                r.try_get::<i64>("", "last_saved")?,
            ))
        })
        .collect()
}

/// One answer to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRow {
    pub attempt_id: i64,
    pub position: i32,
    pub answer: String,
    pub flagged: bool,
    pub seq: i64,
    pub saved_at: i64,
}

/// One answer as the batch's JSON parameter carries it.
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    a: i64,
    p: i32,
    x: &'a str,
    f: bool,
    s: i64,
    t: i64,
}

impl<'a> From<&'a SaveRow> for JsonRow<'a> {
    fn from(r: &'a SaveRow) -> Self {
        JsonRow { a: r.attempt_id, p: r.position, x: &r.answer, f: r.flagged, s: r.seq, t: r.saved_at }
    }
}

/// Writes a batch of answers in the caller's transaction and returns the attempts of the batch
/// that are still being answered (their saves are durable once the transaction commits; the
/// saves of the others were not written).
///
/// An answer is written only over an older sequence number, so a retried or reordered save
/// never overwrites a newer answer; within the batch only the highest sequence per item is
/// kept (PostgreSQL refuses to update one row twice in one statement). On PostgreSQL the
/// attempt's row is share-locked by the statement, so a concurrent submission (which updates
/// that row) either sees these answers or makes this statement write none of them.
///
/// The rows travel as one JSON parameter, so each backend runs one statement of fixed text
/// whatever the batch's size: prepared once per connection, with nothing to bind by name
/// (SQLite's driver looks each `$N` up by name, which cost a fifth of the server's CPU with
/// statements of many parameters).
pub async fn save_batch(db: &impl ConnectionTrait, rows: &[SaveRow]) -> StoreResult<Vec<i64>> {
    let mut best: std::collections::HashMap<(i64, i32), &SaveRow> = std::collections::HashMap::with_capacity(rows.len());
    for r in rows {
        best.entry((r.attempt_id, r.position))
            .and_modify(|b| {
                if r.seq > b.seq {
                    *b = r
                }
            })
            .or_insert(r);
    }
    let mut unique: Vec<&SaveRow> = best.into_values().collect();
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    unique.sort_by_key(|r| (r.attempt_id, r.position));
    let json = json_param("answers", &unique.iter().map(|r| JsonRow::from(*r)).collect::<Vec<_>>())?;
    let mut ids: Vec<i64> = unique.iter().map(|r| r.attempt_id).collect();
    ids.dedup();
    let ids_json = json_param("attempts", &ids)?;
    let backend = db.get_database_backend();
    // On SQLite, CROSS JOIN keeps the batch as the outer loop (each row finds its attempt by
    // key); with a plain join the planner walked every answering attempt for each batch.
    let (insert, open) = if backend == DbBackend::Postgres {
        (
            "INSERT INTO attempt_response (attempt_id, position, answer, flagged, seq, saved_at) \
             SELECT v.a, v.p, v.x, v.f, v.s, v.t \
             FROM json_to_recordset($1::json) AS v(a bigint, p integer, x text, f boolean, s bigint, t bigint) \
             JOIN exam_attempt a ON a.id = v.a WHERE a.status = 'answering' FOR SHARE OF a \
             ON CONFLICT (attempt_id, position) DO UPDATE SET answer = excluded.answer, flagged = excluded.flagged, \
             seq = excluded.seq, saved_at = excluded.saved_at WHERE excluded.seq > attempt_response.seq",
            "SELECT id FROM exam_attempt WHERE status = 'answering' \
             AND id IN (SELECT value::bigint FROM json_array_elements_text($1::json))",
        )
    } else {
        (
            "INSERT INTO attempt_response (attempt_id, position, answer, flagged, seq, saved_at) \
             SELECT json_extract(j.value, '$.a'), json_extract(j.value, '$.p'), json_extract(j.value, '$.x'), \
             json_extract(j.value, '$.f'), json_extract(j.value, '$.s'), json_extract(j.value, '$.t') \
             FROM json_each(?) AS j CROSS JOIN exam_attempt a \
             WHERE a.id = json_extract(j.value, '$.a') AND a.status = 'answering' \
             ON CONFLICT (attempt_id, position) DO UPDATE SET answer = excluded.answer, flagged = excluded.flagged, \
             seq = excluded.seq, saved_at = excluded.saved_at WHERE excluded.seq > attempt_response.seq",
            "SELECT a.id FROM json_each(?) AS j CROSS JOIN exam_attempt a WHERE a.id = j.value AND a.status = 'answering'",
        )
    };
    db.execute_raw(Statement::from_sql_and_values(backend, insert, vec![json.into()])).await?;
    let open = db.query_all_raw(Statement::from_sql_and_values(backend, open, vec![ids_json.into()])).await?;
    open.iter().map(|r| r.try_get::<i64>("", "id").map_err(StoreError::from)).collect()
}

/// A proctor's action.
pub struct NewEvent<'a> {
    pub sitting_id: i64,
    pub room_id: i64,
    pub attempt_id: Option<i64>,
    pub kind: &'a str,
    pub category: Option<&'a str>,
    pub minutes: Option<i32>,
    pub reason: &'a str,
    pub actor: &'a str,
}

pub async fn insert_event(db: &impl ConnectionTrait, e: NewEvent<'_>, now: i64) -> StoreResult<()> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO proctor_event (sitting_id, room_id, attempt_id, kind, category, minutes, reason, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            e.sitting_id.into(),
            e.room_id.into(),
            e.attempt_id.into(),
            e.kind.into(),
            e.category.map(str::to_owned).into(),
            e.minutes.into(),
            e.reason.into(),
            e.actor.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// A recorded proctor action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub attempt_id: Option<i64>,
    pub kind: String,
    pub category: Option<String>,
    pub minutes: Option<i32>,
    pub reason: String,
    pub actor: String,
    pub at: i64,
}

pub async fn events(db: &impl ConnectionTrait, sitting_id: i64, room_id: i64) -> StoreResult<Vec<Event>> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT attempt_id, kind, category, minutes, reason, actor, at FROM proctor_event \
             WHERE sitting_id = $1 AND room_id = $2 ORDER BY at, id",
            vec![sitting_id.into(), room_id.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                attempt_id: r.try_get("", "attempt_id")?,
                kind: r.try_get("", "kind")?,
                category: r.try_get("", "category")?,
                minutes: r.try_get("", "minutes")?,
                reason: r.try_get("", "reason")?,
                actor: r.try_get("", "actor")?,
                at: r.try_get("", "at")?,
            })
        })
        .collect()
}
