//! Request extractors whose failures are problem documents: JSON bodies located with JSON
//! Pointers, query strings, and cursor pagination.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, FieldProblem};
use crate::domain::json::{pointer_of, strip_position};
use crate::store::PageRequest;

/// Largest accepted JSON body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body deserialized straight into domain types; errors name the offending value.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// Whether a `Content-Type` names JSON (`application/json` or `application/*+json`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType(
                "expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedBody("the request body could not be read".into())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserializes JSON, turning data errors into 422 with a pointer and syntax errors into 400.
pub fn parse_json<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().clone();
        let inner = err.into_inner();
        if inner.classify() == serde_json::error::Category::Data {
            let message = strip_position(&inner.to_string());
            let pointer = pointer_of(&path, &message);
            ApiError::Validation(vec![FieldProblem {
                pointer,
                detail: message,
            }])
        } else {
            ApiError::MalformedBody(format!(
                "malformed JSON: {}",
                strip_position(&inner.to_string())
            ))
        }
    })?;
    de.end()
        .map_err(|_| ApiError::MalformedBody("malformed JSON: trailing characters".into()))?;
    Ok(value)
}

/// Deserializes a JSON value into domain types; the problem names the offending value.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    crate::domain::from_json(value).map_err(ApiError::from)
}

/// A query string; failures are 400 problems.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_from(query).map(ApiQuery)
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::InvalidQuery("the query string is malformed".into()))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::InvalidQuery(e.body_text()))
}

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 500;

/// `?limit=&cursor=` of every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Validates the parameters into a store page request.
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::InvalidQuery(format!(
                "limit must be 1 to {MAX_LIMIT}"
            )));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor)?),
        };
        Ok(PageRequest { after, limit })
    }
}

/// What a cursor looks like: unpadded base64url. Any such text is read as a position: one
/// the server did not issue reads from the start of the caller's own list, or from
/// wherever it falls in it.
pub const CURSOR_PATTERN: &str = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$";

/// Unpadded base64url that ignores the unused bits of a last partial character.
const CURSOR_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let bytes = CURSOR_ENGINE
        .decode(cursor)
        .map_err(|_| ApiError::InvalidQuery("cursor is not one this server issued".into()))?;
    // PostgreSQL refuses NUL in text.
    Ok(String::from_utf8_lossy(&bytes).replace('\0', "\u{FFFD}"))
}

/// Encodes a store position as an opaque cursor.
pub fn encode_cursor(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(after)
}

/// `{ items, nextCursor }` of every list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paged<T> {
    /// This page.
    pub items: Vec<T>,
    /// Cursor of the next page, `null` on the last one.
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// Converts a store page, mapping each item.
    pub fn from_page<U>(page: crate::store::Page<U>, map: impl FnMut(U) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(map).collect(),
            next_cursor: page.next_after.as_deref().map(encode_cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        total: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        stake: Inner,
        list: Option<Vec<Inner>>,
    }

    fn pointer(json: &str) -> String {
        match parse_json::<Outer>(json.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors[0].pointer.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_points_at_the_value() {
        assert_eq!(pointer(r#"{"stake":{"total":"x"}}"#), "/stake/total");
    }

    #[test]
    fn an_unknown_field_points_at_the_field() {
        assert_eq!(
            pointer(r#"{"stake":{"total":1,"extra":2}}"#),
            "/stake/extra"
        );
    }

    #[test]
    fn a_missing_field_points_at_the_field() {
        assert_eq!(pointer(r#"{"stake":{}}"#), "/stake/total");
    }

    #[test]
    fn an_array_element_is_pointed_by_index() {
        assert_eq!(
            pointer(r#"{"stake":{"total":1},"list":[{"total":1},{"total":-1}]}"#),
            "/list/1/total"
        );
    }

    #[test]
    fn broken_json_is_malformed_not_invalid() {
        assert!(matches!(
            parse_json::<Outer>(b"{\"stake\":"),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_json::<Outer>(br#"{"stake":{"total":1}} x"#),
            Err(ApiError::MalformedBody(_))
        ));
    }

    #[test]
    fn a_limit_above_500_is_refused() {
        let query = PageQuery {
            limit: Some(501),
            cursor: None,
        };
        assert!(query.to_request().is_err());
    }

    #[test]
    fn a_cursor_round_trips() {
        let query = PageQuery {
            limit: None,
            cursor: Some(encode_cursor("abc")),
        };
        assert_eq!(query.to_request().unwrap().after.as_deref(), Some("abc"));
    }
}
