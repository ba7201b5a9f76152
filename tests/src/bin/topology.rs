//! The distributed deployment on loopback, without Docker: SecantusDB, a private Redis, the
//! machine's RabbitMQ, every role as its own `exchange` process, nginx in front.
//!
//! ```sh
//! cargo build -p exchange
//! cargo run -p system-tests --bin topology                  # prints the gateway URL, Ctrl-C stops
//! cargo run -p system-tests --bin topology -- cargo test -p system-tests --test api
//! ```
//! With a command, the command runs with `EXCHANGE_BASE_URL` set to the gateway, the topology
//! stops afterwards and the launcher exits with the command's status.

use std::process::{Command, ExitCode};
use std::sync::mpsc;

use system_tests::topology::Topology;

fn main() -> ExitCode {
    let command: Vec<String> = std::env::args().skip(1).collect();
    eprintln!("starting the distributed topology (SecantusDB, Redis, RabbitMQ, roles, nginx)...");
    let topology = Topology::start();
    let base_url = topology.base_url();
    eprintln!("gateway: {base_url}");
    eprintln!("roles: {}", topology.role_names().join(", "));
    eprintln!("logs: {}", topology.work_dir().display());
    let Some((program, args)) = command.split_first() else {
        return wait_for_ctrl_c();
    };
    let status = Command::new(program)
        .args(args)
        .env("EXCHANGE_BASE_URL", &base_url)
        .status();
    drop(topology);
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("{program} ended with {status}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("cannot run {program}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn wait_for_ctrl_c() -> ExitCode {
    let (stop, stopped) = mpsc::channel();
    if let Err(error) = ctrlc::set_handler(move || {
        let _ = stop.send(());
    }) {
        eprintln!("cannot handle Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!("running; Ctrl-C stops everything");
    let _ = stopped.recv();
    eprintln!("stopping");
    ExitCode::SUCCESS
}
