//! The askama templates of the audit SQL and the values computed for them.
//!
//! Every value handed to a template is finished SQL: identifiers quoted with
//! `sql_ident`, literals with `sql_literal`, expressions built in [`super::json`].
//! The templates only lay the text out.

use super::json;
use super::names::{AuditNames, qualified_table, regclass};
use super::types::qualified_type;
use crate::error::{Error, Result};
use crate::ident::{sql_ident, sql_literal, sql_type_name};
use crate::model::{Column, TableKind};
use crate::spec::{AuditSpec, AuditedTable};
use askama::Template;

/// The columns of `activity` in the order every INSERT lists them.
const ACTIVITY_COLUMNS: &str = "\"schema_name\", \"table_name\", \"relid\", \"issued_at\", \
     \"native_transaction_id\", \"verb\", \"object_id\", \"old_data\", \"changed_data\", \
     \"transaction_id\"";

fn render(template: &impl Template) -> Result<String> {
    template
        .render()
        .map_err(|e| Error::Generate(format!("rendering audit SQL failed: {e}")))
}

/// The audit schema (`templates/audit_schema.sql`).
#[derive(Template)]
#[template(path = "audit_schema.sql")]
struct SchemaTemplate {
    schema: String,
    actor_type: String,
    /// Whether the actor type is `text`: otherwise a typed overload of set_context is added.
    actor_is_text: bool,
    transaction: String,
    transaction_xid_index: String,
    transaction_actor_index: String,
    activity: String,
    activity_sequence: String,
    activity_record_index: String,
    activity_transaction_index: String,
    /// The BRIN time index of earlier versions, dropped on upgrade.
    activity_time_index: String,
    /// The B-tree time index of earlier versions, dropped on upgrade.
    activity_old_time_index: String,
    key_change: String,
    key_change_index: String,
    secret: String,
    suspension_token: String,
    suspend: String,
    find_transaction: String,
    transaction_for_context: String,
    link_context: String,
    set_context: String,
    setting_suspended: String,
    setting_context: String,
    setting_first: String,
    /// The xid of a transaction that created its transaction row (see the template).
    setting_transaction_row: String,
}

pub(super) fn audit_schema(spec: &AuditSpec) -> Result<String> {
    let names = AuditNames::new(&spec.audit_schema);
    render(&SchemaTemplate {
        schema: names.schema.clone(),
        actor_type: sql_type_name(&qualified_type(&spec.actor_id_type)),
        actor_is_text: spec.actor_id_type == "text",
        transaction: names.object("transaction"),
        transaction_xid_index: sql_ident("transaction_native_transaction_id_idx"),
        transaction_actor_index: sql_ident("transaction_actor_id_issued_at_idx"),
        activity: names.object("activity"),
        activity_sequence: names.object("activity_id_seq"),
        activity_record_index: sql_ident("activity_record_idx"),
        activity_transaction_index: sql_ident("activity_transaction_id_idx"),
        activity_time_index: sql_ident("activity_issued_at_brin"),
        activity_old_time_index: sql_ident("activity_issued_at_idx"),
        key_change: names.object("key_change"),
        key_change_index: sql_ident("key_change_native_transaction_id_relid_idx"),
        secret: names.object("secret"),
        suspension_token: names.object("suspension_token"),
        suspend: names.object("suspend"),
        find_transaction: names.object("find_transaction"),
        transaction_for_context: names.object("transaction_for_context"),
        link_context: names.object("link_context"),
        set_context: names.object("set_context"),
        setting_suspended: names.setting("suspended"),
        setting_context: names.setting("context"),
        setting_first: names.setting("first_activity"),
        setting_transaction_row: names.setting("transaction_row"),
    })
}

/// Partitioning of `activity` (`templates/audit_activity_partition.sql`).
#[derive(Template)]
#[template(path = "audit_activity_partition.sql")]
struct PartitionTemplate {
    /// Whether the unpartitioned table is converted (else only the settings change).
    convert: bool,
    /// The manifest's setting, as a literal (for the error message).
    partition: String,
    transaction: String,
    activity: String,
    activity_regclass: String,
    activity_literal: String,
    activity_sequence_regclass: String,
    activity_sequence_literal: String,
    unpartitioned: String,
    unpartitioned_name: String,
    unpartitioned_regclass: String,
    unpartitioned_literal: String,
    /// `schema.activity` as pg_partman names its parent tables, a literal.
    parent_table: String,
    interval: String,
    trunc_field: String,
    premake: u32,
    activity_record_index: String,
    activity_transaction_index: String,
    retention: String,
    keep_table: String,
    retention_comment: String,
}

