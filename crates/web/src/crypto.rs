//! Encryption at rest of item content (题库保密): an AEAD over each version's JSON, SM4-GCM by
//! default (GB/T 32907 in GCM mode, as the national rules for government systems expect) or
//! AES-256-GCM. The 32-byte key lives outside the database (a file in the data folder or an
//! environment variable, see the binary's configuration); the database holds only the cipher's
//! name, a key fingerprint, the nonce and the ciphertext. The associated data binds a
//! ciphertext to its item and version, so a ciphertext copied onto another row does not open.
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use rand::RngCore;
use sm3::{Digest, Sm3};

type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// Which AEAD seals new versions. Old versions open with whatever sealed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherKind {
    Sm4Gcm,
    Aes256Gcm,
}

impl CipherKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CipherKind::Sm4Gcm => "sm4-gcm",
            CipherKind::Aes256Gcm => "aes-256-gcm",
        }
    }

    pub fn parse(s: &str) -> Option<CipherKind> {
        match s.trim() {
            "sm4-gcm" => Some(CipherKind::Sm4Gcm),
            "aes-256-gcm" => Some(CipherKind::Aes256Gcm),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("题库内容由另一把密钥加密（密钥指纹 {0}），当前密钥无法解密；请检查题库密钥配置")]
    WrongKey(String),
    #[error("未知的加密算法 {0}")]
    UnknownCipher(String),
    #[error("题库内容校验失败：密文已被改动或不属于这道试题")]
    Tampered,
}

/// One sealed content.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub cipher: &'static str,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// The key and the cipher for new content. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct ContentCipher {
    kind: CipherKind,
    key: [u8; KEY_BYTES],
    key_id: String,
}

impl std::fmt::Debug for ContentCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentCipher").field("kind", &self.kind).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl ContentCipher {
    pub fn new(kind: CipherKind, key: [u8; KEY_BYTES]) -> ContentCipher {
        let mut h = Sm3::new();
        h.update(b"gongkao item-bank key id\0");
        h.update(key);
        let key_id = hex::encode(&h.finalize()[..8]);
        ContentCipher { kind, key, key_id }
    }

    /// A random key that lives as long as the process: for tests and embedding only. The
    /// binary always loads its key from the configuration.
    pub fn ephemeral() -> ContentCipher {
        let mut key = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        ContentCipher::new(CipherKind::Sm4Gcm, key)
    }

    pub fn kind(&self) -> CipherKind {
        self.kind
    }

    /// A fingerprint of the key (8 bytes of SM3), safe to store and show.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// A 32-byte key for another purpose (e.g. signing ticket QR codes), so one secret outside
    /// the database serves several uses without one use revealing another's key.
    pub fn derive(&self, label: &[u8]) -> [u8; KEY_BYTES] {
        let mut h = Sm3::new();
        h.update(b"gongkao derived key\0");
        h.update(label);
        h.update(self.key);
        h.finalize().into()
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Sealed {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload { msg: plaintext, aad };
        let ciphertext = match self.kind {
            CipherKind::Sm4Gcm => sm4_gcm(&self.key).encrypt(&nonce.into(), payload),
            CipherKind::Aes256Gcm => aes_gcm(&self.key).encrypt(&nonce.into(), payload),
        }
        // Encryption with a valid key and a 12-byte nonce cannot fail for inputs this size.
        .unwrap_or_default();
        Sealed { cipher: self.kind.as_str(), key_id: self.key_id.clone(), nonce: nonce.to_vec(), ciphertext }
    }

    pub fn open(&self, cipher: &str, key_id: &str, nonce: &[u8], ciphertext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if key_id != self.key_id {
            return Err(CryptoError::WrongKey(key_id.to_owned()));
        }
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CryptoError::Tampered)?;
        let payload = Payload { msg: ciphertext, aad };
        let opened = match CipherKind::parse(cipher) {
            Some(CipherKind::Sm4Gcm) => sm4_gcm(&self.key).decrypt(&nonce.into(), payload),
            Some(CipherKind::Aes256Gcm) => aes_gcm(&self.key).decrypt(&nonce.into(), payload),
            None => return Err(CryptoError::UnknownCipher(cipher.to_owned())),
        };
        opened.map_err(|_| CryptoError::Tampered)
    }
}

/// SM4 takes a 128-bit key: the first half of the 32-byte key.
fn sm4_gcm(key: &[u8; KEY_BYTES]) -> Sm4Gcm {
    let mut k = [0u8; 16];
    k.copy_from_slice(&key[..16]);
    Sm4Gcm::new(&k.into())
}

fn aes_gcm(key: &[u8; KEY_BYTES]) -> Aes256Gcm {
    Aes256Gcm::new(&(*key).into())
}

/// Parses a key written as 64 hex digits.
pub fn parse_key(text: &str) -> Option<[u8; KEY_BYTES]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn both_ciphers_round_trip_and_bind_their_row() {
        for kind in [CipherKind::Sm4Gcm, CipherKind::Aes256Gcm] {
            let c = ContentCipher::new(kind, [7u8; KEY_BYTES]);
            let s = c.seal("题干：答案是B".as_bytes(), b"item:1:v1");
            assert_ne!(s.ciphertext, "题干：答案是B".as_bytes());
            assert_eq!(c.open(s.cipher, &s.key_id, &s.nonce, &s.ciphertext, b"item:1:v1").unwrap(), "题干：答案是B".as_bytes());
            assert_eq!(c.open(s.cipher, &s.key_id, &s.nonce, &s.ciphertext, b"item:2:v1"), Err(CryptoError::Tampered));
            let mut bent = s.ciphertext.clone();
            bent[0] ^= 1;
            assert_eq!(c.open(s.cipher, &s.key_id, &s.nonce, &bent, b"item:1:v1"), Err(CryptoError::Tampered));
            let other = ContentCipher::new(kind, [8u8; KEY_BYTES]);
            assert!(matches!(other.open(s.cipher, &s.key_id, &s.nonce, &s.ciphertext, b"item:1:v1"), Err(CryptoError::WrongKey(_))));
        }
    }

    #[test]
    fn sm4_gcm_matches_a_reference_vector() {
        // GB/T 32907 SM4 with GCM (RFC 8998 appendix A.1 test vector).
        let key: [u8; 16] = hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap().try_into().unwrap();
        let nonce: [u8; 12] = hex::decode("00001234567800000000ABCD").unwrap().try_into().unwrap();
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let pt = hex::decode(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        )
        .unwrap();
        let ct = Sm4Gcm::new(&key.into()).encrypt(&nonce.into(), Payload { msg: &pt, aad: &aad }).unwrap();
        assert_eq!(
            hex::encode_upper(&ct),
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D83DE3541E4C2B58177E065A9BF7B62EC"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let c = ContentCipher::new(CipherKind::Sm4Gcm, [0xAB; KEY_BYTES]);
        assert!(!format!("{c:?}").contains("171"), "{c:?}");
        assert!(!format!("{c:?}").to_lowercase().contains("abab"));
        assert_eq!(parse_key(&"ab".repeat(32)), Some([0xAB; KEY_BYTES]));
        assert_eq!(parse_key("abc"), None);
    }
}
