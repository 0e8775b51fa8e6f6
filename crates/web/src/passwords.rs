//! Argon2id password hashing. Hashing runs on a blocking thread so it never stalls the runtime.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

#[derive(Debug, Clone, Copy)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's recommended minimum for Argon2id (19 MiB, 2 passes, 1 lane).
    fn default() -> Self {
        Argon2Params { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

fn hasher(p: Argon2Params) -> Result<Argon2<'static>, String> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_blocking(password: &str, p: Argon2Params) -> Result<String, String> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
    Ok(hasher(p)?.hash_password(password.as_bytes(), &salt).map_err(|e| e.to_string())?.to_string())
}

/// Verifies with the parameters stored in the hash itself, so old hashes keep working after
/// the configured cost changes.
pub fn verify_blocking(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

pub async fn hash(password: String, p: Argon2Params) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, p)).await.map_err(|e| e.to_string())?
}

pub async fn verify(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || verify_blocking(&password, &stored)).await.unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so the response time does not
/// reveal which user names exist. Made once per process with the configured cost.
pub fn dummy_hash(p: Argon2Params) -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("dummy-password-never-valid", p).unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let p = Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 };
        let h = hash_blocking("Correct-horse-9", p).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking("Correct-horse-9", &h));
        assert!(!verify_blocking("correct-horse-9", &h));
        assert!(!verify_blocking("x", "not a hash"));
    }
}
