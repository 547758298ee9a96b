//! Telling UTF-8 text from binary in a body read in chunks.

/// Whether a body read in chunks is UTF-8 text: valid UTF-8 (a sequence may straddle two
/// chunks) with no control character other than tab, line feed and carriage return.
#[derive(Debug, Default)]
pub(super) struct TextCheck {
    binary: bool,
    carry: Vec<u8>,
}

impl TextCheck {
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        if self.binary {
            return;
        }
        let joined;
        let data = if self.carry.is_empty() {
            chunk
        } else {
            joined = [self.carry.as_slice(), chunk].concat();
            joined.as_slice()
        };
        let (valid, rest) = match std::str::from_utf8(data) {
            Ok(text) => (text, &[][..]),
            Err(err) if err.error_len().is_none() => {
                let (head, tail) = data.split_at(err.valid_up_to());
                (std::str::from_utf8(head).unwrap_or_default(), tail)
            }
            Err(_) => {
                self.binary = true;
                return;
            }
        };
        self.binary = valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
        self.carry = rest.to_vec();
    }

    pub(super) fn is_text(&self) -> bool {
        !self.binary && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::TextCheck;

    fn is_text(chunks: &[&[u8]]) -> bool {
        let mut check = TextCheck::default();
        for chunk in chunks {
            check.feed(chunk);
        }
        check.is_text()
    }

    #[test]
    fn utf8_split_across_chunks_is_text() {
        let text = "nom;ville\nÉlodie;Besançon\r\n".as_bytes();
        let cut = text.iter().position(|&b| b == 0xC3).unwrap() + 1;
        assert!(is_text(&[&text[..cut], &text[cut..]]));
    }

    #[test]
    fn invalid_utf8_nul_and_truncated_sequences_are_not_text() {
        assert!(!is_text(&[b"abc\xFFdef"]));
        assert!(!is_text(&[b"a\0b"]));
        assert!(!is_text(&[b"caf\xC3"]));
        assert!(!is_text(&[b"\x1b[31m"]));
    }
}
