//! The audit log's canonical content and its SM3 hash chain.
//!
//! Storage keeps the entries; this module decides what exactly is hashed, so that every node and
//! every later verification hashes the same bytes.

use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

/// What one audit entry says. Every field is covered by the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditContent {
    pub seq: i64,
    pub at_ms: i64,
    /// Account username, or `system` or `anonymous`.
    pub actor: String,
    pub role: String,
    pub jurisdiction: String,
    pub action: String,
    pub target: String,
    pub summary: String,
    pub client_ip: String,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
}

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Bumping this tag is the only way to change the byte layout without silently breaking every
/// stored chain.
const CANONICAL_TAG: &[u8] = b"gongkao-audit-v1";

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl AuditContent {
    /// Unambiguous serialisation: each field length-prefixed, so moving text between fields
    /// changes the hash.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let strings =
            [&self.actor, &self.role, &self.jurisdiction, &self.action, &self.target, &self.summary, &self.client_ip, &self.outcome];
        let capacity = CANONICAL_TAG.len() + 8 + 2 * 16 + strings.iter().map(|s| s.len() + 8).sum::<usize>();
        let mut out = Vec::with_capacity(capacity);
        put_bytes(&mut out, CANONICAL_TAG);
        put_bytes(&mut out, &self.seq.to_be_bytes());
        put_bytes(&mut out, &self.at_ms.to_be_bytes());
        for s in strings {
            put_bytes(&mut out, s.as_bytes());
        }
        out
    }

    /// SM3(prev_hash_hex || canonical_bytes) as lower-case hex.
    pub fn chain_hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sm3::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(self.canonical_bytes());
        hex::encode(hasher.finalize())
    }
}

/// HMAC-SM3 of an entry's chain hash under a key kept outside the database. The chain alone
/// shows that nothing was changed *unless* the whole tail was recomputed; the seal shows that
/// whoever wrote the entry held the key.
pub fn seal(key: &[u8], hash: &str) -> String {
    use hmac::{KeyInit, Mac};
    match hmac::Hmac::<Sm3>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(hash.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length, so this arm is never taken.
        Err(_) => String::new(),
    }
}

/// The seal of the head row: binds the last sequence number to the last hash, so cutting off
/// the tail and rewinding the head needs the key too.
pub fn seal_head(key: &[u8], seq: i64, hash: &str) -> String {
    seal(key, &format!("{seq}:{hash}"))
}

/// The first place where a stored chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's content or stored hash was changed.
    Edited { seq: i64 },
    /// An entry is missing or entries were reordered.
    Missing { expected_seq: i64, found_seq: i64 },
    /// The stored `prev_hash` does not point at the previous entry.
    BrokenLink { seq: i64 },
}

impl ChainBreak {
    /// The sequence number at which the chain stopped verifying.
    pub fn seq(&self) -> i64 {
        match *self {
            ChainBreak::Edited { seq } | ChainBreak::BrokenLink { seq } => seq,
            ChainBreak::Missing { expected_seq, .. } => expected_seq,
        }
    }
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Edited { seq } => {
                write!(f, "第 {seq} 条审计记录内容被修改（哈希不符）")
            }
            ChainBreak::Missing { expected_seq, found_seq } => {
                write!(f, "第 {expected_seq} 条审计记录缺失或顺序被调换（期望 {expected_seq}，实际 {found_seq}）")
            }
            ChainBreak::BrokenLink { seq } => {
                write!(f, "第 {seq} 条审计记录的前序哈希与上一条不符")
            }
        }
    }
}

impl std::error::Error for ChainBreak {}

/// Incremental verifier for streaming large logs page by page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
    verified: usize,
}

impl ChainVerifier {
    /// Starts at the genesis: seq 1 whose `prev_hash` is [`GENESIS_HASH`].
    pub fn new() -> Self {
        Self::resume(1, GENESIS_HASH)
    }

    /// Continues from a trusted checkpoint: the next entry must be `next_seq` and point at
    /// `prev_hash`.
    pub fn resume(next_seq: i64, prev_hash: &str) -> Self {
        Self { next_seq, prev_hash: prev_hash.to_owned(), verified: 0 }
    }

    /// Checks one entry; after the first break the verifier should be discarded.
    pub fn check(&mut self, content: &AuditContent, prev_hash: &str, hash: &str) -> Result<(), ChainBreak> {
        if content.seq != self.next_seq {
            return Err(ChainBreak::Missing { expected_seq: self.next_seq, found_seq: content.seq });
        }
        if prev_hash != self.prev_hash {
            return Err(ChainBreak::BrokenLink { seq: content.seq });
        }
        if content.chain_hash(prev_hash) != hash {
            return Err(ChainBreak::Edited { seq: content.seq });
        }
        self.next_seq = self.next_seq.saturating_add(1);
        self.prev_hash = hash.to_owned();
        self.verified += 1;
        Ok(())
    }

