//! Writes the project's generated captures and their README.
//!
//! `cargo run -p mirador-testkit --bin gen-pcaps -- pcaps/`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen-pcaps DIR");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match mirador_testkit::pcaps::write_all(&dir) {
        Ok(()) => {
            for f in mirador_testkit::pcaps::FILES {
                println!("{}", dir.join(f.name).display());
            }
            println!("{}", dir.join("README.md").display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-pcaps: writing {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
