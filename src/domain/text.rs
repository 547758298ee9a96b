//! Bounded free-text newtypes: trimmed, non-empty, length-capped, no control characters.

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Unicode's white space (`char::is_whitespace`), which trimming takes off the ends, as a
/// regular-expression class body.
pub const SPACE: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (`char::is_control`), as a class body.
pub const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// Control characters but tabs and line breaks, as a class body.
const CONTROL_BUT_LINES: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

/// The pattern of what [`bounded`] accepts: once trimmed, 1 to `max` characters and no
/// control characters (but tabs and line breaks when `newlines`), so that the published
/// schema states the rule the server applies.
pub fn pattern(max: usize, newlines: bool) -> String {
    let inner = if newlines { CONTROL_BUT_LINES } else { CONTROL };
    format!(
        "^[{SPACE}]*[^{SPACE}{CONTROL}](?:[^{inner}]{{0,{}}}[^{SPACE}{CONTROL}])?[{SPACE}]*$",
        max - 2
    )
}

/// A pattern for a trimmed text of a given shape: `body` (a regular expression of the
/// trimmed text, without anchors) between optional white space.
pub fn shaped(body: &str) -> String {
    format!("^[{SPACE}]*{body}[{SPACE}]*$")
}

/// A string schema with a pattern and a description.
pub fn string_schema(pattern: String, description: &str) -> RefOr<Schema> {
    bounded_string_schema((pattern, None), description)
}

/// A string schema with a pattern, an optional bound on the length (of the text as sent,
/// which its trimmed form cannot exceed) and a description.
fn bounded_string_schema(
    (pattern, max_length): (String, Option<usize>),
    description: &str,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .max_length(max_length)
        .description(Some(description))
        .into()
}

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing left after trimming.
    #[error("must not be empty")]
    Empty,
    /// Longer than the cap (in characters).
    #[error("must be at most {0} characters")]
    TooLong(usize),
    /// Holds a control character.
    #[error("must not contain control characters")]
    Control,
    /// Not of the expected shape.
    #[error("{0}")]
    Shape(&'static str),
}

fn bounded(raw: &str, max: usize, allow_newlines: bool) -> Result<String, TextError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t')))
    {
        return Err(TextError::Control);
    }
    Ok(text.to_owned())
}

