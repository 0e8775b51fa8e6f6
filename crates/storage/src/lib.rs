//! Persistence for Gongkao: one migration history and one query code path for SQLite (the
//! embedded default) and PostgreSQL (production, several app nodes).
//!
//! Rules kept here (see ARCHITECTURE.md):
//! - instants are bound from Rust as UTC epoch milliseconds; SQL never reads a clock;
//! - state transitions are guarded updates (`UPDATE … WHERE id = ? AND status = ?`); zero rows
//!   affected is a [`StoreError::Conflict`];
//! - every state change appends its audit entry inside the same write transaction;
//! - the rare engine-specific statement lives in [`dialect`].
#![forbid(unsafe_code)]

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod campaigns;
pub mod delivery;
pub mod dialect;
pub mod entity;
pub mod exam_sites;
pub mod fees;
pub mod files;
pub mod items;
pub mod jobs;
pub mod migration;
pub mod misc;
pub mod papers;
pub mod practice;
pub mod tickets;
pub mod training;
pub mod units;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use time::OffsetDateTime;
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use sea_orm;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Db(#[from] DbErr),
    /// A guarded transition found the row in another state (a concurrent change won).
    #[error("记录已被他人修改，请刷新后重试")]
    Conflict,
    #[error("记录不存在")]
    NotFound,
    /// A unique constraint refused the write; the string is the constraint's message.
    #[error("重复的记录：{0}")]
    Duplicate(String),
}

impl StoreError {
    /// Unique violations become [`StoreError::Duplicate`] so callers can name the field.
    pub fn classify(err: DbErr) -> StoreError {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(msg)) => StoreError::Duplicate(msg),
            _ => StoreError::Db(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Epoch milliseconds, the one portable representation of an instant in the schema.
pub fn to_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The database handle shared by the whole process.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite allows one writer; serialising writers in-process avoids `SQLITE_BUSY` on the
    /// read-then-write upgrade of deferred transactions. PostgreSQL needs no such lock.
    write_lock: Option<Arc<Mutex<()>>>,
    /// The key that seals audit entries; it lives in a file outside the database.
    audit_key: Option<Arc<[u8]>>,
}

/// A write transaction. Commit it explicitly; dropping it rolls back.
pub struct WriteTx {
    txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
    audit_key: Option<Arc<[u8]>>,
}

impl WriteTx {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn audit_key(&self) -> Option<&[u8]> {
        self.audit_key.as_deref()
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.txn.commit().await.map_err(StoreError::classify)
    }
}

impl Store {
    /// Connects to `sqlite://…` or `postgres://…`; SQLite files are created when missing.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let db = dialect::connect(url).await?;
        let write_lock = (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store { db, write_lock, audit_key: None })
    }

    /// Seals every audit entry appended from now on, and lets [`audit::verify`] check seals.
    pub fn with_audit_key(mut self, key: Vec<u8>) -> Store {
        self.audit_key = Some(Arc::from(key));
        self
    }

    pub fn audit_key(&self) -> Option<&[u8]> {
        self.audit_key.as_deref()
    }

    /// The same database without the audit key: what someone holding only database access sees.
    pub fn without_audit_key(&self) -> Store {
        Store { db: self.db.clone(), write_lock: self.write_lock.clone(), audit_key: None }
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        migration::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Names of migrations not yet applied.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let pending = migration::Migrator::get_pending_migrations(&self.db).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    pub async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// Every write, even a single statement, goes through here: on SQLite a write outside the
    /// in-process lock could commit between another transaction's read and its write, and that
    /// transaction would then fail with `SQLITE_BUSY_SNAPSHOT` instead of waiting.
    pub async fn write(&self) -> StoreResult<WriteTx> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = self.db.begin().await?;
        Ok(WriteTx { txn, _guard: guard, audit_key: self.audit_key.clone() })
    }

    /// Copies committed pages from SQLite's write-ahead log into the database file: a passive
    /// checkpoint, which waits for no reader or writer and copies what it can. Nothing to do on
    /// PostgreSQL.
    pub async fn checkpoint(&self) -> StoreResult<()> {
        if self.backend() == DbBackend::Sqlite {
            sea_orm::ConnectionTrait::query_all_raw(
                &self.db,
                sea_orm::Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(PASSIVE)"),
            )
            .await?;
        }
        Ok(())
    }

