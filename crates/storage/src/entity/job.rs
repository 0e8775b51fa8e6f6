//! Row shape of `job`: one unit of background work (后台任务), its lease, progress and outcome.
//! The result file lives in the content-addressed `BlobStore`; the row keeps its name, type and
//! SM3 hash.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What to run, e.g. `audit.export`; a node only claims kinds it has a handler for.
    pub kind: String,
    /// The handler's input as JSON text.
    pub payload: String,
    /// queued, running, succeeded, failed or cancelled.
    pub status: String,
    /// Runs started so far (a claim counts one, including a takeover after a lost lease).
    pub attempts: i32,
    pub max_attempts: i32,
    /// Not to be claimed before this instant (epoch ms): the retry backoff.
    pub run_after: i64,
    /// The node running it (kept after the end, for the record).
    pub locked_by: Option<String>,
    /// The lease: past this instant another node may take the running job over.
    pub locked_until: Option<i64>,
    pub progress_done: i64,
    pub progress_total: i64,
    /// The handler's last status line, in Chinese.
    pub message: Option<String>,
    pub result_name: Option<String>,
    pub result_content_type: Option<String>,
    pub result_hash: Option<String>,
    /// The last failure's reason, in Chinese.
    pub error: Option<String>,
    /// The username who queued it: the only one who may see, cancel or download it.
    pub owner: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub cancel_requested: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
