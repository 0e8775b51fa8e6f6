//! Photos and attachments of applications: rows in `application_file`, bytes on disk under
//! their SM3 hash (`files/<first 2 hex>/<hash>` in the data folder), so the same bytes uploaded
//! twice are stored once and a file on disk can always be checked against its row.
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use sm3::{Digest, Sm3};
use time::OffsetDateTime;

use crate::entity::{application, application_file};
use crate::{StoreError, StoreResult, to_ms};

pub use crate::entity::application_file::Model as StoredFile;

/// SM3 of the bytes, lower-case hex: the name of the file on disk.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

/// The content-addressed folder. Blocking I/O: call it from `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn new(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    /// Only a well-formed hash becomes a path, so a row edited to hold `../x` reads nothing.
    fn path_of(&self, hash: &str) -> Option<PathBuf> {
        let well_formed = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| self.root.join(&hash[..2]).join(hash))
    }

    /// Stores the bytes under their hash and returns it. An existing file of the same hash and
    /// length is kept (deduplication); otherwise a temporary file is written, flushed to disk
    /// and renamed into place, so a crash leaves either no file or the whole file.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let hash = content_hash(bytes);
        let path = self.path_of(&hash).ok_or_else(|| std::io::Error::other("hash"))?;
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(hash);
        }
        let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent folder"))?;
        std::fs::create_dir_all(dir)?;
        let mut suffix = [0u8; 8];
        rand::rng().fill_bytes(&mut suffix);
        let tmp = dir.join(format!(".tmp-{}", hex::encode(suffix)));
        let written = (|| {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            sync_dir(dir)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map(|()| hash)
    }

    /// Reads the bytes back and checks them against the hash: a file changed on disk is an
    /// error, never served.
    pub fn get(&self, hash: &str) -> std::io::Result<Vec<u8>> {
        let path = self.path_of(hash).ok_or_else(|| std::io::Error::other("malformed content hash"))?;
        let bytes = std::fs::read(path)?;
        if content_hash(&bytes) != hash {
            return Err(std::io::Error::other(format!("stored file {hash} does not match its hash")));
        }
        Ok(bytes)
    }

    /// How many distinct contents are stored (for tests and operators).
    pub fn count(&self) -> usize {
        let Ok(dirs) = std::fs::read_dir(&self.root) else { return 0 };
        dirs.flatten()
            .filter_map(|d| std::fs::read_dir(d.path()).ok())
            .flat_map(|files| files.flatten())
            .filter(|f| !f.file_name().to_string_lossy().starts_with('.'))
            .count()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The rename is durable only once the folder entry is on disk too.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

pub struct NewFile<'a> {
    pub application_id: i64,
    pub kind: &'a str,
    pub original_name: &'a str,
    pub content_type: &'a str,
    pub byte_size: i64,
    pub content_hash: &'a str,
    pub uploaded_by: &'a str,
}

/// 128 random bits: file URLs cannot be guessed from another file's.
fn new_public_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub async fn insert(db: &impl ConnectionTrait, f: NewFile<'_>, now: OffsetDateTime) -> StoreResult<StoredFile> {
    let am = application_file::ActiveModel {
        public_id: Set(new_public_id()),
        application_id: Set(f.application_id),
        kind: Set(f.kind.to_owned()),
        original_name: Set(f.original_name.to_owned()),
        content_type: Set(f.content_type.to_owned()),
        byte_size: Set(f.byte_size),
        content_hash: Set(f.content_hash.to_owned()),
        uploaded_by: Set(f.uploaded_by.to_owned()),
        uploaded_at: Set(to_ms(now)),
        removed_at: Set(None),
        removed_by: Set(None),
        ..Default::default()
    };
    let id = application_file::Entity::insert(am).exec(db).await.map_err(StoreError::classify)?.last_insert_id;
    application_file::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// The application's current files (not replaced or deleted), oldest first.
pub async fn active_for(db: &impl ConnectionTrait, application_id: i64) -> StoreResult<Vec<StoredFile>> {
    Ok(application_file::Entity::find()
        .filter(application_file::Column::ApplicationId.eq(application_id))
        .filter(application_file::Column::RemovedAt.is_null())
        .order_by_asc(application_file::Column::Id)
        .all(db)
        .await?)
}

pub async fn by_public_id(db: &impl ConnectionTrait, public_id: &str) -> StoreResult<Option<StoredFile>> {
    Ok(application_file::Entity::find().filter(application_file::Column::PublicId.eq(public_id)).one(db).await?)
}

/// Marks a file replaced or deleted; zero rows (already removed) is a conflict.
pub async fn remove(db: &impl ConnectionTrait, id: i64, by: &str, now: OffsetDateTime) -> StoreResult<()> {
    let res = application_file::Entity::update_many()
        .col_expr(application_file::Column::RemovedAt, Expr::value(to_ms(now)))
        .col_expr(application_file::Column::RemovedBy, Expr::value(by))
        .filter(application_file::Column::Id.eq(id))
        .filter(application_file::Column::RemovedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Inside a write transaction: the application is still in a state its applicant may change.
/// The no-op update takes the row lock on PostgreSQL, so a concurrent submit or review waits
/// for this transaction (and then sees its files) instead of racing it.
pub async fn guard_editable(db: &impl ConnectionTrait, application_id: i64) -> StoreResult<()> {
    let res = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::col(application::Column::Status))
        .filter(application::Column::Id.eq(application_id))
        .filter(application::Column::Status.is_in(["draft", "submitted", "returned"]))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Every file row, current or removed (tests check that refusals add none).
pub async fn count_all(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(application_file::Entity::find().count(db).await?)
}