    /// Checkpoints SQLite's log every `every` from a task of its own, so that the writer's
    /// commits do not pay for it: with SQLite's default the commit that took the log past 1,000
    /// pages also copied and flushed them while every queued answer waited (BENCHMARKS.md,
    /// fourth round: saves +5 %, p50 and p99 at 20,000/s lower).
    pub fn spawn_checkpoints(&self, every: std::time::Duration) {
        if self.backend() != DbBackend::Sqlite {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = store.checkpoint().await {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; the next commit past the backstop checkpoints instead");
                }
            }
        });
    }

    pub async fn close(self) -> StoreResult<()> {
        self.db.close().await?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use sea_orm::ConnectionTrait;

    use super::*;

    /// A commit past SQLite's default of 1,000 log pages leaves them in the log (the backstop is
    /// higher); the checkpoint task then copies them into the database file.
    #[tokio::test]
    async fn the_checkpoint_task_copies_the_log_into_the_database_file() {
        let dir = std::env::temp_dir().join(format!("gk-checkpoint-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.sqlite");
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
        store.conn().execute_unprepared("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)").await.unwrap();
        store.checkpoint().await.unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        // About 2,000 pages of 4 KiB in one commit: one 3,000-byte row a page.
        let tx = store.write().await.unwrap();
        tx.conn()
            .execute_unprepared(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
                 INSERT INTO filler (body) SELECT randomblob(3000) FROM n",
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(size(), before, "the commit did not checkpoint");
        store.spawn_checkpoints(Duration::from_millis(20));
        let mut waited = Duration::ZERO;
        while size() < before + 2_000 * 3_000 && waited < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            waited += Duration::from_millis(20);
        }
        assert!(size() >= before + 2_000 * 3_000, "the task copied the pages into the file ({} bytes)", size());
        store.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// m0018 rebuilds SQLite's `attempt_response` as a `WITHOUT ROWID` table and keeps every
    /// answer saved before it. One connection with foreign keys off, so the answers can be
    /// written without the sittings and seats they would belong to.
    #[tokio::test]
    async fn the_answers_table_is_rebuilt_clustered_with_its_rows() {
        use sea_orm::{ConnectOptions, Database, Statement};
        let dir = std::env::temp_dir().join(format!("gk-m0018-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut opts = ConnectOptions::new(format!("sqlite://{}?mode=rwc", dir.join("t.sqlite").display()));
        opts.max_connections(1).min_connections(1).sqlx_logging(false);
        let db = Database::connect(opts).await.unwrap();
        db.execute_unprepared("PRAGMA foreign_keys = OFF").await.unwrap();
        let table_sql = |db: DatabaseConnection| async move {
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'attempt_response'",
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<String>("", "sql").unwrap()
        };
        let all = migration::Migrator::migrations().len() as u32;
        migration::Migrator::up(&db, Some(all - 1)).await.unwrap();
        assert!(!table_sql(db.clone()).await.contains("WITHOUT ROWID"));
        db.execute_unprepared(
            "INSERT INTO attempt_response (attempt_id, position, answer, flagged, seq, saved_at) VALUES \
             (7, 1, 'A', 0, 3, 1000), (7, 2, 'B,C', 1, 4, 1001), (9, 1, '', 0, 1, 1002)",
        )
        .await
        .unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        assert!(table_sql(db.clone()).await.ends_with("WITHOUT ROWID"));
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT attempt_id, position, answer, flagged, seq, saved_at FROM attempt_response ORDER BY attempt_id, position",
            ))
            .await
            .unwrap();
        let rows: Vec<(i64, i32, String, bool, i64, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.try_get("", "attempt_id").unwrap(),
                    r.try_get("", "position").unwrap(),
                    r.try_get("", "answer").unwrap(),
                    r.try_get("", "flagged").unwrap(),
                    r.try_get("", "seq").unwrap(),
                    r.try_get("", "saved_at").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![(7, 1, "A".to_owned(), false, 3, 1000), (7, 2, "B,C".to_owned(), true, 4, 1001), (9, 1, String::new(), false, 1, 1002)]
        );
        // The key still refuses a second row for one item, which the saves' upsert relies on.
        assert!(
            db.execute_unprepared(
                "INSERT INTO attempt_response (attempt_id, position, answer, flagged, seq, saved_at) VALUES (7, 1, 'D', 0, 9, 1003)"
            )
            .await
            .is_err()
        );
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
