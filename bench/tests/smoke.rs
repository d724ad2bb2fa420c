//! The suite's quick mode against the real server: checks the harness still works (every
//! row of the report present, every figure positive, every variant recording every
//! change) without spending minutes on it.

use audit_bench::model::{Connection, History, Protocol, Variant, Verb};
use audit_bench::options::Options;
use audit_bench::{codegen, report, suite};

#[test]
fn quick_run_reports_every_measurement() {
    let options = Options {
        // The nested `cargo run` of the debug codegen binary is replaced by an in-process
        // call below (a test is already a debug build).
        codegen: false,
        ..Options::quick()
    };
    let mut report = suite::run(&options, "smoke test").expect("quick run");
    let scratch = std::env::temp_dir().join(format!("audit-bench-smoke-{}", std::process::id()));
    report.codegen = Some(codegen::time(&scratch, 20, 8, 1));
    let _ = std::fs::remove_dir_all(&scratch);

    let ours_missing = report
        .notes
        .iter()
        .any(|n| n.starts_with("Ours not measured"));
    let mut single_variants = vec![
        Variant::None,
        Variant::Generic,
        Variant::Hstore,
        Variant::Statement,
    ];
    let mut bulk_variants = vec![
        Variant::None,
        Variant::Generic,
        Variant::Hstore,
        Variant::Statement,
        Variant::Floor,
    ];
    if !ours_missing {
        single_variants.push(Variant::Ours);
        bulk_variants.push(Variant::Ours);
    }
    for verb in Verb::ALL {
        for &clients in &options.clients {
            for (context, history) in [
                (false, History::Empty),
                (true, History::Empty),
                (true, History::Populated),
            ] {
                for protocol in Protocol::ALL {
                    let floor = (!context).then_some(Variant::Floor);
                    for &variant in single_variants.iter().chain(&floor) {
                        let cell = report
                            .single(verb, clients, protocol, context, history, variant)
                            .unwrap_or_else(|| {
                                panic!(
                                    "no cell {verb} {clients} {protocol:?} {context} \
                                     {history:?} {variant:?}"
                                )
                            });
                        assert_eq!(cell.tps.len(), 1);
                        assert!(cell.tps.iter().all(|t| *t > 0.0), "{cell:?}");
                    }
                }
            }
        }
        for &variant in &bulk_variants {
            for connection in Connection::ALL {
                let cell = report
                    .bulk_cell(verb, connection, variant)
                    .expect("bulk cell");
                assert!(!cell.times.is_empty() && cell.times.iter().all(|t| !t.is_zero()));
            }
        }
    }
    // A variant that silently records less would look fast: every check must pass.
    // (A bulk statement cancelled by the timeout is a measurement, not a failed check:
    // the statement-level trigger's UPDATE on a pooled connection is quadratic.)
    let failed: Vec<&String> = report
        .notes
        .iter()
        .filter(|n| !n.starts_with("Ours not measured") && !n.contains("statement timeout"))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(report.profile.len(), 2);
    assert!(report.profile.iter().all(|p| !p.functions.is_empty()));
    let times = report
        .codegen
        .as_ref()
        .unwrap()
        .as_ref()
        .expect("codegen timing");
    assert!(times.files > 0 && times.first.iter().all(|t| !t.is_zero()));

    // Partitioned activity: measured wherever the server has pg_partman 4.x.
    match &report.partitioned {
        Some(Ok(partitioned)) => {
            assert_eq!(
                partitioned.single.len(),
                Verb::ALL.len() * options.clients.len() * 2
            );
            assert_eq!(partitioned.bulk.len(), Verb::ALL.len());
            for cell in partitioned.single.iter().chain(&partitioned.bulk) {
                assert!(cell.ratio().is_some_and(|r| r > 0.0), "{cell:?}");
            }
            let history = partitioned.history.as_ref().expect("questions");
            assert!(history.populated >= 12, "{history:?}");
            assert_eq!(history.partitioned.len(), 4);
            assert!(history.partitioned.iter().all(|q| q.p50_ms > 0.0));
            let retention = partitioned.retention.as_ref().expect("retention");
            assert_eq!(retention.rows, options.retention_rows as i64);
            assert!(retention.partitions_dropped >= 1);
        }
        Some(Err(why)) => eprintln!("partitioned activity not measured: {why}"),
        None => panic!("partitioned activity not run"),
    }
    let text = report::render(&report);
    for heading in [
        "## Machine",
        "## Targets",
        "## Single-row write path",
        "## Bulk statements",
        "## Partitioned activity",
        "## Code generation",
        "## Function profile",
    ] {
        assert!(text.contains(heading), "missing {heading}");
    }
    // One table row per single-row scenario (no context, context, context with a
    // populated history, each over both protocols) and per bulk statement and connection.
    let rows = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
    let per_verb = options.clients.len() * 3 * Protocol::ALL.len();
    assert_eq!(rows("| INSERT | "), per_verb + 2);
    assert_eq!(rows("| UPDATE | "), per_verb + 2);
    assert_eq!(rows("| DELETE | "), per_verb + 2);
    if !ours_missing {
        assert!(!text.contains("| n/a |"), "a figure is missing:\n{text}");
        // Every target of issues 7 and 17 is evaluated.
        for outcome in audit_bench::targets::evaluate(&report) {
            assert!(outcome.met.is_some(), "not measured: {}", outcome.target);
        }
    }
}
