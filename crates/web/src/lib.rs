//! HTTP layer of Gongkao: server-rendered zh-CN pages, the JSON API with its OpenAPI document,
//! sessions, CSRF, and the access policy. Handlers stay thin: they parse input, call a service,
//! and render.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod crypto;
pub mod error;
pub mod jobs;
pub mod pages;
pub mod passwords;
pub mod policy;
pub mod routes;
pub mod sender;
pub mod services;
pub mod view;

use std::path::PathBuf;
use std::sync::Arc;

use gongkao_domain::clock::Clock;
use gongkao_storage::Store;
use time::OffsetDateTime;

pub use routes::build_router;

/// The system clock: the one place in the workspace that reads the wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Settings of the web layer, from the binary's configuration file.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Set the `Secure` flag on cookies: true when served over TLS (directly or behind a proxy).
    pub secure_cookies: bool,
    /// Trust the first address of `X-Forwarded-For` (only behind a reverse proxy you run).
    pub trust_forwarded_for: bool,
    /// Absolute session lifetime in hours.
    pub session_hours: i64,
    /// Idle timeout for applicants in minutes (staff use the security policy's value).
    pub applicant_idle_minutes: i64,
    pub argon2: passwords::Argon2Params,
    /// Lifetime of SMS verification codes, in minutes.
    pub verification_code_minutes: i64,
    /// Where uploaded photos and attachments live (`files/` in the data folder).
    pub files_dir: PathBuf,
    /// Seals item-bank content at rest. The binary loads its key from the configuration; the
    /// default is an ephemeral key, for tests.
    pub item_cipher: crypto::ContentCipher,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            trust_forwarded_for: false,
            session_hours: 12,
            applicant_idle_minutes: 120,
            argon2: passwords::Argon2Params::default(),
            verification_code_minutes: 10,
            files_dir: PathBuf::from("./gongkao-data/files"),
            item_cipher: crypto::ContentCipher::ephemeral(),
        }
    }
}

pub struct Inner {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: WebConfig,
    pub sender: Arc<dyn sender::Sender>,
    /// Short-lived copies of the security policy and the agency tree (see [`auth::Caches`]).
    pub caches: auth::Caches,
    /// Wakes an idle job worker of this process when a job is queued here, instead of leaving
    /// it to the next poll (see [`jobs`]).
    pub job_wakeup: tokio::sync::Notify,
    /// Computer-based delivery: sessions, attempts, rooms' clocks, opened papers and the
    /// answer writer of this node (see [`services::delivery`]).
    pub delivery: services::delivery::Hub,
}

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: WebConfig, sender: Arc<dyn sender::Sender>) -> AppState {
        AppState(Arc::new(Inner {
            store,
            clock,
            config,
            sender,
            caches: auth::Caches::default(),
            job_wakeup: tokio::sync::Notify::new(),
            delivery: services::delivery::Hub::default(),
        }))
    }
    pub fn store(&self) -> &Store {
        &self.0.store
    }
    pub fn now(&self) -> OffsetDateTime {
        self.0.clock.now()
    }
    pub fn config(&self) -> &WebConfig {
        &self.0.config
    }
    pub fn blobs(&self) -> gongkao_storage::files::BlobStore {
        gongkao_storage::files::BlobStore::new(self.0.config.files_dir.clone())
    }

    pub fn caches(&self) -> &auth::Caches {
        &self.0.caches
    }
    pub fn sender(&self) -> &dyn sender::Sender {
        self.0.sender.as_ref()
    }

    pub fn job_wakeup(&self) -> &tokio::sync::Notify {
        &self.0.job_wakeup
    }

    /// Call after committing a transaction that queued a job: one idle worker of this process
    /// starts on it now (workers of other nodes find it at their next poll).
    pub fn job_queued(&self) {
        self.0.job_wakeup.notify_one();
    }
}
