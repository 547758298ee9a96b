//! JSON values deserialized into domain types, with the failing value located by a JSON
//! Pointer.

use serde::de::DeserializeOwned;

use super::Invalid;

/// Deserializes a JSON value; the error locates the value that failed.
pub fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Invalid> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().clone();
        let message = strip_position(&err.into_inner().to_string());
        let pointer = pointer_of(&path, &message);
        Invalid::new(pointer, message)
    })
}

/// serde_json appends " at line L column C"; the pointer says where, so drop it.
pub fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// JSON Pointer of the failing value; for unknown or missing fields serde stops at the
/// parent object, so the field named in the message is appended.
pub fn pointer_of(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some(name) = rest.split('`').next() {
                if !pointer.ends_with(&format!("/{}", escape(name))) {
                    pointer.push('/');
                    pointer.push_str(&escape(name));
                }
            }
        }
    }
    pointer
}
