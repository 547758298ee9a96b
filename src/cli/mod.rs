//! Operator commands. Each prints human text, or one JSON object with `--json`.

mod demo;
pub mod seed;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use serde_json::json;
use tokio::net::TcpListener;

use crate::auth::{new_api_key, new_firm_secret, sha256};
use crate::config::{
    Cli, ClientCommand, Command, CredentialsAction, FirmCommand, LoadtestArgs, ServeArgs,
};
use crate::domain::firm::FirmProfile;
use crate::http::AppState;
use crate::store::{self, ApiClient, FirmCredential, Store, StoreError};

/// Runs the command named on the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // A load test only talks HTTP: it must not open (or migrate) a database.
    let command = match cli.command {
        Command::Loadtest(args) => return loadtest(&args, cli.json).await,
        command => command,
    };
    let options = store::StoreOptions {
        booking_batch: usize::from(cli.booking_batch),
        booking_groups: usize::from(cli.booking_groups),
        clock: crate::clock::Clock::system(),
    };
    let store = store::open_with(&cli.database_url, &options)
        .await
        .context("cannot open the database")?;
    match command {
        Command::Serve(args) => serve(store, bind(args.listen).await?, args).await,
        Command::Migrate => {
            say("database migrated");
            Ok(())
        }
        Command::Demo(args) => {
            if args.no_serve {
                say(&demo::load(store.as_ref(), args.serve.listen).await?);
                return Ok(());
            }
            // Bind first so the printed commands name the real address (even for port 0).
            let listener = bind(args.serve.listen).await?;
            say(&demo::load(store.as_ref(), listener.local_addr()?).await?);
            serve(store, listener, args.serve).await
        }
        Command::Firm(command) => firm(store.as_ref(), command, cli.json).await,
        Command::Seed(args) => {
            let seeded = seed::seed(store.as_ref(), args.experts, args.seed).await?;
            print(
                cli.json,
                &serde_json::to_value(&seeded)?,
                &seeded.text(args.experts),
            );
            Ok(())
        }
        Command::Loadtest(_) => unreachable!("handled before the database is opened"),
        Command::Client(command) => client(store.as_ref(), command, cli.json).await,
    }
}

/// `creneau firm …`.
async fn firm(store: &dyn Store, command: FirmCommand, as_json: bool) -> anyhow::Result<()> {
    match command {
        FirmCommand::Create {
            name,
            siret,
            time_zone,
        } => {
            let profile = FirmProfile::from_stored(name, &siret, &time_zone)
                .map_err(|e| anyhow::anyhow!("invalid firm: {e}"))?;
            let firm = store.create_firm(&profile).await?;
            print(
                as_json,
                &json!({ "firmId": firm.id }),
                &format!("firm created: {}", firm.id),
            );
            Ok(())
        }
        FirmCommand::Credentials {
            action: Some(CredentialsAction::Revoke { client_id }),
            ..
        } => {
            revoke_credential(store, &client_id).await?;
            say(&format!("credential revoked: {client_id}"));
            Ok(())
        }
        FirmCommand::Remove { firm_id } => {
            let (revoked, deactivated) = remove_firm(store, &firm_id).await?;
            print(
                as_json,
                &json!({ "firmId": firm_id, "credentialsRevoked": revoked, "expertsDeactivated": deactivated }),
                &format!(
                    "firm removed: {firm_id} ({revoked} credentials revoked, {deactivated} experts deactivated)"
                ),
            );
            Ok(())
        }
        FirmCommand::Credentials { firm_id, .. } => {
            let firm_id = firm_id.context("name the firm: creneau firm credentials FIRM_ID")?;
            let (client_id, secret) = firm_credentials(store, &firm_id).await?;
            print(
                as_json,
                &json!({ "clientId": client_id, "clientSecret": secret }),
                &format!(
                    "client id:     {client_id}\nclient secret: {secret}\n(the secret is shown once)"
                ),
            );
            Ok(())
        }
    }
}

/// `creneau client …`.
async fn client(store: &dyn Store, command: ClientCommand, as_json: bool) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create { name } => {
            let (client_id, key) = api_client(store, &name).await?;
            print(
                as_json,
                &json!({ "clientId": client_id, "apiKey": key }),
                &format!("client id: {client_id}\nAPI key:   {key}\n(the key is shown once)"),
            );
            Ok(())
        }
        ClientCommand::Webhook {
            client_id,
            url,
            secret,
            remove,
        } => webhook(store, as_json, &client_id, url, secret, remove).await,
    }
}

