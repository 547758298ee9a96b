//! What every operation shares, stated once in the OpenAPI document rather than on each
//! handler: problems are `application/problem+json`, and the answers the middleware and the
//! extractors give to any request (a malformed one, an oversized or mistyped body, missing
//! credentials, a client over its rate limit) are documented on every operation they can
//! come from. Views that extend a profile are written out as one object, since `allOf`
//! with a closed profile (`additionalProperties: false`) would match no response.

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

use super::error::PROBLEM_JSON;
use super::extract::{CURSOR_PATTERN, MAX_LIMIT};

/// The generated document with the shared answers added.
pub fn finish(document: &OpenApi) -> OpenApi {
    let mut value = serde_json::to_value(document).expect("the OpenAPI document serializes");
    add_shared_responses(&mut value);
    constrain_shared_parameters(&mut value);
    close_forms(&mut value);
    let schemas = value
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    merge_all_of(&mut value, &schemas);
    serde_json::from_value(value).expect("the finished OpenAPI document deserializes")
}

/// A shared answer: its description, and when it applies to an operation.
struct Shared {
    status: &'static str,
    description: &'static str,
    applies: fn(&Value) -> bool,
}

const SHARED: &[Shared] = &[
    Shared {
        status: "400",
        description: "bad-request, invalid-query: the request is malformed (an unreadable \
            body, a query parameter or header out of its stated bounds)",
        applies: |op| has_body(op) || has_parameters(op),
    },
    Shared {
        status: "401",
        description: "unauthorized: the credential is missing, unknown, expired or revoked",
        applies: is_authenticated,
    },
    Shared {
        status: "413",
        description: "payload-too-large: the body is over the route's size limit",
        applies: has_body,
    },
    Shared {
        status: "415",
        description: "unsupported-media-type: the body is not of a documented content type",
        applies: has_body,
    },
    Shared {
        status: "422",
        description: "validation-failed: the body does not hold valid values (`errors` \
            lists each with its JSON Pointer)",
        applies: has_body,
    },
    Shared {
        status: "429",
        description: "rate-limited: the client is over its rate limit; retry after \
            `Retry-After` seconds",
        applies: is_authenticated,
    },
];

/// The bounds the shared extractors enforce on parameters every list or retry carries.
fn constrain_shared_parameters(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for op in operations {
        let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for parameter in parameters {
            let place = parameter.get("in").and_then(Value::as_str).unwrap_or("");
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
            let bounds = match (place, name) {
                ("query", "limit") => json!({ "minimum": 1, "maximum": MAX_LIMIT }),
                ("query", "cursor") => json!({ "pattern": CURSOR_PATTERN }),
                ("query", "after") => json!({ "pattern": "^[0-9]{0,18}$" }),
                ("header", "Idempotency-Key") => json!({ "pattern": "^[!-~]{1,255}$" }),
                _ => continue,
            };
            if let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut) {
                schema.extend(bounds.as_object().cloned().unwrap_or_default());
            }
        }
    }
}

/// Multipart forms take only the parts they name (the server refuses others).
fn close_forms(document: &mut Value) {
    let mut forms = Vec::new();
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for op in paths
            .values()
            .filter_map(Value::as_object)
            .flat_map(|i| i.values())
        {
            let form = op.pointer("/requestBody/content/multipart~1form-data/schema/$ref");
            if let Some(name) = form
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                forms.push(name.to_owned());
            }
        }
    }
    for name in forms {
        if let Some(schema) = document
            .pointer_mut(&format!("/components/schemas/{name}"))
            .and_then(Value::as_object_mut)
        {
            schema.insert("additionalProperties".into(), false.into());
        }
    }
}

fn has_body(op: &Value) -> bool {
    op.get("requestBody").is_some()
}

fn has_parameters(op: &Value) -> bool {
    op.get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty())
}

/// Whether an operation requires a credential (an empty requirement `{}` means none).
fn is_authenticated(op: &Value) -> bool {
    op.get("security")
        .and_then(Value::as_array)
        .is_some_and(|requirements| {
            requirements
                .iter()
                .all(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        })
}

fn problem_content() -> Value {
    json!({ PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } })
}

