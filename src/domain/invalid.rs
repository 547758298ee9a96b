//! A validation failure located in the request body.

/// One invalid field: a JSON Pointer into the request and a human sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// JSON Pointer (RFC 6901) to the offending value, e.g. `/stake/total`.
    pub pointer: String,
    /// What is wrong, for a person.
    pub detail: String,
}

impl Invalid {
    /// Builds a failure at `pointer`.
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}
