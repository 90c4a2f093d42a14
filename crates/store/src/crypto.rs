//! Encryption of Webservice keys at rest: AES-256-GCM under a master key.
//!
//! The master key comes from `PRESTALINK_MASTER_KEY` (32 bytes, hex or base64), an explicit
//! key file, or, for SQLite, a key file `<database file>.key` created with mode 0600 on first
//! use. Each encryption uses a fresh random 96-bit nonce; the connection id is bound as
//! associated data so a ciphertext copied to another connection row does not decrypt.

use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// Name of the environment variable that holds the master key.
pub const MASTER_KEY_ENV: &str = "PRESTALINK_MASTER_KEY";

const NONCE_LEN: usize = 12;

/// The encodings a master key may be given in, for messages.
pub const ACCEPTED_ENCODINGS: &str = "a master key is 32 random bytes written as 64 hex \
    digits (0-9, a-f) or as standard base64 (44 characters ending in '='), e.g. the output of \
    `openssl rand -hex 32`";

/// Where the master key comes from when opening a store.
#[derive(Debug, Clone, Default)]
pub enum MasterKeySource {
    /// `PRESTALINK_MASTER_KEY` if set, else (SQLite only) `<database file>.key`, created on
    /// first use. PostgreSQL without the variable has no master key.
    #[default]
    Default,
    /// These 32 bytes (tests, embedding applications).
    Bytes([u8; 32]),
    /// A key file (created with mode 0600 if missing).
    File(PathBuf),
    /// No master key: connection keys cannot be stored or read.
    None,
}

/// The 256-bit master key; never printed.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    fingerprint: String,
    /// The key file it was read from, if any (what `rotate-master-key` rewrites).
    file: Option<PathBuf>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.fingerprint)
    }
}