fn add_shared_responses(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let snapshot = op.clone();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                if status.starts_with('4') || status.starts_with('5') {
                    as_problem(response);
                }
            }
            for shared in SHARED {
                if (shared.applies)(&snapshot) && !responses.contains_key(shared.status) {
                    responses.insert(
                        shared.status.to_owned(),
                        json!({ "description": shared.description, "content": problem_content() }),
                    );
                }
            }
        }
    }
}

/// An error response's body is a problem document, whatever content type the handler named.
fn as_problem(response: &mut Value) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(body) = content.remove("application/json") {
        content.insert(PROBLEM_JSON.to_owned(), body);
    }
}

/// Replaces every `allOf` whose members are all objects (inline or by reference) with the
/// one object they describe together.
fn merge_all_of(value: &mut Value, schemas: &Value) {
    match value {
        Value::Object(object) => {
            if let Some(merged) = object
                .get("allOf")
                .and_then(Value::as_array)
                .and_then(|members| merged_object(members, schemas))
            {
                object.remove("allOf");
                for (key, field) in merged {
                    object.entry(key).or_insert(field);
                }
            }
            for field in object.values_mut() {
                merge_all_of(field, schemas);
            }
        }
        Value::Array(items) => {
            for item in items {
                merge_all_of(item, schemas);
            }
        }
        _ => {}
    }
}

fn merged_object(members: &[Value], schemas: &Value) -> Option<Map<String, Value>> {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut closed = true;
    for member in members {
        let schema = match member.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference.strip_prefix("#/components/schemas/")?;
                schemas.get(name)?
            }
            None => member,
        };
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return None;
        }
        properties.extend(schema.get("properties")?.as_object()?.clone());
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
        closed &= schema.get("additionalProperties") == Some(&Value::Bool(false));
    }
    let mut merged = Map::new();
    merged.insert("type".into(), "object".into());
    merged.insert("required".into(), Value::Array(required));
    merged.insert("properties".into(), Value::Object(properties));
    if closed {
        merged.insert("additionalProperties".into(), false.into());
    }
    Some(merged)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(crate::http::openapi()).unwrap()
    }

    fn operations(document: &Value) -> impl Iterator<Item = (String, &Value)> {
        document["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .iter()
                    .map(move |(method, op)| (format!("{method} {path}"), op))
            })
    }

    #[test]
    fn every_error_is_documented_as_a_problem() {
        let document = document();
        for (name, op) in operations(&document) {
            for (status, response) in op["responses"].as_object().unwrap() {
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    continue;
                };
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        content.keys().all(|k| k == "application/problem+json"),
                        "{name} {status}: {:?}",
                        content.keys().collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    #[test]
    fn authenticated_operations_document_401_and_429_and_bodies_413_415() {
        let document = document();
        for (name, op) in operations(&document) {
            let responses = op["responses"].as_object().unwrap();
            if super::is_authenticated(op) {
                assert!(responses.contains_key("401"), "{name}");
                assert!(responses.contains_key("429"), "{name}");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{name} {status}");
                }
            }
        }
    }

    #[test]
    fn no_view_is_an_all_of_no_response_could_match() {
        fn walk(value: &Value, schemas: &Value, at: &str) {
            match value {
                Value::Object(object) => {
                    if let Some(members) = object.get("allOf").and_then(Value::as_array) {
                        for member in members {
                            let target = member
                                .get("$ref")
                                .and_then(Value::as_str)
                                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                                .map_or(member, |name| &schemas[name]);
                            assert_ne!(
                                target.get("additionalProperties"),
                                Some(&Value::Bool(false)),
                                "{at}: allOf with a closed member"
                            );
                        }
                    }
                    for (key, field) in object {
                        walk(field, schemas, &format!("{at}/{key}"));
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| walk(i, schemas, at)),
                _ => {}
            }
        }
        let document = document();
        walk(&document, &document["components"]["schemas"], "");
    }

    #[test]
    fn list_and_retry_parameters_state_their_bounds() {
        let document = document();
        let mut limits = 0;
        for (name, op) in operations(&document) {
            for parameter in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let schema = &parameter["schema"];
                match parameter["name"].as_str().unwrap() {
                    "limit" => {
                        limits += 1;
                        assert_eq!(schema["minimum"], 1, "{name}");
                        assert_eq!(schema["maximum"], 500, "{name}");
                    }
                    "cursor" | "after" | "Idempotency-Key" => {
                        assert!(schema["pattern"].is_string(), "{name}");
                    }
                    _ => {}
                }
            }
        }
        assert!(limits > 5);
    }
}
