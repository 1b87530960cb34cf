//! A service binary's `main` after its configuration is loaded: the multi-threaded
//! runtime, the service's future, and the exit code.

use std::{fmt::Display, future::Future, process::ExitCode};

/// Runs `service` on a new multi-threaded runtime. `binary` prefixes the messages on
/// stderr (the log may not be where the operator looks when a service will not start);
/// `log_failure` writes the service's own error log line (here it would carry this
/// crate's `tracing` target instead of the service's).
///
/// Exit codes: 0 when `service` returned `Ok`, 1 when the runtime cannot start or the
/// service failed (2 stays the binaries' "invalid configuration").
pub fn run<E: Display>(
    binary: &str,
    service: impl Future<Output = Result<(), E>>,
    log_failure: impl FnOnce(&E),
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{binary}: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(service) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log_failure(&err);
            eprintln!("{binary}: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_follows_the_service() {
        let mut logged = Vec::new();
        assert_eq!(
            run("test", async { Ok::<(), String>(()) }, |err| logged
                .push(err.clone())),
            ExitCode::SUCCESS
        );
        assert!(logged.is_empty());
        assert_eq!(
            run("test", async { Err::<(), _>("broken".to_owned()) }, |err| {
                logged.push(err.clone())
            }),
            ExitCode::FAILURE
        );
        assert_eq!(logged, ["broken"]);
    }
}
