//! The configuration file (TOML). Every key is listed here with its default; an unknown key is
//! an error that names it.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Folder for the SQLite file, uploads and keys. Default `./gongkao-data`.
    pub data_dir: Option<PathBuf>,
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: Option<String>,
    /// `sqlite://…` or `postgres://…`. Default: `gongkao.sqlite` in the data folder.
    pub database_url: Option<String>,
    /// Set the Secure flag on cookies (serve over HTTPS). Default false.
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` from a reverse proxy. Default false.
    pub trust_forwarded_for: bool,
    /// Absolute session lifetime, hours. Default 12.
    pub session_hours: i64,
    /// Idle timeout of applicants' sessions, minutes. Default 120 (staff: security policy, 30).
    pub applicant_idle_minutes: i64,
    /// Argon2id memory cost in KiB. Default 19456.
    pub argon2_memory_kib: u32,
    /// Argon2id passes. Default 2.
    pub argon2_iterations: u32,
    /// Lifetime of SMS verification codes, minutes. Default 10.
    pub verification_code_minutes: i64,
    /// File with the key that seals audit entries (created on first start if missing). Several
    /// nodes on one PostgreSQL must share it. Default `keys/audit-seal.key` in the data folder.
    pub audit_key_file: Option<PathBuf>,
    /// File with the 32-byte key (64 hex digits) that encrypts item-bank content (created on
    /// first start if missing). The environment variable `GONGKAO_ITEM_KEY` (64 hex digits)
    /// overrides it. Several nodes must share it; losing it loses the item bank, so back it
    /// up apart from the database. Default `keys/item-bank.key` in the data folder.
    pub item_key_file: Option<PathBuf>,
    /// `sm4-gcm` (default) or `aes-256-gcm`: the cipher for new item versions; stored versions
    /// open with whichever sealed them.
    pub item_cipher: String,
    /// Background job workers this process runs (`serve` and `demo`); 0 runs none, leaving
    /// the queue to other nodes. Default 2.
    pub job_workers: usize,
    /// Log filter (tracing syntax). Default `info`.
    pub log: String,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            data_dir: None,
            listen: None,
            database_url: None,
            secure_cookies: false,
            trust_forwarded_for: false,
            session_hours: 12,
            applicant_idle_minutes: 120,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            verification_code_minutes: 10,
            audit_key_file: None,
            item_key_file: None,
            item_cipher: "sm4-gcm".to_owned(),
            job_workers: 2,
            log: "info".to_owned(),
        }
    }
}

pub fn load(path: Option<&Path>) -> Result<FileConfig> {
    let Some(path) = path else { return Ok(FileConfig::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("无法读取配置文件 {}", path.display()))?;
    parse(&text).with_context(|| format!("配置文件 {} 有误", path.display()))
}

pub fn parse(text: &str) -> Result<FileConfig> {
    toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.message()))
}

impl FileConfig {
    pub fn web(&self) -> gongkao_web::WebConfig {
        gongkao_web::WebConfig {
            secure_cookies: self.secure_cookies,
            trust_forwarded_for: self.trust_forwarded_for,
            session_hours: self.session_hours,
            applicant_idle_minutes: self.applicant_idle_minutes,
            argon2: gongkao_web::passwords::Argon2Params {
                memory_kib: self.argon2_memory_kib,
                iterations: self.argon2_iterations,
                parallelism: 1,
            },
            verification_code_minutes: self.verification_code_minutes,
            files_dir: self.data_dir.clone().unwrap_or_else(|| PathBuf::from("./gongkao-data")).join("files"),
            // `setup` replaces it with the configured key; see `item_key`.
            item_cipher: gongkao_web::crypto::ContentCipher::ephemeral(),
        }
    }
}

/// Reads the audit key, creating it (32 random bytes, hex, owner-only) on first start.
pub fn audit_key(path: &Path) -> Result<Vec<u8>> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let key = text.trim().as_bytes().to_vec();
        if key.len() < 32 {
            anyhow::bail!("审计密钥文件 {} 内容过短（至少 32 个字符）", path.display());
        }
        return Ok(key);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("无法创建密钥目录 {}", dir.display()))?;
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &text).with_context(|| format!("无法写入审计密钥文件 {}", path.display()))?;
    Ok(text.into_bytes())
}

/// The item-bank key: from `GONGKAO_ITEM_KEY` if set, else the file, created (32 random
/// bytes, hex, owner-only) on first start.
pub fn item_key(path: &Path, from_env: Option<&str>) -> Result<[u8; 32]> {
    if let Some(text) = from_env {
        return gongkao_web::crypto::parse_key(text).context("环境变量 GONGKAO_ITEM_KEY 应为 64 位十六进制数字");
    }
    if let Ok(text) = std::fs::read_to_string(path) {
        return gongkao_web::crypto::parse_key(&text).with_context(|| format!("题库密钥文件 {} 应为 64 位十六进制数字", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("无法创建密钥目录 {}", dir.display()))?;
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
    let text: String = key.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &text).with_context(|| format!("无法写入题库密钥文件 {}", path.display()))?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let err = parse("listen = \"0.0.0.0:80\"\nlisten_port = 8080\n").unwrap_err();
        assert!(err.to_string().contains("listen_port"), "{err}");
    }

    #[test]
    fn defaults_apply() {
        let c = parse("secure_cookies = true\n").unwrap();
        assert!(c.secure_cookies);
        assert_eq!(c.session_hours, 12);
        assert_eq!(c.argon2_memory_kib, 19_456);
        assert_eq!(c.job_workers, 2);
        assert_eq!(parse("job_workers = 0\n").unwrap().job_workers, 0);
    }
}
