//! The live source: introspects a running database through `pg_catalog`.
//!
//! Runs in one read-only transaction with an empty `search_path`, so `format_type()` and
//! `pg_get_expr()` print every user-defined name schema-qualified, exactly as `pg_dump`
//! writes them. Every query is ordered, so the model comes out the same on every run.
//! Objects that belong to extensions (such as `citext`'s own types) and the system schemas
//! are left out.

use crate::error::{Error, Result};
use crate::model::{
    Attribute, Column, CompositeType, DomainType, EnumType, Identity, QualifiedName, Schema, Table,
    TableKind,
};
use crate::sqltext::normalize_expr;
use postgres::{Client, NoTls};

/// Schemas never introspected: the system ones.
const SYSTEM_SCHEMA_FILTER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_%'";

/// Connects to `url` (a libpq-style connection string or URL) and introspects it.
pub fn introspect_url(url: &str) -> Result<Schema> {
    let mut client = Client::connect(url, NoTls)
        .map_err(|e| Error::Database(format!("cannot connect to {}: {e}", redact_password(url))))?;
    introspect(&mut client)
}

/// Introspects the database `client` is connected to.
pub fn introspect(client: &mut Client) -> Result<Schema> {
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .map_err(db_error)?;
    tx.execute("SELECT pg_catalog.set_config('search_path', '', true)", &[])
        .map_err(db_error)?;
    let mut schema = Schema {
        tables: tables(&mut tx)?,
        enums: enums(&mut tx)?,
        domains: domains(&mut tx)?,
        composites: composites(&mut tx)?,
    };
    tx.commit().map_err(db_error)?;
    schema.normalize();
    Ok(schema)
}

fn db_error(e: postgres::Error) -> Error {
    Error::Database(e.to_string())
}

/// Hides the password of a `postgres://user:password@host` URL in error messages.
fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn tables(tx: &mut postgres::Transaction<'_>) -> Result<Vec<Table>> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
                (SELECT pn.nspname::text FROM pg_catalog.pg_inherits i
                   JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                   JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
                  WHERE i.inhrelid = c.oid AND c.relispartition),
                (SELECT p.relname::text FROM pg_catalog.pg_inherits i
                   JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                  WHERE i.inhrelid = c.oid AND c.relispartition),
                (SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM pg_catalog.pg_constraint pk,
                        unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_catalog.pg_attribute a ON a.attnum = k.attnum
                  WHERE pk.conrelid = c.oid AND pk.contype = 'p' AND a.attrelid = c.oid)
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND {SYSTEM_SCHEMA_FILTER}
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                             WHERE d.classid = 'pg_catalog.pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e')
          ORDER BY n.nspname, c.relname"
    );
    let rows = tx.query(sql.as_str(), &[]).map_err(db_error)?;
    let mut tables = Vec::with_capacity(rows.len());
    for row in rows {
        let oid: u32 = row.get(0);
        let parent_schema: Option<String> = row.get(4);
        let parent_name: Option<String> = row.get(5);
        tables.push(Table {
            schema: row.get(1),
            name: row.get(2),
            kind: if row.get::<_, String>(3) == "p" {
                TableKind::Partitioned
            } else {
                TableKind::Ordinary
            },
            partition_of: parent_schema
                .zip(parent_name)
                .map(|(s, n)| QualifiedName::new(s, n)),
            columns: columns(tx, oid)?,
            primary_key: row.get(6),
        });
    }
    Ok(tables)
}

fn columns(tx: &mut postgres::Transaction<'_>, relid: u32) -> Result<Vec<Column>> {
    let rows = tx
        .query(
            "SELECT a.attname::text,
                    pg_catalog.format_type(a.atttypid, a.atttypmod),
                    CASE WHEN t.typcategory = 'A' AND t.typelem <> 0
                         THEN pg_catalog.format_type(t.typelem, a.atttypmod) END,
                    NOT a.attnotnull,
                    CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
                    a.attidentity::text,
                    CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END
               FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
               LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum",
            &[&relid],
        )
        .map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|row| Column {
            name: row.get(0),
            type_name: row.get(1),
            element_type: row.get(2),
            nullable: row.get(3),
            default: row.get::<_, Option<String>>(4).map(|e| normalize_expr(&e)),
            identity: match row.get::<_, String>(5).as_str() {
                "a" => Some(Identity::Always),
                "d" => Some(Identity::ByDefault),
                _ => None,
            },
            generated: row.get::<_, Option<String>>(6).map(|e| normalize_expr(&e)),
        })
        .collect())
}

/// `WHERE` clause for user-defined types of `kind` that no extension owns.
fn type_filter(kind: char) -> String {
    format!(
        "t.typtype = '{kind}' AND {SYSTEM_SCHEMA_FILTER}
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_catalog.pg_type'::regclass
                            AND d.objid = t.oid AND d.deptype = 'e')"
    )
}

fn enums(tx: &mut postgres::Transaction<'_>) -> Result<Vec<EnumType>> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text,
                ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                       WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
           FROM pg_catalog.pg_type t
           JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          WHERE {}
          ORDER BY n.nspname, t.typname",
        type_filter('e')
    );
    let rows = tx.query(sql.as_str(), &[]).map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|row| EnumType {
            schema: row.get(0),
            name: row.get(1),
            labels: row.get(2),
        })
        .collect())
}

fn domains(tx: &mut postgres::Transaction<'_>) -> Result<Vec<DomainType>> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text,
                pg_catalog.format_type(t.typbasetype, t.typtypmod),
                NOT t.typnotnull,
                pg_catalog.pg_get_expr(t.typdefaultbin, 0)
           FROM pg_catalog.pg_type t
           JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          WHERE {}
          ORDER BY n.nspname, t.typname",
        type_filter('d')
    );
    let rows = tx.query(sql.as_str(), &[]).map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|row| DomainType {
            schema: row.get(0),
            name: row.get(1),
            base_type: row.get(2),
            nullable: row.get(3),
            default: row.get::<_, Option<String>>(4).map(|e| normalize_expr(&e)),
        })
        .collect())
}

fn composites(tx: &mut postgres::Transaction<'_>) -> Result<Vec<CompositeType>> {
    let sql = format!(
        "SELECT t.typrelid, n.nspname::text, t.typname::text
           FROM pg_catalog.pg_type t
           JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
           JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
          WHERE c.relkind = 'c' AND {}
          ORDER BY n.nspname, t.typname",
        type_filter('c')
    );
    let rows = tx.query(sql.as_str(), &[]).map_err(db_error)?;
    let mut composites = Vec::with_capacity(rows.len());
    for row in rows {
        let relid: u32 = row.get(0);
        let attributes = tx
            .query(
                "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod)
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
                  ORDER BY a.attnum",
                &[&relid],
            )
            .map_err(db_error)?
            .iter()
            .map(|a| Attribute {
                name: a.get(0),
                type_name: a.get(1),
            })
            .collect();
        composites.push(CompositeType {
            schema: row.get(1),
            name: row.get(2),
            attributes,
        });
    }
    Ok(composites)
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_never_reach_error_messages() {
        assert_eq!(
            redact_password("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact_password("postgres://app@db/x"),
            "postgres://app@db/x"
        );
    }
}
