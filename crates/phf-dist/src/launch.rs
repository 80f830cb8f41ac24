//! The torchrun environment: who this process is and where rank 0 listens.

use std::time::Duration;

use crate::DistError;

/// Seconds to wait for the other ranks to join, and for any collective to finish.
pub const TIMEOUT_ENV: &str = "PHF_DIST_TIMEOUT_S";
/// Long enough for rank 0 to write a `gpt2` checkpoint while the others wait at the next all-reduce; a rank that
/// dies is noticed at once anyway (its sockets close), so this only bounds hangs and late starters.
pub const DEFAULT_TIMEOUT_S: f64 = 300.0;

/// This process's place in a data-parallel job, as torchrun (or `srun` with the variables exported) sets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub rank: usize,
    pub world_size: usize,
    /// Rank among the processes of this machine: picks the GPU.
    pub local_rank: usize,
    /// Processes on this machine (torchrun's LOCAL_WORLD_SIZE; all of them when rank 0 is on loopback; else
    /// unknown).
    pub local_world_size: Option<usize>,
    pub master_addr: String,
    pub master_port: u16,
    pub timeout: Duration,
}

impl Launch {
    /// Reads `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT` and `PHF_DIST_TIMEOUT_S`.
    /// `None` when `WORLD_SIZE` is unset: a plain single-process run.
    pub fn from_env() -> Result<Option<Launch>, DistError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Launch::from_env`], reading variables through `get` (testable without touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Launch>, DistError> {
        let Some(world) = get("WORLD_SIZE") else {
            if let Some(rank) = get("RANK") {
                return Err(env_err(
                    "RANK",
                    &rank,
                    "is set but WORLD_SIZE is not: set both (torchrun does)",
                ));
            }
            return Ok(None);
        };
        let world_size: usize = parse("WORLD_SIZE", &world)?;
        if world_size == 0 {
            return Err(env_err("WORLD_SIZE", &world, "must be at least 1"));
        }
        let rank: usize = match get("RANK") {
            Some(r) => parse("RANK", &r)?,
            None if world_size == 1 => 0,
            None => {
                return Err(env_err(
                    "RANK",
                    "",
                    "is unset: every process needs its rank, 0..WORLD_SIZE-1",
                ))
            }
        };
        if rank >= world_size {
            return Err(env_err(
                "RANK",
                &rank.to_string(),
                &format!("must be below WORLD_SIZE = {world_size} (ranks are 0..WORLD_SIZE-1)"),
            ));
        }
        let local_rank = match get("LOCAL_RANK") {
            Some(r) => parse("LOCAL_RANK", &r)?,
            None => 0,
        };
        let local_world_size = match get("LOCAL_WORLD_SIZE") {
            Some(n) => Some(parse("LOCAL_WORLD_SIZE", &n)?).filter(|&n: &usize| n > 0),
            None => None,
        };
        let (master_addr, master_port) = if world_size == 1 {
            (get("MASTER_ADDR").unwrap_or_else(|| "127.0.0.1".into()), 0)
        } else {
            let addr = get("MASTER_ADDR")
                .filter(|a| !a.trim().is_empty())
                .ok_or_else(|| env_err("MASTER_ADDR", "", "is unset: set it to rank 0's host name or address"))?;
            let port = get("MASTER_PORT").ok_or_else(|| {
                env_err(
                    "MASTER_PORT",
                    "",
                    "is unset: set it to a free TCP port on rank 0's host",
                )
            })?;
            (addr.trim().to_string(), parse("MASTER_PORT", &port)?)
        };
        let timeout_s = match get(TIMEOUT_ENV) {
            Some(v) => {
                let s: f64 = parse(TIMEOUT_ENV, &v)?;
                if !(s > 0.0 && s.is_finite()) {
                    return Err(env_err(TIMEOUT_ENV, &v, "must be a positive number of seconds"));
                }
                s
            }
            None => DEFAULT_TIMEOUT_S,
        };
        let on_loopback = ["127.0.0.1", "localhost", "::1"].contains(&master_addr.as_str());
        let local_world_size = local_world_size.or(on_loopback.then_some(world_size));
        Ok(Some(Launch {
            rank,
            world_size,
            local_rank,
            local_world_size,
            master_addr,
            master_port,
            timeout: Duration::from_secs_f64(timeout_s),
        }))
    }
}

fn env_err(var: &'static str, value: &str, message: &str) -> DistError {
    DistError::Env {
        var,
        value: value.to_string(),
        message: message.to_string(),
    }
}

fn parse<T: std::str::FromStr>(var: &'static str, value: &str) -> Result<T, DistError> {
    value
        .trim()
        .parse()
        .map_err(|_| env_err(var, value, "is not a valid number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(vars: &[(&str, &str)]) -> Result<Option<Launch>, DistError> {
        Launch::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn no_world_size_is_a_single_process() {
        assert_eq!(launch(&[]).unwrap(), None);
    }

    #[test]
    fn reads_torchrun_variables() {
        let l = launch(&[
            ("WORLD_SIZE", "4"),
            ("RANK", "3"),
            ("LOCAL_RANK", "1"),
            ("MASTER_ADDR", "node0"),
            ("MASTER_PORT", "29500"),
            (TIMEOUT_ENV, "2.5"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((l.rank, l.world_size, l.local_rank), (3, 4, 1));
        assert_eq!(
            l.local_world_size, None,
            "unknown: rank 0 is on another host and LOCAL_WORLD_SIZE is unset"
        );
        assert_eq!((l.master_addr.as_str(), l.master_port), ("node0", 29500));
        assert_eq!(l.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn bad_variables_are_named() {
        let base = [("MASTER_ADDR", "h"), ("MASTER_PORT", "1")];
        let err = |extra: &[(&str, &str)]| {
            let vars: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
            launch(&vars).unwrap_err().to_string()
        };
        assert!(err(&[("WORLD_SIZE", "2"), ("RANK", "2")]).contains("RANK"));
        assert!(err(&[("WORLD_SIZE", "two"), ("RANK", "0")]).contains("WORLD_SIZE=\"two\""));
        assert!(err(&[("WORLD_SIZE", "2")]).contains("RANK"));
        assert!(err(&[("RANK", "0")]).contains("WORLD_SIZE"));
        assert!(err(&[("WORLD_SIZE", "2"), ("RANK", "0"), (TIMEOUT_ENV, "0")]).contains(TIMEOUT_ENV));
        let missing = launch(&[("WORLD_SIZE", "2"), ("RANK", "0"), ("MASTER_PORT", "1")]).unwrap_err();
        assert!(missing.to_string().contains("MASTER_ADDR"), "{missing}");
    }
}