impl MasterKey {
    /// A master key from raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        MasterKey {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)),
            fingerprint: hex::encode(&digest[..8]),
            file: None,
        }
    }

    fn with_file(mut self, path: &Path) -> Self {
        self.file = Some(path.to_path_buf());
        self
    }

    /// The key file this key was read from (`None` for `PRESTALINK_MASTER_KEY` or bytes).
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Writes `key_text` (as read from another key file) to `path` in place of its content:
    /// a new file with mode 0600 renamed over the old one, so a crash leaves one or the other.
    pub fn replace_file(path: &Path, key_text: &str) -> Result<()> {
        let io_err = |e: std::io::Error| StoreError::MasterKeyInvalid {
            source_desc: format!("key file {}", path.display()),
            reason: e.to_string(),
        };
        let mut temp = path.as_os_str().to_owned();
        temp.push(".new");
        let temp = PathBuf::from(temp);
        let _ = std::fs::remove_file(&temp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp).map_err(io_err)?;
        writeln!(file, "{}", key_text.trim()).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        std::fs::rename(&temp, path).map_err(io_err)
    }

    /// Parses a key given as 64 hex digits or base64 of 32 bytes.
    pub fn parse(text: &str, source_desc: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = |reason: &str| StoreError::MasterKeyInvalid {
            source_desc: source_desc.to_string(),
            reason: reason.to_string(),
        };
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| invalid(ACCEPTED_ENCODINGS))?
        } else if text.len() == 64 {
            let bad = text.chars().find(|c| !c.is_ascii_hexdigit()).unwrap_or('?');
            return Err(invalid(&format!(
                "64 characters but {bad:?} is not a hex digit; {ACCEPTED_ENCODINGS}"
            )));
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| invalid(&format!("neither hex nor base64; {ACCEPTED_ENCODINGS}")))?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            invalid(&format!(
                "base64 of {} bytes, not 32; {ACCEPTED_ENCODINGS}",
                b.len()
            ))
        })?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Reads a key file, or creates one with a random key (mode 0600) if it does not exist.
    pub fn load_or_create_file(path: &Path) -> Result<Self> {
        let desc = format!("key file {}", path.display());
        let io_err = |e: std::io::Error| StoreError::MasterKeyInvalid {
            source_desc: desc.clone(),
            reason: e.to_string(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &desc),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Aes256Gcm::generate_key(OsRng);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                match options.open(path) {
                    Ok(mut file) => {
                        writeln!(file, "{}", hex::encode(key)).map_err(io_err)?;
                        file.sync_all().map_err(io_err)?;
                        Ok(Self::from_bytes(&key.into()))
                    }
                    // Another process created it between our read and our create: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(path).map_err(io_err)?;
                        Self::parse(&text, &desc)
                    }
                    Err(e) => Err(io_err(e)),
                }
            }
            Err(e) => Err(io_err(e)),
        }
    }

    /// Resolves a [`MasterKeySource`]; `sqlite_file` is the database file, if any. Without
    /// `create`, a key file that does not exist means no key (reading commands).
    pub(crate) fn resolve(
        source: &MasterKeySource,
        sqlite_file: Option<&Path>,
        create: bool,
    ) -> Result<Option<Self>> {
        let from_file = |path: &Path| -> Result<Option<Self>> {
            if !create && !path.exists() {
                return Ok(None);
            }
            Self::load_or_create_file(path).map(|key| Some(key.with_file(path)))
        };
        match source {
            MasterKeySource::Bytes(bytes) => Ok(Some(Self::from_bytes(bytes))),
            MasterKeySource::File(path) => from_file(path),
            MasterKeySource::None => Ok(None),
            MasterKeySource::Default => {
                if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
                    return Self::parse(&text, MASTER_KEY_ENV).map(Some);
                }
                match sqlite_file {
                    Some(file) => {
                        let mut name = file.as_os_str().to_owned();
                        name.push(".key");
                        from_file(Path::new(&name))
                    }
                    None => Ok(None),
                }
            }
        }
    }

    /// Short public identifier of this key (first 8 bytes of its SHA-256, hex).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Encrypts `plaintext` bound to `context` (the connection id): nonce ‖ ciphertext ‖ tag.
    pub fn encrypt(&self, plaintext: &str, context: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(&nonce, payload)
            .expect("AES-GCM encryption of a short message cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts what [`MasterKey::encrypt`] produced for the same `context`; `None` when the
    /// key, the context or the bytes do not match.
    pub fn decrypt(&self, sealed: &[u8], context: &str) -> Option<String> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

/// The part of a Webservice key that may be shown: its last four characters.
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let start = chars.len().saturating_sub(4);
    // Short keys reveal nothing.
    if chars.len() < 8 {
        return String::new();
    }
    chars[start..].iter().collect()
}

/// A masked key for display, e.g. `****************************WXYZ`.
pub fn masked_key(hint: &str) -> String {
    format!("{}{}", "*".repeat(28), hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_random_nonce() {
        let key = MasterKey::from_bytes(&[7u8; 32]);
        let a = key.encrypt("ABCDEFGHIJKLMNOPQRSTUVWXYZ123456", "conn-1");
        let b = key.encrypt("ABCDEFGHIJKLMNOPQRSTUVWXYZ123456", "conn-1");
        assert_ne!(a, b, "nonces must differ");
        assert_eq!(
            key.decrypt(&a, "conn-1").as_deref(),
            Some("ABCDEFGHIJKLMNOPQRSTUVWXYZ123456")
        );
        assert!(!a.windows(6).any(|w| w == b"ABCDEF"), "plaintext leaked");
    }

    #[test]
    fn wrong_context_or_key_or_tampering_fails() {
        let key = MasterKey::from_bytes(&[7u8; 32]);
        let other = MasterKey::from_bytes(&[8u8; 32]);
        let mut sealed = key.encrypt("secret-key-value", "conn-1");
        assert_eq!(key.decrypt(&sealed, "conn-2"), None);
        assert_eq!(other.decrypt(&sealed, "conn-1"), None);
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(key.decrypt(&sealed, "conn-1"), None);
        assert_ne!(key.fingerprint(), other.fingerprint());
    }

    #[test]
    fn parses_hex_and_base64_and_rejects_bad_lengths() {
        let hex_key = "11".repeat(32);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0x11u8; 32]);
        let a = MasterKey::parse(&hex_key, "test").unwrap();
        let b = MasterKey::parse(&b64, "test").unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let err = MasterKey::parse("abcd", "test").unwrap_err().to_string();
        assert!(err.contains("test"), "{err}");
        assert!(MasterKey::parse(&"11".repeat(31), "test").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite.key");
        let first = MasterKey::load_or_create_file(&path).unwrap();
        let second = MasterKey::load_or_create_file(&path).unwrap();
        assert_eq!(first.fingerprint(), second.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn hints_show_only_the_last_four_characters() {
        assert_eq!(key_hint("ABCDEFGHIJKLMNOPQRSTUVWXYZ123456"), "3456");
        assert_eq!(key_hint("short"), "");
        assert_eq!(masked_key("3456").len(), 32);
    }
}
