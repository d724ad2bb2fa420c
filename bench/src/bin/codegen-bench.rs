//! Times code generation for a synthetic schema and prints the timings as JSON.
//!
//! Meant to be built in the debug profile (as build scripts are); `audit-bench` runs it
//! with `cargo run -p audit-bench --bin codegen-bench`.
//!
//! usage: codegen-bench [--tables N] [--columns N] [--rounds N]

use audit_bench::codegen;

fn main() {
    let mut tables = 500;
    let mut columns = 20;
    let mut rounds = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value: usize = match args.next().map(|v| v.parse()) {
            Some(Ok(v)) => v,
            _ => fail(&format!("{arg} needs a whole number")),
        };
        match arg.as_str() {
            "--tables" => tables = value,
            "--columns" => columns = value,
            "--rounds" => rounds = value,
            _ => fail(&format!("unknown argument {arg:?}")),
        }
    }
    let scratch = std::env::temp_dir().join(format!("audit-codegen-bench-{}", std::process::id()));
    let result = codegen::time(&scratch, tables, columns, rounds);
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(times) => println!("{}", audit_bench::codegen_runner::to_json(&times)),
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("codegen-bench: {message}");
    std::process::exit(1)
}
