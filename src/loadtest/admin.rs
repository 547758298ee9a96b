//! The firm's admin API, as the invariant check needs it: a token, and paged lists.

use anyhow::Context as _;
use serde_json::Value;

/// A firm signed in on one server.
pub(super) struct Admin<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    token: String,
}

impl<'a> Admin<'a> {
    /// Every item of a paged admin list.
    pub(super) async fn all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> anyhow::Result<Vec<T>> {
        let (mut items, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let mut request = self.http.get(format!("{}{path}", self.base));
            request = request.bearer_auth(&self.token).query(&[("limit", "500")]);
            if let Some(cursor) = &cursor {
                request = request.query(&[("cursor", cursor)]);
            }
            let page: Value = request.send().await?.error_for_status()?.json().await?;
            items.extend(serde_json::from_value::<Vec<T>>(page["items"].clone())?);
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }

    /// Exchanges the firm credentials on the first target that answers.
    pub(super) async fn sign_in(
        http: &'a reqwest::Client,
        targets: &'a [String],
        client_id: &str,
        secret: &str,
    ) -> anyhow::Result<Self> {
        let mut last = anyhow::anyhow!("no target");
        for base in targets {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
            ];
            let answer = http
                .post(format!("{base}/admin/v1/token"))
                .form(&form)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status);
            match answer {
                Ok(response) => {
                    let body: Value = response.json().await?;
                    let token = body["access_token"].as_str().context("no access_token")?;
                    return Ok(Self {
                        http,
                        base,
                        token: token.to_owned(),
                    });
                }
                Err(err) => last = err.into(),
            }
        }
        Err(last.context("cannot get a firm token"))
    }
}
