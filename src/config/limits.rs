//! Settings of the request rate limits.

use std::num::NonZeroU32;

use clap::Args;

use crate::rate_limit::Quota;

/// Request rates allowed to each Claims IA client on `/v1` and to each firm on `/admin/v1`
/// (the token endpoint has its own lock-outs), counted by each instance in its own memory:
/// behind a load balancer, N instances let a caller through at up to N times these rates.
///
/// The defaults are far above what a real integration sends and well below what one
/// instance serves (thousands of searches per second), so they only stop a runaway caller
/// from starving the others. Claims IA is one client carrying all its users' searches, and
/// they come in bursts (a claim's intake searches several expertise types, a refused
/// booking searches again): 200 per second, 400 at once. A firm's back office and
/// synchronisation scripts are slower but loop over experts and appointments: 50 per
/// second, 100 at once, lets a sync of thousands of experts run in a minute or two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct RateLimitArgs {
    /// Requests per second each Claims IA client may make on `/v1`, on average (0: no
    /// limit).
    #[arg(long, env = "CRENEAU_CLIENT_RATE_LIMIT", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub client_rate_limit: u32,
    /// Requests a Claims IA client may make at once, beyond which it is held to its rate.
    #[arg(long, env = "CRENEAU_CLIENT_RATE_BURST", default_value_t = 400,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub client_rate_burst: u32,
    /// Requests per second each firm may make on `/admin/v1`, on average (0: no limit).
    #[arg(long, env = "CRENEAU_FIRM_RATE_LIMIT", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub firm_rate_limit: u32,
    /// Requests a firm may make at once, beyond which it is held to its rate.
    #[arg(long, env = "CRENEAU_FIRM_RATE_BURST", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub firm_rate_burst: u32,
}

impl Default for RateLimitArgs {
    fn default() -> Self {
        Self {
            client_rate_limit: 200,
            client_rate_burst: 400,
            firm_rate_limit: 50,
            firm_rate_burst: 100,
        }
    }
}

impl RateLimitArgs {
    /// No limit on either API.
    pub fn off() -> Self {
        Self {
            client_rate_limit: 0,
            firm_rate_limit: 0,
            ..Self::default()
        }
    }

    /// Each Claims IA client's quota, unless unlimited.
    pub fn clients(&self) -> Option<Quota> {
        quota(self.client_rate_limit, self.client_rate_burst)
    }

    /// Each firm's quota, unless unlimited.
    pub fn firms(&self) -> Option<Quota> {
        quota(self.firm_rate_limit, self.firm_rate_burst)
    }
}

fn quota(per_second: u32, burst: u32) -> Option<Quota> {
    Quota::new(
        per_second,
        NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
    )
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::config::{Cli, Command};

    fn serve_limits(args: &[&str]) -> Result<RateLimitArgs, clap::Error> {
        let cli = Cli::try_parse_from([&["creneau", "serve"], args].concat())?;
        match cli.command {
            Command::Serve(serve) => Ok(serve.server.rate_limits),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_command_line_defaults_are_the_documented_ones() {
        let limits = serve_limits(&[]).unwrap();
        assert_eq!(limits, RateLimitArgs::default());
        assert_eq!(
            limits.clients(),
            Quota::new(200, NonZeroU32::new(400).unwrap())
        );
        assert_eq!(
            limits.firms(),
            Quota::new(50, NonZeroU32::new(100).unwrap())
        );
    }

    #[test]
    fn a_rate_of_zero_turns_that_limit_off_only() {
        let limits = serve_limits(&["--client-rate-limit", "0", "--firm-rate-burst", "7"]).unwrap();
        assert_eq!(limits.clients(), None);
        assert_eq!(limits.firms(), Quota::new(50, NonZeroU32::new(7).unwrap()));
        assert_eq!(RateLimitArgs::off().firms(), None);
    }

    #[test]
    fn a_burst_of_zero_is_refused() {
        assert!(serve_limits(&["--client-rate-burst", "0"]).is_err());
        assert!(serve_limits(&["--firm-rate-burst", "0"]).is_err());
    }
}