/// How many intervals ahead pg_partman keeps partitions.
pub(crate) const PREMAKE: u32 = 4;

pub(super) fn activity_partition(spec: &AuditSpec, convert: bool) -> Result<String> {
    let names = AuditNames::new(&spec.audit_schema);
    let options = &spec.activity;
    let (Some(interval), Some(trunc_field)) = (
        options.partition.partman_interval(),
        options.partition.date_trunc_field(),
    ) else {
        return Err(Error::Generate(
            "the activity table is not partitioned: nothing to render".into(),
        ));
    };
    let retention_comment = match (&options.retention, options.retention_keep_table) {
        (None, _) => "no partition is ever dropped".to_owned(),
        (Some(r), false) => format!("partitions entirely older than {r} are dropped"),
        (Some(r), true) => {
            format!("partitions entirely older than {r} are detached (kept as tables)")
        }
    };
    render(&PartitionTemplate {
        convert,
        partition: sql_literal(options.partition.name()),
        transaction: names.object("transaction"),
        activity: names.object("activity"),
        activity_regclass: names.regclass("activity"),
        activity_literal: sql_literal(&names.object("activity")),
        activity_sequence_regclass: names.regclass("activity_id_seq"),
        activity_sequence_literal: sql_literal(&names.object("activity_id_seq")),
        unpartitioned: names.object("activity_unpartitioned"),
        unpartitioned_name: sql_ident("activity_unpartitioned"),
        unpartitioned_regclass: names.regclass("activity_unpartitioned"),
        unpartitioned_literal: sql_literal(&names.object("activity_unpartitioned")),
        parent_table: sql_literal(&format!("{}.activity", spec.audit_schema)),
        interval: sql_literal(interval),
        trunc_field: sql_literal(trunc_field),
        premake: PREMAKE,
        activity_record_index: sql_ident("activity_record_idx"),
        activity_transaction_index: sql_ident("activity_transaction_id_idx"),
        retention: options
            .retention
            .as_deref()
            .map_or_else(|| "NULL".to_owned(), sql_literal),
        keep_table: options.retention_keep_table.to_string(),
        retention_comment,
    })
}

/// The names of one table's triggers and trigger functions.
struct TableObjects {
    table: String,
    insert_function: String,
    update_function: String,
    key_change_function: String,
    delete_function: String,
    truncate_function: String,
    insert_trigger: String,
    update_trigger: String,
    key_change_trigger: String,
    delete_trigger: String,
    truncate_trigger: String,
}

impl TableObjects {
    fn new(names: &AuditNames, schema: &str, table: &str) -> Self {
        let function = |what| names.table_function(schema, table, what);
        Self {
            table: qualified_table(schema, table),
            insert_function: function("insert"),
            update_function: function("update"),
            key_change_function: function("key_change"),
            delete_function: function("delete"),
            truncate_function: function("truncate"),
            insert_trigger: names.trigger("insert"),
            update_trigger: names.trigger("update"),
            key_change_trigger: names.trigger_sorted_last("key_change"),
            delete_trigger: names.trigger("delete"),
            truncate_trigger: names.trigger("truncate"),
        }
    }
}

