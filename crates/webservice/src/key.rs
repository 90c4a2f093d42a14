//! The Webservice key as a type: parsed once at the edge, never printed in full afterwards.

use std::fmt;

use crate::error::Error;

/// Length of every PrestaShop Webservice key.
pub const KEY_LENGTH: usize = 32;

/// A PrestaShop Webservice key: exactly 32 characters of `A`–`Z` and `0`–`9`, as the back office
/// (Advanced Parameters > Webservice) generates it. `Debug` and `Display` show it masked.
#[derive(Clone, PartialEq, Eq)]
pub struct WebserviceKey(String);

/// Which rule a pasted key breaks, so the merchant knows what to correct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// Nothing (or only spaces) was given.
    Empty,
    /// The key has the wrong number of characters.
    WrongLength {
        /// How many characters were given (after trimming surrounding spaces).
        found: usize,
    },
    /// A character outside `A`–`Z`, `0`–`9` (1-based position).
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its 1-based position in the key.
        position: usize,
    },
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProblem::Empty => write!(f, "the key is empty"),
            KeyProblem::WrongLength { found } => write!(
                f,
                "the key has {found} characters; a PrestaShop Webservice key has exactly {KEY_LENGTH}"
            ),
            KeyProblem::InvalidCharacter { character, position } => {
                let shown = if character.is_control() || character.is_whitespace() {
                    format!("{:?}", character)
                } else {
                    format!("'{character}'")
                };
                write!(
                    f,
                    "character {position} of the key is {shown}; a key contains only letters \
                     A-Z and digits 0-9"
                )
            }
        }
    }
}

impl WebserviceKey {
    /// Parses a key as pasted by a merchant: surrounding spaces and a pasted `ws_key=`,
    /// `?ws_key=` or `&ws_key=` prefix are ignored, and lower case is upper-cased (PrestaShop
    /// compares keys without regard to case: 8.1.2 answers 200 to a lower-cased key); what
    /// remains must be exactly 32 characters of `A`–`Z`, `0`–`9`.
    pub fn parse(input: &str) -> Result<WebserviceKey, Error> {
        let trimmed = input.trim();
        let key = ["?ws_key=", "&ws_key=", "ws_key="]
            .iter()
            .find_map(|prefix| {
                let head = trimmed.get(..prefix.len())?;
                head.eq_ignore_ascii_case(prefix)
                    .then(|| &trimmed[prefix.len()..])
            })
            .unwrap_or(trimmed)
            .trim()
            .to_ascii_uppercase();
        let key = key.as_str();
        let problem = if key.is_empty() {
            Some(KeyProblem::Empty)
        } else if let Some((index, character)) = key
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
        {
            // Report a wrong character first: a lowercased or mangled key is the likelier
            // cause than a truncated one when both apply.
            Some(KeyProblem::InvalidCharacter {
                character,
                position: index + 1,
            })
        } else if key.len() != KEY_LENGTH {
            Some(KeyProblem::WrongLength { found: key.len() })
        } else {
            None
        };
        match problem {
            Some(problem) => Err(Error::InvalidKeyFormat { problem }),
            None => Ok(WebserviceKey(key.to_owned())),
        }
    }

    /// The key itself, for the Authorization header or the `ws_key` parameter only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key with all but its first four characters hidden, for messages and logs.
    pub fn masked(&self) -> String {
        format!("{}…", &self.0[..4])
    }
}

impl fmt::Debug for WebserviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebserviceKey({})", self.masked())
    }
}

impl fmt::Display for WebserviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

    fn problem(input: &str) -> KeyProblem {
        match WebserviceKey::parse(input) {
            Err(Error::InvalidKeyFormat { problem }) => problem,
            other => panic!("expected a key problem for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_generated_key_and_trims_spaces() {
        let key = WebserviceKey::parse(&format!("  {GOOD}\n")).unwrap();
        assert_eq!(key.expose(), GOOD);
        assert_eq!(format!("{key:?}"), "WebserviceKey(ABCD…)");
        assert!(!format!("{key}").contains("EFGH"));
    }

    #[test]
    fn says_which_rule_is_broken() {
        assert_eq!(problem("   "), KeyProblem::Empty);
        assert_eq!(problem("ABC"), KeyProblem::WrongLength { found: 3 });
        assert_eq!(
            problem("ABCD EFGH"),
            KeyProblem::InvalidCharacter {
                character: ' ',
                position: 5
            }
        );
        assert!(!problem("ab-c").to_string().contains("upper case"));
        assert!(problem("ABC").to_string().contains("exactly 32"));
    }

    #[test]
    fn lower_case_and_pasted_ws_key_prefixes_are_accepted() {
        for pasted in [
            GOOD.to_lowercase(),
            format!("ws_key={GOOD}"),
            format!("?ws_key={}", GOOD.to_lowercase()),
            format!(" &WS_KEY={GOOD} "),
        ] {
            assert_eq!(
                WebserviceKey::parse(&pasted).unwrap().expose(),
                GOOD,
                "{pasted}"
            );
        }
        // The prefix is stripped, not blamed on case: what is left is judged.
        assert_eq!(problem("ws_key=ABC"), KeyProblem::WrongLength { found: 3 });
    }

    proptest! {
        #[test]
        fn never_panics_and_accepts_only_valid_keys(input in ".{0,80}") {
            match WebserviceKey::parse(&input) {
                Ok(key) => {
                    prop_assert_eq!(key.expose().len(), KEY_LENGTH);
                    prop_assert!(key.expose().chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
                }
                Err(Error::InvalidKeyFormat { problem }) => prop_assert!(!problem.to_string().is_empty()),
                Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            }
        }

        #[test]
        fn every_valid_key_parses(key in "[A-Z0-9]{32}") {
            let parsed = WebserviceKey::parse(&key).unwrap();
            prop_assert_eq!(parsed.expose(), key.as_str());
        }
    }
}