/// `creneau client webhook`: sets or removes a client's webhook endpoint.
async fn webhook(
    store: &dyn Store,
    as_json: bool,
    client_id: &str,
    url: Option<String>,
    secret: Option<secrecy::SecretString>,
    remove: bool,
) -> anyhow::Result<()> {
    if remove {
        store.remove_webhook(client_id).await.map_err(|e| match e {
            StoreError::NotFound => {
                anyhow::anyhow!("client {client_id} has no webhook")
            }
            other => other.into(),
        })?;
        print(
            as_json,
            &json!({ "clientId": client_id, "removed": true }),
            "webhook removed",
        );
        return Ok(());
    }
    let url = url.unwrap_or_default();
    let parsed = url::Url::parse(&url).map_err(|e| anyhow::anyhow!("--url {url}: {e}"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "https" | "http"),
        "--url must be an http(s) URL"
    );
    let secret = match secret {
        Some(secret) => secret.expose_secret().to_owned(),
        None => crate::jobs::webhooks::new_secret(),
    };
    crate::jobs::webhooks::secret_key(&secret)?;
    store
        .set_webhook(&crate::store::WebhookEndpoint {
            client_id: client_id.to_owned(),
            url: url.clone(),
            secret: secret.clone(),
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound => anyhow::anyhow!("no client {client_id}"),
            other => other.into(),
        })?;
    print(
        as_json,
        &json!({ "clientId": client_id, "url": url, "secret": secret }),
        &format!("webhook: {url}\nsigning secret: {secret}"),
    );
    Ok(())
}

/// `creneau loadtest`: drives the servers, prints the report, fails when an invariant does
/// not hold.
async fn loadtest(args: &LoadtestArgs, json: bool) -> anyhow::Result<()> {
    let report = crate::loadtest::run(&crate::loadtest::Plan::from_args(args)?).await?;
    print(json, &report.to_json(), report.to_text().trim_end());
    anyhow::ensure!(
        report.verdict.passed(),
        "{} invariant failure(s), listed above",
        report.verdict.failures.len()
    );
    Ok(())
}

fn print(as_json: bool, value: &serde_json::Value, text: &str) {
    if as_json {
        say(&value.to_string());
    } else {
        say(text);
    }
}

/// Writes a text and a newline to stdout in one go. A closed stdout (say, the reader of a
/// pipe went away) must not bring a serving process down, so write errors are ignored.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(format!("{text}\n").as_bytes());
    let _ = out.flush();
}

/// Mints and stores a firm credential; returns the client id and the one-time secret.
pub async fn firm_credentials(
    store: &dyn Store,
    firm_id: &str,
) -> anyhow::Result<(String, String)> {
    match store.firm(firm_id).await {
        Err(StoreError::NotFound) => anyhow::bail!("no firm with id {firm_id}"),
        other => other?,
    };
    let minted = tokio::task::spawn_blocking(new_firm_secret).await??;
    store
        .add_firm_credential(&FirmCredential {
            client_id: minted.client_id.clone(),
            firm_id: firm_id.to_owned(),
            secret_hash: minted.hash,
        })
        .await?;
    Ok((minted.client_id, minted.secret))
}

/// Revokes a firm credential: its access tokens are refused from the next request on.
pub async fn revoke_credential(store: &dyn Store, client_id: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        store.revoke_firm_credential(client_id).await?,
        "no credential with client id {client_id}"
    );
    Ok(())
}

/// Removes a firm: revokes its credentials and deactivates its experts (never offered
/// again; history kept). Returns how many credentials and experts that took.
pub async fn remove_firm(store: &dyn Store, firm_id: &str) -> anyhow::Result<(u64, usize)> {
    match store.firm(firm_id).await {
        Err(StoreError::NotFound) => anyhow::bail!("no firm with id {firm_id}"),
        other => other?,
    };
    let revoked = store.revoke_firm_credentials(firm_id).await?;
    let mut deactivated = 0;
    let mut page = store::PageRequest {
        after: None,
        limit: 500,
    };
    loop {
        let experts = store.list_experts(firm_id, None, &page).await?;
        for expert in experts.items.iter().filter(|e| e.profile.active) {
            store.deactivate_expert(firm_id, &expert.id).await?;
            deactivated += 1;
        }
        match experts.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    Ok((revoked, deactivated))
}

/// Creates a protocol client; returns its id and one-time API key.
pub async fn api_client(store: &dyn Store, name: &str) -> anyhow::Result<(String, String)> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 200,
        "the name must be 1 to 200 characters"
    );
    let minted = new_api_key();
    store
        .create_api_client(&ApiClient {
            id: minted.client_id.clone(),
            name: name.to_owned(),
            key_hash: sha256(&minted.key),
        })
        .await?;
    Ok((minted.client_id, minted.key))
}

