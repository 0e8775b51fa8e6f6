//! The only module that branches on the database engine.
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::{StoreError, StoreResult};

pub async fn connect(url: &str) -> StoreResult<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).acquire_timeout(Duration::from_secs(10)).connect_timeout(Duration::from_secs(5));
    if url.starts_with("sqlite:") {
        // WAL lets readers proceed during a write; FULL makes an acknowledged commit survive a
        // power cut, not only a crash; foreign keys are off by default in SQLite. Temporary
        // storage in memory: a multi-row statement inside a transaction keeps a statement
        // journal (the pages it changed, to undo it alone on error), by default in a temporary
        // file, one write system call per page; it is never needed after a crash.
        opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("temp_store", "memory")
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
