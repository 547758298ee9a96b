//! The generated OpenAPI document: committed copy in sync, served with a docs page, and
//! every route in it refuses requests without credentials, except the public ones.

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem};

/// Routes the contract makes public.
const PUBLIC: [(&str, &str); 4] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/admin/v1/token"),
    ("get", "/feeds/{file}"),
];

#[test]
fn the_committed_openapi_document_is_up_to_date() {
    let generated = creneau::http::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test it openapi` and commit it"
    );
}

#[tokio::test]
async fn every_documented_route_requires_a_credential_except_the_public_ones() {
    let app = TestApp::spawn().await;
    let document: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let concrete = fill_parameters(path);
            let request = app
                .http
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            if PUBLIC.contains(&(method, path.as_str())) {
                assert_ne!(status, 401, "{method} {path} is public");
                assert_eq!(
                    operation["security"],
                    serde_json::json!([{}]),
                    "{method} {path}"
                );
            } else {
                assert!(
                    response.headers().contains_key("www-authenticate"),
                    "{method} {path}"
                );
                let body: Value = response.json().await.unwrap();
                assert_problem(status, &body, 401, "unauthorized");
                assert!(
                    operation["security"][0]
                        .as_object()
                        .is_some_and(|s| !s.is_empty()),
                    "{method} {path}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} operations found");
}

fn fill_parameters(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "0190a000-0000-7000-8000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_docs_page_works_without_internet() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/docs/swagger-ui-bundle.js") && page.contains("/openapi.json"));
    assert!(
        !page.contains("https://"),
        "the page must not load anything from the internet"
    );
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        let response = app.http.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.bytes().await.unwrap().len() > 10_000);
    }
}

#[tokio::test]
async fn probes_answer_without_credentials_and_echo_the_request_id() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/readyz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
}
