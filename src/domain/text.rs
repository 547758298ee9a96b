//! Bounded free-text newtypes: trimmed, non-empty, length-capped, no control characters.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    ($(#[$doc:meta])* $name:ident, $max:expr, $newlines:expr, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String)]
        pub struct $name(String);

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
        if local.is_empty() || !domain.contains('.') || domain.contains('@') || s.contains(' ') {
            return Err(TextError::Shape("must be an e-mail address"));
        }
        Ok(())
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
    }
);

text_type!(
    /// A file name as sent by Claims IA (1–255 characters, no path separators).
    FileName, 255, false, |s| {
        if s.contains(['/', '\\']) {
            return Err(TextError::Shape("must be a file name without path separators"));
        }
        Ok(())
    }
);
text_type!(
    /// A firm's own identifier of an expert, e.g. `XT5678`: 1 to 40 of `A–Z a–z 0–9 . _ -`.
    ExternalRef, 40, false, |s| {
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) {
            return Err(TextError::Shape("must be 1 to 40 of A-Z, a-z, 0-9, '.', '_', '-'"));
        }
        Ok(())
    }
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
    }
);
text_type!(
    /// An absolute URL with a host, at most 2048 characters.
    Link, 2048, false, |s| {
        match url::Url::parse(s) {
            Ok(url) if url.has_host() => Ok(()),
            _ => Err(TextError::Shape("must be an absolute URL")),
        }
    }
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
}
