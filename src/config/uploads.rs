//! Settings of the files firms pre-upload.

use clap::Args;

/// Pre-uploaded files: their size cap and how long an unused one is kept.
#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// Largest pre-uploaded file, in bytes (decoded).
    #[arg(long, env = "CRENEAU_UPLOAD_MAX_BYTES", default_value_t = 5_242_880,
          value_parser = clap::value_parser!(u64).range(1..=6 * 1024 * 1024))]
    pub upload_max_bytes: u64,
    /// Hours an upload no settlement or import used is kept before it is deleted.
    #[arg(long, env = "CRENEAU_UPLOAD_TTL_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=720))]
    pub upload_ttl_hours: u64,
}

impl Default for UploadArgs {
    fn default() -> Self {
        Self {
            upload_max_bytes: 5_242_880,
            upload_ttl_hours: 24,
        }
    }
}

impl UploadArgs {
    /// How long an unused upload is kept.
    pub fn ttl(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::try_from(self.upload_ttl_hours).unwrap_or(24))
    }
}