macro_rules! text_type {
    ($(#[doc = $doc:literal])* $name:ident, $max:expr, $newlines:expr, $check:expr) => {
        text_type!($(#[doc = $doc])* $name, $max, $newlines, $check, (pattern($max, $newlines), None));
    };
    ($(#[doc = $doc:literal])* $name:ident, $max:expr, $newlines:expr, $check:expr, $pattern:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                bounded_string_schema($pattern, concat!($($doc),*).trim())
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            /// Maximum length in characters.
            pub const MAX: usize = $max;

            /// Validates and normalises (trims) the text.
            pub fn parse(raw: &str) -> Result<Self, TextError> {
                let text = bounded(raw, $max, $newlines)?;
                let check: fn(&str) -> Result<(), TextError> = $check;
                check(&text)?;
                Ok(Self(text))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A person's or a firm's name (1–200 characters).
    Name, 200, false, |_| Ok(())
);
text_type!(
    /// A reference such as a claim number (1–64 characters, no spaces at the ends).
    Reference, 64, false, |_| Ok(())
);
text_type!(
    /// Free text such as a comment or a reason (1–2000 characters, newlines allowed).
    FreeText, 2000, true, |_| Ok(())
);
text_type!(
    /// An e-mail address (loosely checked: one `@`, no spaces, at most 254 characters).
    Email, 254, false, |s| {
        let (local, domain) = s.split_once('@').ok_or(TextError::Shape("must be an e-mail address"))?;
        if local.is_empty() || !domain.contains('.') || domain.contains('@') || s.contains(char::is_whitespace) {
            return Err(TextError::Shape("must be an e-mail address"));
        }
        Ok(())
    },
    {
        let part = format!("[^@{SPACE}{CONTROL}]");
        (shaped(&format!("{part}+@{part}*\\.{part}*")), Some(254))
    }
);
text_type!(
    /// A phone number: digits with optional `+`, spaces, dots, dashes and parentheses.
    Phone, 32, false, |s| {
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let allowed = s.chars().all(|c| c.is_ascii_digit() || " +.-()".contains(c));
        if !allowed || !(6..=20).contains(&digits) {
            return Err(TextError::Shape("must be a phone number"));
        }
        Ok(())
    },
    (shaped(r"[ +.()-]*(?:[0-9][ +.()-]*){6,20}"), Some(32))
);

text_type!(
    /// A file name as sent by Claims IA (1–255 characters, no path separators).
    FileName, 255, false, |s| {
        if s.contains(['/', '\\']) {
            return Err(TextError::Shape("must be a file name without path separators"));
        }
        Ok(())
    },
    (
        shaped(&format!(
            r"[^/\\{SPACE}{CONTROL}](?:[^/\\{CONTROL}]{{0,253}}[^/\\{SPACE}{CONTROL}])?"
        )),
        None
    )
);
text_type!(
    /// A firm's own identifier of an expert, e.g. `XT5678`: 1 to 40 of `A–Z a–z 0–9 . _ -`.
    ExternalRef, 40, false, |s| {
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) {
            return Err(TextError::Shape("must be 1 to 40 of A-Z, a-z, 0-9, '.', '_', '-'"));
        }
        Ok(())
    },
    (shaped("[A-Za-z0-9._-]{1,40}"), None)
);
text_type!(
    /// A media type such as `image/jpeg` (parameters are not kept).
    MediaType, 127, false, |s| {
        let token = |t: &str| {
            !t.is_empty()
                && t.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
        };
        match s.split_once('/') {
            Some((kind, sub)) if token(kind) && token(sub) => Ok(()),
            _ => Err(TextError::Shape("must be a media type such as image/jpeg")),
        }
    },
    {
        let token = r"[A-Za-z0-9!#$&^_.+-]+";
        (shaped(&format!("{token}/{token}")), Some(127))
    }
);
text_type!(
    /// An absolute URL with a host, at most 2048 characters.
    Link, 2048, false, |s| {
        match url::Url::parse(s) {
            Ok(url) if url.has_host() => Ok(()),
            _ => Err(TextError::Shape("must be an absolute URL")),
        }
    },
    // Stricter than the parser: a scheme, a host name, an optional port and path; that is
    // what documents' addresses look like.
    (shaped(&format!(
        r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z][A-Za-z0-9-]*)*(?::[1-9][0-9]{{0,3}})?(?:[/?#][^{SPACE}{CONTROL}]*)?"
    )), Some(2048))
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(Name::parse("  J. Martin ").unwrap().as_str(), "J. Martin");
    }

    #[test]
    fn a_blank_name_is_rejected() {
        assert_eq!(Name::parse("   "), Err(TextError::Empty));
    }

    #[test]
    fn a_name_longer_than_200_characters_is_rejected() {
        assert_eq!(Name::parse(&"é".repeat(201)), Err(TextError::TooLong(200)));
        assert!(Name::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn a_name_with_a_control_character_is_rejected() {
        assert_eq!(Name::parse("a\u{0}b"), Err(TextError::Control));
    }

    #[test]
    fn free_text_may_span_lines() {
        assert!(FreeText::parse("Digicode 1234\nporte gauche").is_ok());
    }

    #[test]
    fn an_email_without_at_sign_is_rejected() {
        assert!(Email::parse("dupont.example.fr").is_err());
        assert!(Email::parse("dupont@example.fr").is_ok());
    }

    #[test]
    fn a_phone_number_with_letters_is_rejected() {
        assert!(Phone::parse("+33 6 12 34 56 78").is_ok());
        assert!(Phone::parse("call me").is_err());
    }

    mod published_patterns {
        use super::super::*;
        use proptest::prelude::*;

        fn schema_pattern<T: utoipa::PartialSchema>() -> regex::Regex {
            let schema = serde_json::to_value(T::schema()).unwrap();
            regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap()
        }

        /// Texts mixing what the rules tell apart: letters, digits, separators, every kind
        /// of white space, control characters.
        fn texts() -> impl Strategy<Value = String> {
            let pieces = prop::sample::select(vec![
                "a", "Z", "é", "0", "7", "+", "-", ".", "(", "@", "/", "\\", "_", " ", "\t", "\n",
                "\r", "\u{0}", "\u{1c}", "\u{7f}", "\u{85}", "\u{a0}", "\u{2003}", "\u{3000}",
            ]);
            prop::collection::vec(pieces, 0..12).prop_map(|p| p.concat())
        }

        macro_rules! agrees {
            ($test:ident, $type:ty) => {
                proptest! {
                    #[test]
                    fn $test(text in texts()) {
                        static PATTERN: std::sync::LazyLock<regex::Regex> =
                            std::sync::LazyLock::new(schema_pattern::<$type>);
                        let pattern = &*PATTERN;
                        // The texts are shorter than every maxLength.
                        prop_assert_eq!(pattern.is_match(&text), <$type>::parse(&text).is_ok(), "{:?}", text);
                    }
                }
            };
        }

        agrees!(name, Name);
        agrees!(free_text, FreeText);
        agrees!(phone, Phone);
        agrees!(file_name, FileName);
        agrees!(external_ref, ExternalRef);
        agrees!(email, Email);

        #[test]
        fn long_texts_agree_at_the_bound() {
            let pattern = schema_pattern::<Name>();
            for text in [
                "é".repeat(200),
                "é".repeat(201),
                format!("  {}  ", "é".repeat(200)),
            ] {
                assert_eq!(pattern.is_match(&text), Name::parse(&text).is_ok());
            }
        }
    }
}