/// One audited table (`templates/audit_table.sql`).
#[derive(Template)]
#[template(path = "audit_table.sql")]
struct TableTemplate {
    /// The qualified table and the names of its triggers and functions.
    objects: TableObjects,
    audited_columns: String,
    excluded_columns: String,
    key_description: String,
    has_key: bool,
    /// Whether the key-change trigger runs BEFORE rather than AFTER each row: only
    /// partitioned tables need it (see the template).
    key_change_before: bool,
    /// Whether the table is partitioned: without a key its updates are then recorded
    /// per statement, paired by position (see the template).
    partitioned: bool,
    /// Whether the row-building functions run with `TimeZone` set to UTC (the table has
    /// `timestamptz[]` columns, see `json::value`).
    utc_session: bool,
    record_truncate: bool,
    schema_name: String,
    table_name: String,
    relid: String,
    activity: String,
    activity_columns: &'static str,
    activity_sequence: String,
    key_change: String,
    suspend: String,
    suspension_token: String,
    transaction_for_context: String,
    /// The `transaction_id` of rows recorded while a context is set: a sub-select
    /// finding (or creating) the context's transaction row. It reads the setting itself
    /// rather than the function's variable: a statement without parameters skips
    /// plpgsql's per-call check of its cached plan's parameters.
    context_transaction: String,
    setting_suspended: String,
    setting_context: String,
    setting_first: String,
    setting_key_changes: String,
    /// The setting that flags, for the rest of one trigger call, old rows left without
    /// a new row of their key.
    setting_unpaired: String,
    insert_key: String,
    insert_row: String,
    update_key: String,
    update_old_row: String,
    update_changed: String,
    update_any_changed: String,
    key_join: String,
    /// After `old_rows o LEFT JOIN new_rows n`: no new row has the old row's key.
    new_row_missing: String,
    /// A condition that sets `setting_unpaired` and is false.
    flag_unpaired: String,
    /// The name of the row-position column, one no column of the table has.
    position: String,
    /// `old_rows` with each row's position in it, in `position`.
    old_by_position: String,
    /// `new_rows` with each row's position in it, in `position`.
    new_by_position: String,
    /// `m` (a new row) has the key of `o`.
    old_partner: String,
    /// `m` (an old row) has the key of `n`.
    new_partner: String,
    old_key_of_o: String,
    key_change_filter: String,
    key_of_old: String,
    key_of_new: String,
    key_changed_condition: String,
    /// The key columns as an identifier list, for `UPDATE OF`.
    key_columns: String,
    row_old_row: String,
    row_changed: String,
    row_any_changed: String,
    delete_key: String,
    delete_row: String,
    /// Every column the triggers read (audited and key columns), as a `name[]` literal.
    read_columns: String,
    /// The table as `schema.table` in a string literal, for messages.
    table_label: String,
}

