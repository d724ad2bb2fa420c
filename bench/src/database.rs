//! The benchmark database: created fresh on the server, every variant installed, dropped
//! at the end (by [`TestDb`]'s `Drop`), never touching any other database.

use crate::fixture;
use crate::install::{floor, generic, hstore, ours, statement};
use crate::model::Variant;
use audit_tests::{TestDb, describe};
use postgres::Client;

/// The throw-away database with its variants installed.
pub struct Database {
    db: TestDb,
    client: Client,
    table_rows: u64,
    checkpoint: bool,
    /// Why our generated SQL cannot be measured, if it cannot.
    ours_missing: Option<String>,
    /// The highest id of the populated transaction rows of each variant, once
    /// [`Database::populate_history`] ran: resets keep those rows.
    populated: Vec<(Variant, i64)>,
}

/// A database error with the server's message.
pub fn db_err(e: postgres::Error) -> String {
    describe(&e)
}

impl Database {
    /// Creates the database, the seeded table copies, and every variant's auditing.
    /// `checkpoint`: whether each reset ends with a `CHECKPOINT` (off in quick mode,
    /// where it would cost more than the measurements). `synchronous_commit`: whether
    /// the database keeps the server's setting (otherwise it is off for this database).
    pub fn create(
        table_rows: u64,
        checkpoint: bool,
        synchronous_commit: bool,
    ) -> Result<Self, String> {
        let db = TestDb::new("bench");
        if !synchronous_commit {
            // A database-level setting: every later connection (pgbench's too) has it,
            // and it goes away with the database.
            db.client()
                .batch_execute(&format!(
                    "ALTER DATABASE {} SET synchronous_commit = off",
                    db.name()
                ))
                .map_err(db_err)?;
        }
        let mut client = db.client();
        fixture::create(&mut client, table_rows).map_err(db_err)?;
        ours::install(&mut client)?;
        let ours_missing = ours::check(&mut client).err();
        generic::install(&mut client).map_err(db_err)?;
        hstore::install(&mut client).map_err(db_err)?;
        statement::install(&mut client).map_err(db_err)?;
        floor::install(&mut client).map_err(db_err)?;
        let mut database = Self {
            db,
            client,
            table_rows,
            checkpoint,
            ours_missing,
            populated: Vec::new(),
        };
        database.verify_recording()?;
        Ok(database)
    }

    /// The connection URL (for pgbench).
    pub fn url(&self) -> &str {
        self.db.url()
    }

    /// The database name.
    pub fn name(&self) -> &str {
        self.db.name()
    }

    /// The harness's own connection.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Why our variant is not measured (`None` when it is).
    pub fn ours_missing(&self) -> Option<&str> {
        self.ours_missing.as_deref()
    }

    /// `variants` without the ones that cannot run in this build.
    pub fn available(&self, variants: &[Variant]) -> Vec<Variant> {
        variants
            .iter()
            .copied()
            .filter(|v| *v != Variant::Ours || self.ours_missing.is_none())
            .collect()
    }

    /// Restores a variant's table and empties its audit tables (in the populated state,
    /// all but the populated transaction rows).
    pub fn reset(&mut self, variant: Variant) -> Result<(), String> {
        let kept = self
            .populated
            .iter()
            .find(|(v, _)| *v == variant)
            .map(|(_, id)| *id);
        fixture::reset(
            &mut self.client,
            variant,
            ours::SCHEMA,
            self.table_rows,
            self.checkpoint,
            kept,
        )
        .map_err(db_err)
    }

    /// From now on, every variant's transaction table starts each measurement with
    /// `rows` rows of earlier transactions (analyzed), instead of empty.
    pub fn populate_history(&mut self, rows: u64) -> Result<(), String> {
        for variant in Variant::SINGLE_ROW {
            if let Some(max) =
                fixture::populate_transactions(&mut self.client, variant, ours::SCHEMA, rows)
                    .map_err(db_err)?
            {
                self.populated.push((variant, max));
            }
        }
        Ok(())
    }

    /// Back to empty transaction tables at every reset.
    pub fn forget_history(&mut self) -> Result<(), String> {
        for (variant, _) in std::mem::take(&mut self.populated) {
            self.reset(variant)?;
        }
        Ok(())
    }

    /// Activity rows (for the hstore trigger: log rows) a variant recorded since its last
    /// reset, and how many of them are linked to a `transaction` row (meaningful where
    /// [`Variant::links_transactions`]). `None` for no auditing.
    pub fn recorded(&mut self, variant: Variant) -> Result<Option<(i64, i64)>, String> {
        recorded(&mut self.client, variant)
    }

    /// One insert, update and delete through each audited variant must leave three
    /// activity rows: a variant that records nothing would otherwise look fast.
    fn verify_recording(&mut self) -> Result<(), String> {
        for variant in self.available(&[
            Variant::Ours,
            Variant::Generic,
            Variant::Hstore,
            Variant::Statement,
        ]) {
            self.reset(variant)?;
            let table = fixture::table_of(variant);
            self.client
                .batch_execute(&format!(
                    "INSERT INTO {table} (title, sku, quantity, price, in_stock, created_at, attributes)
                     VALUES ('check', 'CHECK', 1, 1, true, now(), '{{}}');
                     UPDATE {table} SET quantity = quantity + 1 WHERE id = 1;
                     DELETE FROM {table} WHERE id = 2;"
                ))
                .map_err(db_err)?;
            let recorded = self.recorded(variant)?.map_or(0, |(rows, _)| rows);
            if recorded != 3 {
                return Err(format!(
                    "{}: 3 changes recorded {recorded} activity rows",
                    variant.label()
                ));
            }
        }
        Ok(())
    }
}

/// Activity rows a variant recorded since its last reset, and how many of them are
/// linked to a `transaction` row, read on `client`. `None` for no auditing.
///
/// The hstore trigger's log has a `transaction_id` too, but it is the xid, not a link,
/// so it is always set: [`Variant::links_transactions`] says whether the count means
/// anything.
pub fn recorded(client: &mut Client, variant: Variant) -> Result<Option<(i64, i64)>, String> {
    let Some(activity) = fixture::log_table_of(variant, ours::SCHEMA) else {
        return Ok(None);
    };
    let row = client
        .query_one(
            &format!("SELECT count(*), count(transaction_id) FROM {activity}"),
            &[],
        )
        .map_err(db_err)?;
    Ok(Some((row.get(0), row.get(1))))
}
