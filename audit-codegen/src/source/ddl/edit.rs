//! Edits of one table that several statements share.

use super::*;

/// Copies what a partition takes from its parent: the columns (identity excepted, as in
/// PostgreSQL 15) and the primary key.
pub(super) fn inherit_from_parent(table: &mut Table, parent: &Table) {
    table.columns = parent
        .columns
        .iter()
        .map(|c| Column {
            identity: None,
            ..c.clone()
        })
        .collect();
    table.primary_key.clone_from(&parent.primary_key);
}

/// A column of a typed table (`CREATE TABLE … OF type`) from an attribute of its type.
pub(super) fn typed_table_column(attribute: &Attribute) -> Column {
    Column::new(&attribute.name, &attribute.type_name)
}

/// Marks `columns` as the primary key (which makes them NOT NULL).
pub(super) fn set_primary_key(
    table: &mut Table,
    columns: &[String],
) -> std::result::Result<(), String> {
    for name in columns {
        existing_column(table, name)?.nullable = false;
    }
    table.primary_key = Some(columns.to_vec());
    Ok(())
}

pub(super) fn existing_column<'t>(
    table: &'t mut Table,
    name: &str,
) -> std::result::Result<&'t mut Column, String> {
    let qualified = table.qualified_name();
    table
        .column_mut(name)
        .ok_or_else(|| format!("table {qualified} has no column {}", quote_ident(name)))
}

pub(super) fn add_column(
    table: &mut Table,
    def: &ColumnDef,
    if_not_exists: bool,
) -> std::result::Result<(), String> {
    if table.column(&def.column.name).is_some() {
        return if if_not_exists {
            Ok(())
        } else {
            Err(format!(
                "column {} of {} already exists",
                quote_ident(&def.column.name),
                table.qualified_name()
            ))
        };
    }
    table.columns.push(def.column.clone());
    Ok(())
}

/// Drops a column; returns whether the primary key went with it (PostgreSQL drops a
/// constraint whose column is dropped).
pub(super) fn drop_column(
    table: &mut Table,
    name: &str,
    if_exists: bool,
) -> std::result::Result<bool, String> {
    if table.column(name).is_none() {
        return if if_exists {
            Ok(false)
        } else {
            Err(format!(
                "table {} has no column {}",
                table.qualified_name(),
                quote_ident(name)
            ))
        };
    }
    table.columns.retain(|c| c.name != name);
    let in_key = table
        .primary_key
        .as_ref()
        .is_some_and(|key| key.iter().any(|k| k == name));
    if in_key {
        table.primary_key = None;
    }
    Ok(in_key)
}