fn column_list(columns: &[&Column]) -> String {
    if columns.is_empty() {
        return "none".to_owned();
    }
    columns
        .iter()
        .map(|c| sql_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn audit_table(spec: &AuditSpec, audited: &AuditedTable) -> Result<String> {
    let names = AuditNames::new(&spec.audit_schema);
    let table = &audited.table;
    let objects = TableObjects::new(&names, &table.schema, &table.name);
    let schema = &spec.schema;
    let columns: Vec<&Column> = audited.audited_columns().collect();
    let excluded: Vec<&Column> = table
        .columns
        .iter()
        .filter(|c| audited.excluded.contains(&c.name))
        .collect();
    let key: Vec<&Column> = table
        .primary_key
        .iter()
        .flatten()
        .filter_map(|k| table.column(k))
        .collect();
    let relid = format!("{}::pg_catalog.oid", regclass(&table.schema, &table.name));
    let mut read: Vec<&str> = columns
        .iter()
        .chain(&key)
        .map(|c| c.name.as_str())
        .collect();
    read.sort_unstable();
    read.dedup();
    let read_columns = format!(
        "ARRAY[{}]::pg_catalog.name[]",
        read.iter()
            .map(|c| sql_literal(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let join_on = |new: &str, old: &str| {
        key.iter()
            .map(|c| {
                let column = sql_ident(&c.name);
                // Plain `=` of pg_catalog, resolved by argument type; hashable, so the
                // join of 20,000-row transition tables stays a hash join.
                format!("{new}.{column} OPERATOR(pg_catalog.=) {old}.{column}")
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let key_join = join_on("n", "o");
    let setting_unpaired = names.setting("unpaired_rows");
    let mut position = "position".to_owned();
    while table.column(&position).is_some() {
        position.insert(0, '_');
    }
    render(&TableTemplate {
        audited_columns: column_list(&columns),
        excluded_columns: column_list(&excluded),
        key_description: if key.is_empty() {
            "none (object_id is NULL; updates are recorded per row)".to_owned()
        } else {
            column_list(&key)
        },
        has_key: !key.is_empty(),
        key_change_before: table.kind == TableKind::Partitioned,
        partitioned: table.kind == TableKind::Partitioned,
        utc_session: json::needs_utc_session(schema, &columns),
        record_truncate: audited.record_truncate,
        schema_name: sql_literal(&table.schema),
        table_name: sql_literal(&table.name),
        relid: relid.clone(),
        activity: names.object("activity"),
        activity_columns: ACTIVITY_COLUMNS,
        activity_sequence: names.regclass("activity_id_seq"),
        key_change: names.object("key_change"),
        suspend: names.object("suspend"),
        suspension_token: names.object("suspension_token"),
        transaction_for_context: names.object("transaction_for_context"),
        context_transaction: format!(
            "(SELECT {}(pg_catalog.current_setting({}, true)))",
            names.object("transaction_for_context"),
            names.setting("context")
        ),
        setting_suspended: names.setting("suspended"),
        setting_context: names.setting("context"),
        setting_first: names.setting("first_activity"),
        setting_key_changes: names.setting("key_changes"),
        new_row_missing: match key.first() {
            // Key columns are NOT NULL: NULL here means the join found no new row.
            Some(first) => format!("n.{} IS NULL", sql_ident(&first.name)),
            None => "false".to_owned(),
        },
        flag_unpaired: format!(
            "pg_catalog.set_config({setting_unpaired}, 'pending', true) IS NULL"
        ),
        setting_unpaired,
        old_by_position: by_position("old_rows", &position),
        new_by_position: by_position("new_rows", &position),
        position: sql_ident(&position),
        old_partner: join_on("m", "o"),
        new_partner: join_on("n", "m"),
        insert_key: json::key(schema, &key, "n"),
        insert_row: json::row_object(schema, &columns, "n", "               "),
        update_key: json::key(schema, &key, "n"),
        update_old_row: json::row_object(schema, &columns, "o", "               "),
        update_changed: json::changed_object(schema, &columns, "n", "o", "               "),
        update_any_changed: json::any_changed(schema, &columns, "n", "o", "             "),
        key_join,
        old_key_of_o: json::key(schema, &key, "o"),
        key_change_filter: format!(
            "k.\"native_transaction_id\" OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id()\n\
             \x20                 AND k.\"relid\" OPERATOR(pg_catalog.=) {relid}\n\
             \x20                 AND pg_catalog.age(k.xmin) OPERATOR(pg_catalog.<=) 0"
        ),
        key_of_old: json::key(schema, &key, "OLD"),
        key_of_new: json::key(schema, &key, "NEW"),
        key_changed_condition: format!(
            "{} OPERATOR(pg_catalog.*<>) {}",
            json::row_of(&key, "OLD"),
            json::row_of(&key, "NEW")
        ),
        key_columns: key
            .iter()
            .map(|c| sql_ident(&c.name))
            .collect::<Vec<_>>()
            .join(", "),
        row_old_row: json::row_object(schema, &columns, "OLD", "            "),
        row_changed: json::changed_object(schema, &columns, "NEW", "OLD", "            "),
        row_any_changed: json::any_changed(schema, &columns, "NEW", "OLD", "        "),
        delete_key: json::key(schema, &key, "o"),
        delete_row: json::row_object(schema, &columns, "o", "               "),
        read_columns,
        table_label: sql_literal(&format!("{}.{}", table.schema, table.name)),
        objects,
    })
}

/// A transition table with each row's position in it (PostgreSQL adds an updated row to
/// the old and the new transition table together, so equal positions are one row).
fn by_position(transition_table: &str, position: &str) -> String {
    format!(
        "(SELECT pg_catalog.row_number() OVER () AS {}, * FROM {transition_table})",
        sql_ident(position)
    )
}

/// Dropping one table's auditing (`templates/audit_unaudit_table.sql`).
#[derive(Template)]
#[template(path = "audit_unaudit_table.sql")]
struct UnauditTemplate {
    /// The qualified table and the names of its triggers and functions.
    objects: TableObjects,
}

pub(super) fn unaudit_table(spec: &AuditSpec, schema: &str, table: &str) -> Result<String> {
    let names = AuditNames::new(&spec.audit_schema);
    let objects = TableObjects::new(&names, schema, table);
    render(&UnauditTemplate { objects })
}
