//! The `amlip` command line.
#![forbid(unsafe_code)]

use clap::Parser;

/// AML-IP workload distribution: a Main Node hands Jobs to idle Computing Nodes.
#[derive(Debug, Parser)]
#[command(name = "amlip", version)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
