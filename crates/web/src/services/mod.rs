//! Use cases: each validates with the domain, changes state through the store, and writes its
//! audit entry in the same transaction. Handlers and the CLI call these, never the store directly
//! for writes.
pub mod accounts;
pub mod applications;
pub mod audit;
pub mod bulk;
pub mod campaigns;
pub mod delivery;
pub mod dossiers;
pub mod eligibility;
pub mod exam_sites;
pub mod exports;
pub mod fees;
pub mod files;
pub mod item_sheet;
pub mod items;
pub mod jobs;
pub mod jurisdiction;
pub mod papers;
pub mod practice;
pub mod recovery;
pub mod rosters;
pub mod security;
pub mod signup;
pub mod tickets;
pub mod tokens;
pub mod training;
pub mod unit_admin;
pub mod units;

use gongkao_storage::audit::AuditRecord;

/// A form field's value, trimmed; empty when the field is missing. Every use case reads its
/// form pairs through this, so a value with stray spaces means the same everywhere.
pub fn form_value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).unwrap_or("")
}

use crate::auth::RequestInfo;
use crate::policy::Principal;

/// Who acts, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub username: String,
    pub role: String,
    pub jurisdiction: String,
    pub client_ip: String,
}

impl Actor {
    pub fn of(p: &Principal, info: &RequestInfo) -> Actor {
        Actor {
            username: p.username.clone(),
            role: p.role.as_str().to_owned(),
            jurisdiction: p.agency_code.clone().or_else(|| p.unit_id.map(|u| format!("unit:{u}"))).unwrap_or_default(),
            client_ip: info.client_ip.clone(),
        }
    }

    /// The command line and the demo seeder act as the system itself.
    pub fn system(what: &str) -> Actor {
        Actor { username: what.to_owned(), role: "system".to_owned(), jurisdiction: String::new(), client_ip: "local".to_owned() }
    }

    pub fn anonymous(client_ip: &str) -> Actor {
        Actor { username: "anonymous".to_owned(), role: String::new(), jurisdiction: String::new(), client_ip: client_ip.to_owned() }
    }

    pub fn record(&self, action: &str, target: impl Into<String>, summary: impl Into<String>) -> AuditRecord {
        AuditRecord {
            actor: self.username.clone(),
            role: self.role.clone(),
            jurisdiction: self.jurisdiction.clone(),
            action: action.to_owned(),
            target: target.into(),
            summary: summary.into(),
            client_ip: self.client_ip.clone(),
            outcome: "ok".to_owned(),
        }
    }
}
