// The audit specifications of the fixture schemas, built by hand (the manifest loader
// is not used here). Shared by build.rs and the snapshot test via `#[path]`.

use audit_codegen::model::Schema;
use audit_codegen::spec::{AuditSpec, AuditedTable, ColumnOverride};

fn audited(schema: &Schema, name: &str) -> AuditedTable {
    let (s, n) = name.split_once('.').expect("schema.name");
    AuditedTable::new(schema.table(s, n).expect("fixture table").clone())
}

fn spec(schema: Schema, tables: Vec<AuditedTable>) -> AuditSpec {
    AuditSpec {
        tables,
        ..AuditSpec::new(schema)
    }
}

/// Every table of the kitchen-sink fixture except the partition (audited through its
/// parent), with an excluded column, a truncate-recording table and a column override;
/// the types derive `PartialEq`.
pub fn kitchen_sink(schema: Schema) -> AuditSpec {
    let mut tables: Vec<AuditedTable> = schema
        .tables
        .iter()
        .filter(|t| t.partition_of.is_none())
        .map(|t| audited(&schema, &format!("{}.{}", t.schema, t.name)))
        .collect();
    for t in &mut tables {
        match (t.table.schema.as_str(), t.table.name.as_str()) {
            ("public", "article") => {
                t.excluded = vec!["search_vector".to_owned()];
                t.record_truncate = true;
            }
            ("public", "texts") => t.columns.push(ColumnOverride {
                column: "ci".to_owned(),
                rust_type: None,
                rust_name: None,
                attributes: vec!["#[serde(skip_serializing_if = \"Option::is_none\")]".to_owned()],
            }),
            _ => {}
        }
    }
    let mut spec = spec(schema, tables);
    // The tests compare decoded changes with expected ones.
    spec.rust.partial_eq = true;
    spec
}

/// The kitchen-sink fixture with dates and times from the `time` crate.
#[allow(dead_code)]
pub fn kitchen_sink_time(schema: Schema) -> AuditSpec {
    let mut spec = kitchen_sink(schema);
    spec.rust.time_crate = audit_codegen::spec::TimeCrate::Time;
    spec
}

/// The round-trip fixture: `everything` without its `secret` column, and `pair` (a
/// composite key) recording truncates; the types derive serde's traits and `PartialEq`.
pub fn roundtrip(schema: Schema) -> AuditSpec {
    let mut everything = audited(&schema, "public.everything");
    everything.excluded = vec!["secret".to_owned()];
    let mut pair = audited(&schema, "public.pair");
    pair.record_truncate = true;
    let mut spec = spec(schema, vec![everything, pair]);
    // The round trip serialises changes and reads them back, and compares them.
    spec.rust.serde = true;
    spec.rust.partial_eq = true;
    spec
}

/// The hostile-names fixture (written by `tests/tests/hostile_input.rs`): every table
/// but `victim`, each under its own `rust_name` (their sanitised names collide) and
/// without its third column (whose sanitised name may collide with the second's).
#[allow(dead_code)]
pub fn hostile(schema: Schema) -> AuditSpec {
    let tables = schema
        .tables
        .iter()
        .filter(|t| t.name != "victim")
        .enumerate()
        .map(|(i, t)| AuditedTable {
            excluded: vec![t.columns[2].name.clone()],
            rust_name: Some(format!("Hostile{i}")),
            ..AuditedTable::new(t.clone())
        })
        .collect();
    spec(schema, tables)
}