    pub fn verified(&self) -> usize {
        self.verified
    }

    /// The seq the next entry must have.
    pub fn next_seq(&self) -> i64 {
        self.next_seq
    }

    /// Hash of the last verified entry (or the starting point).
    pub fn last_hash(&self) -> &str {
        &self.prev_hash
    }
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

/// entries: (content, stored prev_hash, stored hash) in ascending seq order, seq starting at 1
/// and contiguous. Returns the number verified, or the first break.
pub fn verify_chain(entries: &[(AuditContent, String, String)]) -> Result<usize, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for (content, prev_hash, hash) in entries {
        verifier.check(content, prev_hash, hash)?;
    }
    Ok(verifier.verified())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod seal_tests {
    use super::*;

    #[test]
    fn seal_depends_on_key_and_hash() {
        let a = seal(b"key-one", "abc");
        assert_eq!(a.len(), 64);
        assert_eq!(a, seal(b"key-one", "abc"));
        assert_ne!(a, seal(b"key-two", "abc"));
        assert_ne!(a, seal(b"key-one", "abd"));
        assert_ne!(seal_head(b"k", 1, "h"), seal_head(b"k", 2, "h"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn content(seq: i64) -> AuditContent {
        AuditContent {
            seq,
            at_ms: 1_586_707_200_000 + seq * 1000,
            actor: format!("user{seq}"),
            role: "agency_reviewer".to_owned(),
            jurisdiction: "410100".to_owned(),
            action: "application.approve".to_owned(),
            target: format!("application:{seq}"),
            summary: "通过资格审查".to_owned(),
            client_ip: "10.0.0.1".to_owned(),
            outcome: "ok".to_owned(),
        }
    }

    fn chain(contents: Vec<AuditContent>) -> Vec<(AuditContent, String, String)> {
        let mut prev = GENESIS_HASH.to_owned();
        contents
            .into_iter()
            .map(|c| {
                let hash = c.chain_hash(&prev);
                let entry = (c, prev.clone(), hash.clone());
                prev = hash;
                entry
            })
            .collect()
    }

    fn chain_of(n: i64) -> Vec<(AuditContent, String, String)> {
        chain((1..=n).map(content).collect())
    }

    #[test]
    fn genesis_is_64_zeros() {
        assert_eq!(GENESIS_HASH.len(), 64);
        assert!(GENESIS_HASH.chars().all(|c| c == '0'));
    }

    #[test]
    fn sm3_matches_the_standard_vector() {
        // GB/T 32905-2016 example 1: SM3("abc").
        assert_eq!(hex::encode(Sm3::digest(b"abc")), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn hash_is_lower_hex_and_depends_on_prev() {
        let c = content(1);
        let h = c.chain_hash(GENESIS_HASH);
        assert_eq!(h.len(), 64);
        assert!(h.chars().all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()));
        assert_ne!(h, c.chain_hash(&"1".repeat(64)));
        assert_eq!(h, c.clone().chain_hash(GENESIS_HASH), "deterministic");
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let mut a = content(1);
        a.action = "ab".to_owned();
        a.target = "c".to_owned();
        let mut b = a.clone();
        b.action = "a".to_owned();
        b.target = "bc".to_owned();
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        assert_ne!(a.chain_hash(GENESIS_HASH), b.chain_hash(GENESIS_HASH));
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&chain_of(5)), Ok(5));
        assert_eq!(verify_chain(&[]), Ok(0));
    }

    #[test]
    fn edited_entry_is_found() {
        let mut entries = chain_of(5);
        entries[2].0.summary = "驳回".to_owned();
        let err = verify_chain(&entries).unwrap_err();
        assert_eq!(err, ChainBreak::Edited { seq: 3 });
        assert_eq!(err.to_string(), "第 3 条审计记录内容被修改（哈希不符）");
    }

    #[test]
    fn removed_entry_is_found() {
        let mut entries = chain_of(5);
        entries.remove(1);
        let err = verify_chain(&entries).unwrap_err();
        assert_eq!(err, ChainBreak::Missing { expected_seq: 2, found_seq: 3 });
        assert_eq!(err.to_string(), "第 2 条审计记录缺失或顺序被调换（期望 2，实际 3）");
    }

    #[test]
    fn swapped_entries_are_found_at_the_first() {
        let mut entries = chain_of(5);
        entries.swap(1, 2);
        let err = verify_chain(&entries).unwrap_err();
        assert_eq!(err.seq(), 2);
        assert!(matches!(err, ChainBreak::Missing { expected_seq: 2, found_seq: 3 }));
    }

    #[test]
    fn renumbered_swap_breaks_the_link() {
        // Swapping two entries and renumbering them to hide the swap breaks the links instead.
        let mut entries = chain_of(5);
        entries.swap(1, 2);
        entries[1].0.seq = 2;
        entries[2].0.seq = 3;
        assert_eq!(verify_chain(&entries).unwrap_err(), ChainBreak::BrokenLink { seq: 2 });
    }

    #[test]
    fn rewritten_entry_breaks_the_next_link() {
        // An attacker who edits entry 3 and recomputes its hash still breaks entry 4's link.
        let mut entries = chain_of(5);
        entries[2].0.actor = "intruder".to_owned();
        entries[2].2 = entries[2].0.chain_hash(&entries[2].1);
        let err = verify_chain(&entries).unwrap_err();
        assert_eq!(err, ChainBreak::BrokenLink { seq: 4 });
        assert_eq!(err.to_string(), "第 4 条审计记录的前序哈希与上一条不符");
    }

    #[test]
    fn streaming_verifier_matches_batch_and_resumes() {
        let entries = chain_of(10);
        let mut v = ChainVerifier::default();
        for page in entries.chunks(3) {
            for (c, p, h) in page {
                v.check(c, p, h).unwrap();
            }
        }
        assert_eq!(v.verified(), 10);
        assert_eq!(v.next_seq(), 11);
        assert_eq!(v.last_hash(), entries[9].2);

        let mut resumed = ChainVerifier::resume(6, &entries[4].2);
        for (c, p, h) in &entries[5..] {
            resumed.check(c, p, h).unwrap();
        }
        assert_eq!(resumed.verified(), 5);
    }

    fn arb_content() -> impl Strategy<Value = (i64, String, String, String, String, String, String, String, String)> {
        (
            any::<i64>(),
            "[a-z]{0,8}",
            "[a-z_]{0,8}",
            "[0-9]{0,6}",
            "[a-z.]{0,12}",
            "\\PC{0,12}",
            "\\PC{0,20}",
            "[0-9.]{0,15}",
            prop::sample::select(vec!["ok".to_owned(), "denied".to_owned(), "failed".to_owned()]),
        )
    }

    proptest! {
        #[test]
        fn any_single_field_mutation_is_detected_at_that_seq(
            raw in prop::collection::vec(arb_content(), 1..8),
            pick in any::<prop::sample::Index>(),
            field in 0usize..12,
            junk in "[a-z]{1,4}",
        ) {
            let contents: Vec<AuditContent> = raw
                .into_iter()
                .enumerate()
                .map(|(i, (at_ms, actor, role, jurisdiction, action, target, summary, client_ip, outcome))| AuditContent {
                    seq: i as i64 + 1,
                    at_ms,
                    actor,
                    role,
                    jurisdiction,
                    action,
                    target,
                    summary,
                    client_ip,
                    outcome,
                })
                .collect();
            let mut entries = chain(contents);
            prop_assert_eq!(verify_chain(&entries), Ok(entries.len()));

            let k = pick.index(entries.len());
            let seq = entries[k].0.seq;
            let (c, prev, hash) = &mut entries[k];
            let append = |s: &mut String| s.push_str(&junk);
            match field {
                0 => c.seq = c.seq.wrapping_add(1 + junk.len() as i64),
                1 => c.at_ms = c.at_ms.wrapping_add(1),
                2 => append(&mut c.actor),
                3 => append(&mut c.role),
                4 => append(&mut c.jurisdiction),
                5 => append(&mut c.action),
                6 => append(&mut c.target),
                7 => append(&mut c.summary),
                8 => append(&mut c.client_ip),
                9 => append(&mut c.outcome),
                10 => *prev = "f".repeat(64),
                _ => *hash = "e".repeat(64),
            }
            let err = verify_chain(&entries).unwrap_err();
            prop_assert_eq!(err.seq(), seq);
            let expected_kind = match field {
                0 => matches!(err, ChainBreak::Missing { .. }),
                10 => matches!(err, ChainBreak::BrokenLink { .. }),
                _ => matches!(err, ChainBreak::Edited { .. }),
            };
            prop_assert!(expected_kind, "field {} gave {:?}", field, err);
        }
    }
}