async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// Descriptors the server needs beside its connections: the database, the blob files, the
/// outgoing requests of the workers.
const SPARE_DESCRIPTORS: u64 = 256;

/// Raises the soft limit on open files to the hard one, so `--max-connections` is not cut
/// short by a low default (1024 on many systems).
fn raise_open_file_limit(max_connections: u64) {
    #[cfg(unix)]
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < max_connections + SPARE_DESCRIPTORS => tracing::warn!(
            limit,
            max_connections,
            "the open-file limit is below --max-connections and what the server needs beside; \
             raise it (ulimit -n) or lower --max-connections"
        ),
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(err) => tracing::warn!(error = %err, "cannot raise the open-file limit"),
    }
}

async fn serve(
    store: Arc<dyn Store>,
    listener: TcpListener,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let metrics_listener = match args.server.metrics.metrics_listen {
        Some(address) => Some(bind(address).await?),
        None => None,
    };
    let header_timeout = std::time::Duration::from_secs(args.server.header_timeout_secs);
    raise_open_file_limit(args.server.max_connections);
    let state = AppState::new(store, args.server).await?;
    report_scanner(state.service.jobs.scanner.as_ref());
    let (stop_workers, stopping) = tokio::sync::watch::channel(false);
    let mut workers = state.service.jobs.spawn(&state.service.store, &stopping)?;
    workers.push(state.service.spawn_import_worker(&stopping));
    let service = Arc::clone(&state.service);
    if let Some(listener) = metrics_listener {
        tracing::info!(address = %listener.local_addr()?, "metrics listening");
        // It answers until the workers stop, after the API has drained.
        let mut stopped = stopping.clone();
        let stop = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let service = Arc::clone(&service);
        workers.push(tokio::spawn(async move {
            if let Err(err) =
                crate::http::serve_metrics(listener, service, header_timeout, stop).await
            {
                tracing::error!(error = %err, "the metrics listener failed");
            }
        }));
    }
    tracing::info!(address = %listener.local_addr()?, "listening");
    crate::http::serve(listener, state, shutdown_signal()).await?;
    // The searches answered are all queued now: write them before leaving.
    if tokio::time::timeout(SEARCH_LOG_CLOSE, service.close_search_log())
        .await
        .is_err()
    {
        tracing::warn!(
            "the search log could not be written out in time; its last entries are lost"
        );
    }
    // Workers stop between jobs; a download cut short is retried once its lease lapses.
    let _ = stop_workers.send(true);
    for worker in workers {
        if tokio::time::timeout(std::time::Duration::from_secs(5), worker)
            .await
            .is_err()
        {
            tracing::warn!("a worker did not stop within 5 s; its job will be retried");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Longest wait at shutdown for the search log's queue to be written.
const SEARCH_LOG_CLOSE: std::time::Duration = std::time::Duration::from_secs(10);

/// Says at start whether documents are virus-scanned, and whether the scanner answers (in
/// the background: a scanner still starting must not delay the server, and documents wait
/// for it anyway).
fn report_scanner(scanner: Option<&crate::scan::Scanner>) {
    let Some(scanner) = scanner.cloned() else {
        tracing::warn!(
            "no virus scanner configured (--scanner): uploads and documents are not virus-scanned"
        );
        return;
    };
    tracing::info!(
        kind = scanner.kind(),
        address = %scanner,
        timeout_secs = scanner.timeout().as_secs(),
        "documents are virus-scanned by clamd"
    );
    tokio::spawn(async move {
        match scanner.ping().await {
            Ok(()) => tracing::info!(address = %scanner, "the virus scanner answers"),
            Err(err) => tracing::warn!(
                error = %err,
                "the virus scanner does not answer; uploads are refused and downloads retried until it does"
            ),
        }
    });
}

/// Completes on Ctrl-C or SIGTERM. The SIGTERM handler is installed at once, not when
/// the future is first polled: a signal sent as soon as the server answers is never the
/// default one, which kills the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutdown requested; draining in-flight requests");
    }
}
