//! The only module that branches on the database engine.
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::{StoreError, StoreResult};

/// Pages of SQLite's write-ahead log (4 KiB each) past which a commit checkpoints by itself.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

pub async fn connect(url: &str) -> StoreResult<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).acquire_timeout(Duration::from_secs(10)).connect_timeout(Duration::from_secs(5));
    if url.starts_with("sqlite:") {
        // WAL lets readers proceed during a write; FULL makes an acknowledged commit survive a
        // power cut, not only a crash; foreign keys are off by default in SQLite. Temporary
        // storage in memory: a multi-row statement inside a transaction keeps a statement
        // journal (the pages it changed, to undo it alone on error), by default in a temporary
        // file, one write system call per page; it is never needed after a crash.
        // Checkpoints: by default the commit that takes the log past 1,000 pages copies them
        // into the database file and flushes it, inside the single writer's turn, so every
        // write queued behind it waits. A serving process checkpoints from its own task instead
        // (`Store::spawn_checkpoints`); the commit does it only past `WAL_AUTOCHECKPOINT_PAGES`,
        // a backstop for processes that run no such task (seeding, the command line).
        opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("temp_store", "memory")
                .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
        });
    } else {
        opts.max_connections(16);
    }
    Database::connect(opts).await.map_err(StoreError::Db)
}

/// Case-insensitive "contains" for list filters: PostgreSQL's LIKE is case-sensitive, SQLite's
/// is not (for ASCII). Chinese text has no case, so this only matters for user names and codes.
pub fn like_operator(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "ILIKE",
        _ => "LIKE",
    }
}

/// Number of rows in a table, for readiness and statistics.
pub async fn count_rows(db: &impl ConnectionTrait, table: &str) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "n")?,
        None => 0,
    })
}
