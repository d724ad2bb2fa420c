//! Reliability of the audit trail under load and faults (issue #8).
//!
//! Every test here keeps its own model of the audited rows: each worker owns a disjoint
//! range of keys, so it knows exactly what each of its committed transactions changed.
//! At the end the whole `activity` and `transaction` tables are compared with that model
//! transaction by transaction (grouped on `native_transaction_id`), as multisets: no
//! lost row, no extra row, no misattributed row, no orphan `transaction` row. Every
//! transaction that failed or was rolled back must be `aborted` and have left nothing.
//!
//! - `mixed_load_*`: 8 workers run mixed single- and multi-row DML (inserts, updates
//!   that change some columns, none, only an excluded column, or the key, key swaps,
//!   deletes) with contexts applied before, in the middle of or after the changes (or not
//!   at all), rollbacks, savepoints rolled back or released, failing statements and
//!   commits that fail. The run lasts `AUDIT_LOAD_SECONDS` (default 8; the ignored long
//!   variant, 60). `AUDIT_LOAD_SEED` changes the random choices.
//! - `the_checks_report_*`: the comparison is not vacuous.
//! - the fault tests inject one kind of failure each (a terminated backend, a client that
//!   vanishes, a cancelled statement, a deadlock, a serialization failure), check that
//!   the failed transaction left nothing behind, retry the work and check that it is
//!   audited exactly once, with its actor.
//! - `server_crashes_*`: the mixed load on a private cluster of the test's own, brought
//!   down several times at random moments (an immediate shutdown, or a hang followed by
//!   SIGKILL) and restarted on its data, the workers reconnecting each time: every
//!   transaction a client saw committed is there row for row, every other one left
//!   nothing, and one whose COMMIT was in flight is either entirely there or absent
//!   (see "Server crashes"). `AUDIT_CRASHES` sets the number of crashes (default 4;
//!   the ignored long variant, 30).
//! - two ignored tests pin defects these tests found (see "Known defects" at the end).

use audit_runtime::AuditContext;
use audit_tests::{TestDb, audit_spec, connect, describe, install_audit};
use pg_cluster::{Cluster, Crash, Lease};
use postgres::error::SqlState;
use postgres::{Client, GenericClient, IsolationLevel, NoTls};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// The audited schema.

/// Three audited tables: `item` (one-column key, changed and swapped by some updates;
/// deferrable so that a swap passes and a commit can fail), `line` (composite key, one
/// excluded column) and `event_log` (no key: row-level update trigger).
const SCHEMA: &str = "
CREATE TABLE item (
    id int PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE,
    name text NOT NULL,
    qty int NOT NULL CHECK (qty >= 0),
    note text
);
CREATE TABLE line (
    order_id int,
    line_no int,
    product text NOT NULL,
    price bigint,
    secret text,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE event_log (lane int NOT NULL, seq int NOT NULL, message text);
";

/// A statement-level trigger on `item` that fires after the audit triggers (names sort
/// after `audit_*`) and, when `test.slow` is on, reports how many activity rows the
/// transaction has so far and then sleeps: a statement stopped there is stopped after
/// its audit rows were written.
const SLOW_TRIGGER: &str = "
CREATE FUNCTION slow_after_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('test.slow', true) = 'on' THEN
        RAISE NOTICE 'activity rows so far: %', (
            SELECT count(*) FROM audit.activity
             WHERE native_transaction_id = pg_current_xact_id());
        PERFORM pg_sleep(30);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER zz_slow AFTER INSERT OR UPDATE OR DELETE ON item
    FOR EACH STATEMENT EXECUTE FUNCTION slow_after_audit();
";

/// A database with the three tables audited (`line.secret` excluded).
fn reliability_db(label: &str, slow_trigger: bool) -> TestDb {
    let db = TestDb::with_sql(label, SCHEMA);
    audit_the_tables(&db);
    if slow_trigger {
        db.client()
            .batch_execute(SLOW_TRIGGER)
            .unwrap_or_else(|e| panic!("slow trigger: {}", describe(&e)));
    }
    db
}

/// Installs the audit trail of the three tables of [`SCHEMA`] (`line.secret` excluded).
fn audit_the_tables(db: &TestDb) {
    let spec = audit_spec(
        db,
        "text",
        &[
            ("public", "item", &[], false),
            ("public", "line", &["secret"], false),
            ("public", "event_log", &[], false),
        ],
    );
    install_audit(db, &spec);
}

// ---------------------------------------------------------------------------------------
// A small deterministic PRNG (xorshift64*), one per worker.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `0..n` as an i32.
    fn below_i32(&mut self, n: i32) -> i32 {
        (self.next() % n as u64) as i32
    }

    /// True with `percent` % probability.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len() as u64) as usize])
    }

    /// Up to `max` distinct items (at least one when there are any), in random order.
    fn some_of<T: Copy>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let mut pool: Vec<T> = items.to_vec();
        let want = 1 + self.below(max as u64) as usize;
        let mut out = Vec::new();
        while out.len() < want && !pool.is_empty() {
            let i = self.below(pool.len() as u64) as usize;
            out.push(pool.swap_remove(i));
        }
        out
    }
}

/// The base seed: `AUDIT_LOAD_SEED` or a fixed default, so a failing run can be replayed
/// (modulo scheduling).
fn base_seed() -> u64 {
    std::env::var("AUDIT_LOAD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_A0D1)
}

// ---------------------------------------------------------------------------------------
// The model: what each worker's rows hold, and what each committed transaction recorded.

#[derive(Clone, Debug, PartialEq)]
struct Item {
    name: String,
    qty: i32,
    note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct Line {
    product: String,
    price: Option<i64>,
    secret: Option<String>,
}

/// The rows one worker owns. Keys never overlap with another worker's.
#[derive(Clone, Debug)]
struct Lane {
    lane: i32,
    items: BTreeMap<i32, Item>,
    lines: BTreeMap<(i32, i32), Line>,
    events: BTreeMap<i32, Option<String>>,
    next_seq: i32,
}

const ITEM_SLOTS: i32 = 48;
const ORDER_SLOTS: i32 = 4;
const LINE_SLOTS: i32 = 10;
const MAX_EVENTS: usize = 30;

impl Lane {
    fn new(lane: i32) -> Self {
        Self {
            lane,
            items: BTreeMap::new(),
            lines: BTreeMap::new(),
            events: BTreeMap::new(),
            next_seq: 1,
        }
    }

    fn item_base(&self) -> i32 {
        (self.lane + 1) * 100_000
    }

    fn order_base(&self) -> i32 {
        (self.lane + 1) * 1_000
    }

    fn item_ids(&self) -> Vec<i32> {
        self.items.keys().copied().collect()
    }

    fn free_item_ids(&self) -> Vec<i32> {
        (self.item_base()..self.item_base() + ITEM_SLOTS)
            .filter(|id| !self.items.contains_key(id))
            .collect()
    }

    fn line_keys(&self) -> Vec<(i32, i32)> {
        self.lines.keys().copied().collect()
    }

    fn free_line_nos(&self, order: i32) -> Vec<i32> {
        (1..=LINE_SLOTS)
            .filter(|n| !self.lines.contains_key(&(order, *n)))
            .collect()
    }

    fn event_seqs(&self) -> Vec<i32> {
        self.events.keys().copied().collect()
    }
}

/// One expected or recorded activity row.
#[derive(Clone, Debug, PartialEq)]
struct Act {
    table: String,
    verb: String,
    key: Option<Value>,
    old: Option<Value>,
    changed: Option<Value>,
}

impl Act {
    fn insert(table: &str, key: Option<Value>, new: Value) -> Self {
        Self {
            table: table.to_owned(),
            verb: "insert".to_owned(),
            key,
            old: None,
            changed: Some(new),
        }
    }

    fn update(table: &str, key: Option<Value>, old: Value, changed: Map<String, Value>) -> Self {
        Self {
            table: table.to_owned(),
            verb: "update".to_owned(),
            key,
            old: Some(old),
            changed: Some(Value::Object(changed)),
        }
    }

    /// The update of a keyed row from `old` to `new` (JSON rows), if any column changed:
    /// an UPDATE that changes nothing records nothing.
    fn changed(table: &str, key: Value, old: Value, new: &Value) -> Option<Self> {
        let changed = diff(&old, new);
        (!changed.is_empty()).then(|| Self::update(table, Some(key), old, changed))
    }

    fn delete(table: &str, key: Option<Value>, old: Value) -> Self {
        Self {
            table: table.to_owned(),
            verb: "delete".to_owned(),
            key,
            old: Some(old),
            changed: None,
        }
    }
}

fn item_json(id: i32, item: &Item) -> Value {
    json!({"id": id, "name": item.name, "qty": item.qty, "note": item.note})
}

/// `secret` is excluded from the audit: it never appears.
fn line_json((order, no): (i32, i32), line: &Line) -> Value {
    json!({"order_id": order, "line_no": no, "product": line.product, "price": line.price})
}

fn event_json(lane: i32, seq: i32, message: &Option<String>) -> Value {
    json!({"lane": lane, "seq": seq, "message": message})
}

/// The columns of `new` whose values differ from `old`'s.
fn diff(old: &Value, new: &Value) -> Map<String, Value> {
    new.as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| old.get(k.as_str()) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The context a transaction ends with, as its `transaction` row must show it.
#[derive(Clone, Debug, PartialEq)]
struct Ctx {
    actor: String,
    addr: Option<IpAddr>,
    values: Option<Value>,
}

impl Ctx {
    fn of(context: &AuditContext) -> Self {
        let (actor, addr, values) = context.params();
        Self {
            actor: actor.expect("every context here has an actor"),
            addr,
            values,
        }
    }
}

/// What one committed transaction must have left in the audit tables.
#[derive(Debug)]
struct TxRecord {
    label: String,
    xid: Option<u64>,
    context: Option<Ctx>,
    acts: Vec<Act>,
}

/// A context whose actor is `label` (distinct for every transaction), sometimes with an
/// address (IPv4 or IPv6) and extra values.
fn make_context(rng: &mut Rng, label: &str) -> AuditContext {
    let mut context = AuditContext::new().actor_id(label);
    if rng.chance(50) {
        let addr: IpAddr = if rng.chance(50) {
            format!(
                "10.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                rng.below(256)
            )
            .parse()
            .unwrap()
        } else {
            format!("2001:db8::{:x}", rng.below(65536)).parse().unwrap()
        };
        context = context.client_addr(addr);
    }
    if rng.chance(50) {
        context = context.value("request", label).value("n", rng.below(1000));
    }
    context
}

/// Applies `context` through any client (a transaction, a savepoint, or a plain client
/// inside `BEGIN`), with the statement and parameters `AuditContext::apply` sends.
fn apply_context<C: GenericClient>(
    c: &mut C,
    context: &AuditContext,
) -> Result<(), postgres::Error> {
    let (actor, addr, values) = context.params();
    c.execute(context.sql().as_str(), &[&actor, &addr, &values])?;
    Ok(())
}

/// The current transaction id, if one was assigned.
fn current_xid<C: GenericClient>(c: &mut C) -> Result<Option<u64>, postgres::Error> {
    let xid: Option<String> = c
        .query_one("SELECT pg_current_xact_id_if_assigned()::text", &[])?
        .get(0);
    Ok(xid.map(|x| x.parse().unwrap()))
}

/// The current transaction id, assigning one if needed.
fn assigned_xid<C: GenericClient>(c: &mut C) -> Result<u64, postgres::Error> {
    let xid: String = c
        .query_one("SELECT pg_current_xact_id()::text", &[])?
        .get(0);
    Ok(xid.parse().unwrap())
}

// ---------------------------------------------------------------------------------------
// The operations. Each runs one statement, and only when it succeeds updates the lane's
// model and appends the activity rows it must have recorded.

type OpResult = Result<(), postgres::Error>;

fn insert_item<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let Some(id) = rng.pick(&lane.free_item_ids()) else {
        return Ok(());
    };
    let item = Item {
        name: format!("item {id}/{}", rng.below(1000)),
        qty: rng.below_i32(50),
        note: rng.chance(40).then(|| format!("note {}", rng.below(100))),
    };
    c.execute(
        "INSERT INTO item (id, name, qty, note) VALUES ($1, $2, $3, $4)",
        &[&id, &item.name, &item.qty, &item.note],
    )?;
    acts.push(Act::insert("item", Some(json!(id)), item_json(id, &item)));
    lane.items.insert(id, item);
    Ok(())
}

fn insert_items_bulk<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let ids = rng.some_of(&lane.free_item_ids(), 6);
    if ids.is_empty() {
        return Ok(());
    }
    c.execute(
        "INSERT INTO item (id, name, qty, note)
         SELECT i, 'bulk ' || i, i % 7, CASE WHEN i % 2 = 0 THEN NULL ELSE 'odd ' || i END
           FROM unnest($1::int[]) AS i",
        &[&ids],
    )?;
    for id in ids {
        let item = Item {
            name: format!("bulk {id}"),
            qty: id % 7,
            note: (id % 2 != 0).then(|| format!("odd {id}")),
        };
        acts.push(Act::insert("item", Some(json!(id)), item_json(id, &item)));
        lane.items.insert(id, item);
    }
    Ok(())
}

/// Sets every column of one row, each either to a new value or to the one it holds: some
/// of these updates change nothing and must record nothing.
fn update_item<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let Some(id) = rng.pick(&lane.item_ids()) else {
        return Ok(());
    };
    let old = lane.items[&id].clone();
    let mut new = old.clone();
    if rng.chance(40) {
        new.name = format!("renamed {id}/{}", rng.below(1000));
    }
    if rng.chance(40) {
        new.qty = rng.below_i32(50);
    }
    if rng.chance(30) {
        new.note = if rng.chance(30) {
            None
        } else {
            Some(format!("note {}", rng.below(100)))
        };
    }
    c.execute(
        "UPDATE item SET name = $2, qty = $3, note = $4 WHERE id = $1",
        &[&id, &new.name, &new.qty, &new.note],
    )?;
    acts.extend(Act::changed(
        "item",
        json!(id),
        item_json(id, &old),
        &item_json(id, &new),
    ));
    lane.items.insert(id, new);
    Ok(())
}

/// Multi-row updates: an increment (zero for some: no change at all), a constant (rows
/// that already hold it do not change), or a pure no-op.
fn update_items_bulk<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let ids = rng.some_of(&lane.item_ids(), 8);
    if ids.is_empty() {
        return Ok(());
    }
    let variant = rng.below(3);
    let value = rng.below_i32(4);
    match variant {
        0 => c.execute(
            "UPDATE item SET qty = qty + $2 WHERE id = ANY($1)",
            &[&ids, &value],
        )?,
        1 => c.execute(
            "UPDATE item SET qty = $2 WHERE id = ANY($1)",
            &[&ids, &value],
        )?,
        _ => c.execute(
            "UPDATE item SET name = name, note = note WHERE id = ANY($1)",
            &[&ids],
        )?,
    };
    for id in ids {
        let old = lane.items[&id].clone();
        let mut new = old.clone();
        match variant {
            0 => new.qty += value,
            1 => new.qty = value,
            _ => {}
        }
        acts.extend(Act::changed(
            "item",
            json!(id),
            item_json(id, &old),
            &item_json(id, &new),
        ));
        lane.items.insert(id, new);
    }
    Ok(())
}

/// Moves a row to a free key, sometimes renaming it in the same statement.
fn change_item_key<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let (Some(from), Some(to)) = (rng.pick(&lane.item_ids()), rng.pick(&lane.free_item_ids()))
    else {
        return Ok(());
    };
    let old = lane.items[&from].clone();
    let mut new = old.clone();
    if rng.chance(50) {
        new.name = format!("moved {from}->{to}");
    }
    c.execute(
        "UPDATE item SET id = $2, name = $3 WHERE id = $1",
        &[&from, &to, &new.name],
    )?;
    acts.extend(Act::changed(
        "item",
        json!(to),
        item_json(from, &old),
        &item_json(to, &new),
    ));
    lane.items.remove(&from);
    lane.items.insert(to, new);
    Ok(())
}

/// Swaps the keys of two rows in one statement.
fn swap_item_keys<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let ids = lane.item_ids();
    if ids.len() < 2 {
        return Ok(());
    }
    let a = ids[rng.below(ids.len() as u64) as usize];
    let others: Vec<i32> = ids.into_iter().filter(|i| *i != a).collect();
    let b = rng.pick(&others).unwrap();
    c.execute(
        "UPDATE item SET id = CASE WHEN id = $1 THEN $2 ELSE $1 END WHERE id = $1 OR id = $2",
        &[&a, &b],
    )?;
    let (row_a, row_b) = (lane.items[&a].clone(), lane.items[&b].clone());
    for (from, to, row) in [(a, b, &row_a), (b, a, &row_b)] {
        acts.extend(Act::changed(
            "item",
            json!(to),
            item_json(from, row),
            &item_json(to, row),
        ));
    }
    lane.items.insert(a, row_b);
    lane.items.insert(b, row_a);
    Ok(())
}

fn delete_items<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let ids = rng.some_of(&lane.item_ids(), 3);
    if ids.is_empty() {
        return Ok(());
    }
    c.execute("DELETE FROM item WHERE id = ANY($1)", &[&ids])?;
    for id in ids {
        let old = lane.items.remove(&id).unwrap();
        acts.push(Act::delete("item", Some(json!(id)), item_json(id, &old)));
    }
    Ok(())
}

fn insert_lines<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let order = lane.order_base() + rng.below_i32(ORDER_SLOTS);
    let nos = rng.some_of(&lane.free_line_nos(order), 4);
    if nos.is_empty() {
        return Ok(());
    }
    c.execute(
        "INSERT INTO line (order_id, line_no, product, price, secret)
         SELECT $1, n, 'product ' || n, CASE WHEN n % 3 = 0 THEN NULL ELSE n * 100 END, 'secret ' || n
           FROM unnest($2::int[]) AS n",
        &[&order, &nos],
    )?;
    for no in nos {
        let line = Line {
            product: format!("product {no}"),
            price: (no % 3 != 0).then_some(i64::from(no) * 100),
            secret: Some(format!("secret {no}")),
        };
        let key = (order, no);
        acts.push(Act::insert(
            "line",
            Some(json!([order, no])),
            line_json(key, &line),
        ));
        lane.lines.insert(key, line);
    }
    Ok(())
}

/// Updates one line: the excluded column alone (records nothing), the product with the
/// excluded column (records the product only, and nothing when it is unchanged), or the
/// price (to NULL sometimes).
fn update_line<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let Some(key) = rng.pick(&lane.line_keys()) else {
        return Ok(());
    };
    let old = lane.lines[&key].clone();
    let mut new = old.clone();
    match rng.below(3) {
        0 => {
            new.secret = Some(format!("secret {}", rng.below(1000)));
            c.execute(
                "UPDATE line SET secret = $3 WHERE order_id = $1 AND line_no = $2",
                &[&key.0, &key.1, &new.secret],
            )?;
        }
        1 => {
            if rng.chance(60) {
                new.product = format!("product {}", rng.below(20));
            }
            new.secret = None;
            c.execute(
                "UPDATE line SET product = $3, secret = $4 WHERE order_id = $1 AND line_no = $2",
                &[&key.0, &key.1, &new.product, &new.secret],
            )?;
        }
        _ => {
            new.price = rng.chance(70).then(|| rng.below(5) as i64 * 100);
            c.execute(
                "UPDATE line SET price = $3 WHERE order_id = $1 AND line_no = $2",
                &[&key.0, &key.1, &new.price],
            )?;
        }
    }
    acts.extend(Act::changed(
        "line",
        json!([key.0, key.1]),
        line_json(key, &old),
        &line_json(key, &new),
    ));
    lane.lines.insert(key, new);
    Ok(())
}

/// Changes the second part of a composite key.
fn change_line_key<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let Some(from) = rng.pick(&lane.line_keys()) else {
        return Ok(());
    };
    let Some(no) = rng.pick(&lane.free_line_nos(from.0)) else {
        return Ok(());
    };
    let to = (from.0, no);
    c.execute(
        "UPDATE line SET line_no = $3 WHERE order_id = $1 AND line_no = $2",
        &[&from.0, &from.1, &no],
    )?;
    let line = lane.lines.remove(&from).unwrap();
    acts.extend(Act::changed(
        "line",
        json!([to.0, to.1]),
        line_json(from, &line),
        &line_json(to, &line),
    ));
    lane.lines.insert(to, line);
    Ok(())
}

/// All lines of one order: a price increment for every line, or a delete.
fn bulk_order<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let order = lane.order_base() + rng.below_i32(ORDER_SLOTS);
    let keys: Vec<(i32, i32)> = lane
        .lines
        .range((order, 0)..(order + 1, 0))
        .map(|(k, _)| *k)
        .collect();
    if rng.chance(70) {
        c.execute(
            "UPDATE line SET price = coalesce(price, 0) + 1, secret = 'bumped' WHERE order_id = $1",
            &[&order],
        )?;
        for key in keys {
            let old = lane.lines[&key].clone();
            let new = Line {
                price: Some(old.price.unwrap_or(0) + 1),
                secret: Some("bumped".to_owned()),
                ..old.clone()
            };
            acts.extend(Act::changed(
                "line",
                json!([key.0, key.1]),
                line_json(key, &old),
                &line_json(key, &new),
            ));
            lane.lines.insert(key, new);
        }
    } else {
        c.execute("DELETE FROM line WHERE order_id = $1", &[&order])?;
        for key in keys {
            let old = lane.lines.remove(&key).unwrap();
            acts.push(Act::delete(
                "line",
                Some(json!([key.0, key.1])),
                line_json(key, &old),
            ));
        }
    }
    Ok(())
}

fn insert_events<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    if lane.events.len() >= MAX_EVENTS {
        return Ok(());
    }
    let first = lane.next_seq;
    let last = first + rng.below_i32(5);
    c.execute(
        "INSERT INTO event_log (lane, seq, message)
         SELECT $1, s, CASE WHEN s % 4 = 0 THEN NULL ELSE 'event ' || s END
           FROM generate_series($2::int, $3::int) AS s",
        &[&lane.lane, &first, &last],
    )?;
    for seq in first..=last {
        let message = (seq % 4 != 0).then(|| format!("event {seq}"));
        acts.push(Act::insert(
            "event_log",
            None,
            event_json(lane.lane, seq, &message),
        ));
        lane.events.insert(seq, message);
    }
    lane.next_seq = last + 1;
    Ok(())
}

/// Sets the message of some events; rows that already hold it record nothing (the
/// row-level trigger of a table without a key).
fn update_events<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let seqs = rng.some_of(&lane.event_seqs(), 4);
    if seqs.is_empty() {
        return Ok(());
    }
    let message = match rng.below(3) {
        0 => None,
        1 => lane.events[&seqs[0]].clone(),
        _ => Some(format!("edited {}", rng.below(3))),
    };
    c.execute(
        "UPDATE event_log SET message = $3 WHERE lane = $1 AND seq = ANY($2)",
        &[&lane.lane, &seqs, &message],
    )?;
    for seq in seqs {
        let old = lane.events[&seq].clone();
        if old != message {
            let mut changed = Map::new();
            changed.insert("message".to_owned(), json!(message));
            acts.push(Act::update(
                "event_log",
                None,
                event_json(lane.lane, seq, &old),
                changed,
            ));
        }
        lane.events.insert(seq, message.clone());
    }
    Ok(())
}

fn delete_events<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    let seqs = rng.some_of(&lane.event_seqs(), 4);
    if seqs.is_empty() {
        return Ok(());
    }
    c.execute(
        "DELETE FROM event_log WHERE lane = $1 AND seq = ANY($2)",
        &[&lane.lane, &seqs],
    )?;
    for seq in seqs {
        let old = lane.events.remove(&seq).unwrap();
        acts.push(Act::delete(
            "event_log",
            None,
            event_json(lane.lane, seq, &old),
        ));
    }
    Ok(())
}

/// One random operation that succeeds on a healthy connection.
fn random_op<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
) -> OpResult {
    match rng.below(20) {
        0..=2 => insert_item(c, lane, rng, acts),
        3..=4 => insert_items_bulk(c, lane, rng, acts),
        5..=6 => update_item(c, lane, rng, acts),
        7 => update_items_bulk(c, lane, rng, acts),
        8 => change_item_key(c, lane, rng, acts),
        9 => swap_item_keys(c, lane, rng, acts),
        10 => delete_items(c, lane, rng, acts),
        11..=12 => insert_lines(c, lane, rng, acts),
        13 => update_line(c, lane, rng, acts),
        14 => change_line_key(c, lane, rng, acts),
        15 => bulk_order(c, lane, rng, acts),
        16..=17 => insert_events(c, lane, rng, acts),
        18 => update_events(c, lane, rng, acts),
        _ => delete_events(c, lane, rng, acts),
    }
}

/// `count` random operations; any error is returned (the caller decides whether it was
/// expected).
fn random_work<C: GenericClient>(
    c: &mut C,
    lane: &mut Lane,
    rng: &mut Rng,
    acts: &mut Vec<Act>,
    count: u64,
) -> OpResult {
    for _ in 0..count {
        random_op(c, lane, rng, acts)?;
    }
    Ok(())
}

/// A statement that fails, in one of three ways: audited changes followed by an error in
/// the same simple-query batch (the audit rows exist when it fails), a unique violation
/// (fails before the triggers), a check violation.
fn failing_statement<C: GenericClient>(c: &mut C, lane: &Lane, rng: &mut Rng) -> postgres::Error {
    let result = match (rng.below(3), rng.pick(&lane.item_ids())) {
        (1, Some(id)) => c
            .execute(
                "INSERT INTO item (id, name, qty) VALUES ($1, 'duplicate', 0)",
                &[&id],
            )
            .map(|_| ()),
        (2, Some(id)) => c
            .execute("UPDATE item SET qty = -1 WHERE id = $1", &[&id])
            .map(|_| ()),
        _ => c.batch_execute(&format!(
            "INSERT INTO event_log (lane, seq, message) VALUES ({lane}, -1, 'doomed');
             UPDATE line SET price = 0 WHERE order_id = {order};
             SELECT 1 / 0;",
            lane = lane.lane,
            order = lane.order_base(),
        )),
    };
    result.expect_err("this statement must fail")
}

// ---------------------------------------------------------------------------------------
// Checking the audit tables against the model.

/// Rows of the audit tables, read back once.
struct Recorded {
    /// Activities per native transaction id: (activity, transaction_id).
    by_xid: HashMap<u64, Vec<(Act, Option<i64>)>>,
    /// Transaction rows: id -> (xid, context).
    transactions: HashMap<i64, (u64, Ctx)>,
    activity_rows: usize,
}

fn read_recorded<C: GenericClient>(c: &mut C) -> Recorded {
    let mut by_xid: HashMap<u64, Vec<(Act, Option<i64>)>> = HashMap::new();
    let rows = c
        .query(
            "SELECT native_transaction_id::text, table_name, verb, object_id, old_data,
                    changed_data, transaction_id,
                    schema_name = 'public' AND relid = to_regclass(table_name)::oid
               FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap();
    let activity_rows = rows.len();
    for r in &rows {
        let xid: String = r.get(0);
        assert!(
            r.get::<_, bool>(7),
            "schema_name/relid of {:?}",
            r.get::<_, String>(1)
        );
        let act = Act {
            table: r.get(1),
            verb: r.get(2),
            key: r.get(3),
            old: r.get(4),
            changed: r.get(5),
        };
        by_xid
            .entry(xid.parse().unwrap())
            .or_default()
            .push((act, r.get(6)));
    }
    let transactions = c
        .query(
            "SELECT id, native_transaction_id::text, actor_id, client_addr, context
               FROM audit.transaction",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let xid: String = r.get(1);
            let values: Option<Value> = r.get(4);
            let ctx = Ctx {
                actor: r.get(2),
                addr: r.get(3),
                values,
            };
            (r.get(0), (xid.parse().unwrap(), ctx))
        })
        .collect();
    Recorded {
        by_xid,
        transactions,
        activity_rows,
    }
}

/// Model-independent invariants of the audit tables: no transaction row without
/// activity, no activity pointing at a missing row or at another transaction's row, at
/// most one transaction row per native transaction, no leftover key-change notes.
fn assert_no_orphans(c: &mut Client) {
    let checks = [
        (
            "transaction rows without activity",
            "SELECT count(*) FROM audit.transaction t
              WHERE NOT EXISTS (SELECT FROM audit.activity a WHERE a.transaction_id = t.id)",
        ),
        (
            "activities pointing at no transaction row",
            "SELECT count(*) FROM audit.activity a
              WHERE a.transaction_id IS NOT NULL
                AND NOT EXISTS (SELECT FROM audit.transaction t WHERE t.id = a.transaction_id)",
        ),
        (
            "activities pointing at another transaction's row",
            "SELECT count(*) FROM audit.activity a JOIN audit.transaction t ON t.id = a.transaction_id
              WHERE t.native_transaction_id <> a.native_transaction_id",
        ),
        (
            "native transactions with more than one transaction row",
            "SELECT count(*) FROM (SELECT native_transaction_id FROM audit.transaction
                                    GROUP BY 1 HAVING count(*) > 1) d",
        ),
        (
            "native transactions whose activities are partly linked",
            "SELECT count(*) FROM (SELECT native_transaction_id FROM audit.activity GROUP BY 1
                                   HAVING count(DISTINCT transaction_id) > 1
                                       OR (count(transaction_id) > 0 AND count(transaction_id) < count(*))) d",
        ),
        ("key-change notes left over", "SELECT count(*) FROM audit.key_change"),
    ];
    for (what, sql) in checks {
        let n: i64 = c.query_one(sql, &[]).unwrap().get(0);
        assert_eq!(n, 0, "{what}: {n}");
    }
}

/// Asserts that transaction `xid` aborted and left no activity and no transaction row.
fn assert_left_nothing(c: &mut Client, xid: u64, what: &str) {
    let row = c
        .query_one(
            "SELECT pg_xact_status($1::text::xid8),
                    (SELECT count(*) FROM audit.activity WHERE native_transaction_id = $1::text::xid8),
                    (SELECT count(*) FROM audit.transaction WHERE native_transaction_id = $1::text::xid8)",
            &[&xid.to_string()],
        )
        .unwrap();
    let status: Option<String> = row.get(0);
    assert_eq!(
        status.as_deref(),
        Some("aborted"),
        "{what}: transaction {xid}"
    );
    assert_eq!(
        row.get::<_, i64>(1),
        0,
        "{what}: activity rows of transaction {xid}"
    );
    assert_eq!(
        row.get::<_, i64>(2),
        0,
        "{what}: transaction rows of transaction {xid}"
    );
}

/// [`assert_left_nothing`] for many transactions at once.
fn assert_all_left_nothing(c: &mut Client, xids: &[u64]) {
    let xids: Vec<String> = xids.iter().map(u64::to_string).collect();
    let bad: Vec<(String, Option<String>, i64, i64)> = c
        .query(
            "SELECT x::text, pg_xact_status(x), coalesce(a.n, 0), coalesce(t.n, 0)
               FROM unnest($1::text[]::xid8[]) AS x
               LEFT JOIN (SELECT native_transaction_id, count(*) AS n
                            FROM audit.activity GROUP BY 1) AS a
                      ON a.native_transaction_id = x
               LEFT JOIN (SELECT native_transaction_id, count(*) AS n
                            FROM audit.transaction GROUP BY 1) AS t
                      ON t.native_transaction_id = x",
            &[&xids],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let row: (String, Option<String>, i64, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
            row
        })
        .filter(|(_, status, activities, transactions)| {
            status.as_deref() != Some("aborted") || *activities != 0 || *transactions != 0
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} rolled-back or failed transactions are not aborted or left rows \
         (xid, status, activity rows, transaction rows): {:?}",
        bad.len(),
        xids.len(),
        &bad[..bad.len().min(10)]
    );
}

/// What [`verify`] checked.
#[derive(Debug, Default)]
struct Checked {
    transactions: usize,
    with_context: usize,
    activity_rows: usize,
}

/// Compares the audit tables with `records`, the committed transactions, row for row:
/// every recorded activity belongs to one record, every record's activities are there
/// (as a multiset), linked to one transaction row with the record's context exactly when
/// it has one. Also checks [`assert_no_orphans`].
fn verify(c: &mut Client, records: &[TxRecord]) -> Checked {
    assert_no_orphans(c);
    match compare(c, records) {
        Ok(checked) => checked,
        Err(errors) => panic!(
            "{} discrepancies between the audit tables and the model of {} transactions; \
             the first ones:\n{}",
            errors.len(),
            records.len(),
            errors
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        ),
    }
}

/// The comparison of [`verify`]: what was checked, or every discrepancy found.
fn compare<C: GenericClient>(c: &mut C, records: &[TxRecord]) -> Result<Checked, Vec<String>> {
    let mut recorded = read_recorded(c);
    let mut errors: Vec<String> = Vec::new();
    let mut checked = Checked::default();
    let mut seen_xids = std::collections::HashSet::new();
    let mut transactions_by_xid: HashMap<u64, Vec<(i64, Ctx)>> = HashMap::new();
    for (id, (xid, ctx)) in &recorded.transactions {
        transactions_by_xid
            .entry(*xid)
            .or_default()
            .push((*id, ctx.clone()));
    }
    let mut used_transaction_rows = std::collections::HashSet::new();
    for record in records {
        checked.transactions += 1;
        let Some(xid) = record.xid else {
            if !record.acts.is_empty() {
                errors.push(format!(
                    "{}: changes without a transaction id",
                    record.label
                ));
            }
            continue;
        };
        if !seen_xids.insert(xid) {
            errors.push(format!("{}: transaction id {xid} used twice", record.label));
        }
        let got = recorded.by_xid.remove(&xid).unwrap_or_default();
        checked.activity_rows += got.len();
        // Multiset comparison.
        let mut missing: Vec<&Act> = Vec::new();
        let mut extra: Vec<&Act> = got.iter().map(|(a, _)| a).collect();
        for want in &record.acts {
            match extra.iter().position(|a| *a == want) {
                Some(i) => {
                    extra.swap_remove(i);
                }
                None => missing.push(want),
            }
        }
        if !missing.is_empty() || !extra.is_empty() {
            errors.push(format!(
                "{} (xid {xid}): missing {missing:#?}\nextra {extra:#?}",
                record.label
            ));
        }
        let links: std::collections::BTreeSet<Option<i64>> = got.iter().map(|(_, t)| *t).collect();
        let rows_of_xid: &[(i64, Ctx)] = transactions_by_xid
            .get(&xid)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match (&record.context, record.acts.is_empty()) {
            (Some(want), false) => {
                checked.with_context += 1;
                match rows_of_xid {
                    [(id, ctx)] => {
                        used_transaction_rows.insert(*id);
                        if ctx != want {
                            errors.push(format!(
                                "{} (xid {xid}): transaction row {ctx:?}, expected {want:?}",
                                record.label
                            ));
                        }
                        if links != [Some(*id)].into_iter().collect() {
                            errors.push(format!(
                                "{} (xid {xid}): activities linked to {links:?}, expected {id}",
                                record.label
                            ));
                        }
                    }
                    other => errors.push(format!(
                        "{} (xid {xid}): {} transaction rows, expected one for {want:?}",
                        record.label,
                        other.len()
                    )),
                }
            }
            _ => {
                if !rows_of_xid.is_empty() {
                    errors.push(format!(
                        "{} (xid {xid}): unexpected transaction rows {rows_of_xid:?}",
                        record.label
                    ));
                }
                if links.iter().any(Option::is_some) {
                    errors.push(format!(
                        "{} (xid {xid}): activities linked to {links:?} without a context",
                        record.label
                    ));
                }
            }
        }
    }
    for (xid, rows) in &recorded.by_xid {
        errors.push(format!(
            "{} activity rows of transaction {xid}, which no committed work explains: {:?}",
            rows.len(),
            rows.iter().take(3).collect::<Vec<_>>()
        ));
    }
    for (id, (xid, ctx)) in &recorded.transactions {
        if !used_transaction_rows.contains(id) {
            errors.push(format!(
                "transaction row {id} (xid {xid}, {ctx:?}) not expected"
            ));
        }
    }
    if checked.activity_rows != recorded.activity_rows {
        errors.push(format!(
            "{} of {} activity rows checked",
            checked.activity_rows, recorded.activity_rows
        ));
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

/// The comparison is not vacuous: each kind of damage to the audit tables, made in a
/// transaction that is then rolled back, is reported. Returns how many were tried.
fn assert_damage_is_detected(c: &mut Client, records: &[TxRecord]) -> usize {
    let damages = [
        (
            "a lost activity row",
            "DELETE FROM audit.activity WHERE id = (SELECT max(id) FROM audit.activity)",
        ),
        (
            "a duplicated activity row",
            "INSERT INTO audit.activity (schema_name, table_name, relid, issued_at,
                 native_transaction_id, verb, object_id, old_data, changed_data, transaction_id)
             SELECT schema_name, table_name, relid, issued_at, native_transaction_id, verb,
                    object_id, old_data, changed_data, transaction_id
               FROM audit.activity WHERE id = (SELECT min(id) FROM audit.activity)",
        ),
        (
            "a wrong changed value",
            "UPDATE audit.activity SET changed_data = changed_data || '{\"qty\": -5}'
              WHERE id = (SELECT min(id) FROM audit.activity WHERE verb = 'update')",
        ),
        (
            "a wrong old row",
            "UPDATE audit.activity SET old_data = old_data || '{\"damaged\": true}'
              WHERE id = (SELECT max(id) FROM audit.activity WHERE old_data IS NOT NULL)",
        ),
        (
            "an activity attributed to another transaction's actor",
            "UPDATE audit.activity SET transaction_id = (SELECT max(id) FROM audit.transaction)
              WHERE id = (SELECT min(id) FROM audit.activity
                           WHERE transaction_id < (SELECT max(id) FROM audit.transaction))",
        ),
        (
            "an activity that lost its actor",
            "UPDATE audit.activity SET transaction_id = NULL
              WHERE id = (SELECT max(id) FROM audit.activity WHERE transaction_id IS NOT NULL)",
        ),
        (
            "a changed actor",
            "UPDATE audit.transaction SET actor_id = actor_id || '?'
              WHERE id = (SELECT min(id) FROM audit.transaction)",
        ),
    ];
    for (what, sql) in damages {
        let mut tx = c.transaction().unwrap();
        let n = tx
            .execute(sql, &[])
            .unwrap_or_else(|e| panic!("{what}: {}", describe(&e)));
        assert_eq!(n, 1, "{what}: rows damaged");
        assert!(compare(&mut tx, records).is_err(), "{what} is not detected");
        tx.rollback().unwrap();
    }
    damages.len()
}

// ---------------------------------------------------------------------------------------
// Load.

#[derive(Debug, Default, Clone)]
struct LoadStats {
    committed: u64,
    committed_with_context: u64,
    committed_without_changes: u64,
    rolled_back: u64,
    failed_statements: u64,
    failed_commits: u64,
    savepoints_rolled_back: u64,
    savepoints_released: u64,
    failed_in_savepoint: u64,
    contexts_applied: u64,
}

impl LoadStats {
    fn add(&mut self, o: &LoadStats) {
        self.committed += o.committed;
        self.committed_with_context += o.committed_with_context;
        self.committed_without_changes += o.committed_without_changes;
        self.rolled_back += o.rolled_back;
        self.failed_statements += o.failed_statements;
        self.failed_commits += o.failed_commits;
        self.savepoints_rolled_back += o.savepoints_rolled_back;
        self.savepoints_released += o.savepoints_released;
        self.failed_in_savepoint += o.failed_in_savepoint;
        self.contexts_applied += o.contexts_applied;
    }
}

/// Where a transaction's context is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Placement {
    Before,
    Middle,
    After,
    None,
}

/// One worker: transactions until `deadline`, and at least `at_least` of them. Returns
/// its committed transactions and the ids of transactions that must have left nothing.
fn load_worker(
    url: &str,
    lane_no: i32,
    (deadline, at_least): (Instant, u64),
    seed: u64,
) -> (Vec<TxRecord>, Vec<u64>, LoadStats) {
    let mut client = connect(url);
    let mut rng = Rng::new(seed);
    let mut lane = Lane::new(lane_no);
    let mut records = Vec::new();
    let mut discarded = Vec::new();
    let mut stats = LoadStats::default();
    let mut n = 0u64;
    while Instant::now() < deadline || n < at_least {
        n += 1;
        let label = format!("lane {lane_no} tx {n}");
        let snapshot = lane.clone();
        let mut acts: Vec<Act> = Vec::new();
        let mut context: Option<AuditContext> = None;
        let placement = match rng.below(4) {
            0 => Placement::Before,
            1 => Placement::Middle,
            2 => Placement::After,
            _ => Placement::None,
        };
        let mut tx = client.transaction().unwrap();
        if placement == Placement::Before || (placement != Placement::None && rng.chance(10)) {
            // Sometimes a first context that a later one replaces.
            let first = make_context(&mut rng, &format!("{label} (first)"));
            first.apply(&mut tx).unwrap();
            stats.contexts_applied += 1;
            context = Some(first);
        }
        let steps = 1 + rng.below(6);
        let mut aborted = false;
        for step in 0..steps {
            if placement == Placement::Middle && step == steps / 2 {
                let c = make_context(&mut rng, &label);
                c.apply(&mut tx).unwrap();
                stats.contexts_applied += 1;
                context = Some(c);
            }
            if rng.chance(12) {
                // A savepoint: released or rolled back, sometimes with its own context,
                // sometimes ended by a failing statement.
                let saved = (lane.clone(), acts.len(), context.clone());
                let mut sp = tx.savepoint("work").unwrap();
                if rng.chance(30) {
                    let c = make_context(&mut rng, &format!("{label} (savepoint)"));
                    c.apply(&mut sp).unwrap();
                    stats.contexts_applied += 1;
                    context = Some(c);
                }
                let inner = 1 + rng.below(3);
                random_work(&mut sp, &mut lane, &mut rng, &mut acts, inner)
                    .unwrap_or_else(|e| panic!("{label}: {}", describe(&e)));
                let failed = rng.chance(25);
                if failed {
                    failing_statement(&mut sp, &lane, &mut rng);
                    stats.failed_in_savepoint += 1;
                }
                if failed || rng.chance(50) {
                    drop(sp);
                    let (saved_lane, saved_acts, saved_context) = saved;
                    lane = saved_lane;
                    acts.truncate(saved_acts);
                    context = saved_context;
                    stats.savepoints_rolled_back += 1;
                } else {
                    sp.commit().unwrap();
                    stats.savepoints_released += 1;
                }
            } else if rng.chance(4) {
                if let Some(xid) = current_xid(&mut tx).unwrap() {
                    discarded.push(xid);
                }
                failing_statement(&mut tx, &lane, &mut rng);
                stats.failed_statements += 1;
                aborted = true;
                break;
            } else {
                random_op(&mut tx, &mut lane, &mut rng, &mut acts)
                    .unwrap_or_else(|e| panic!("{label}: {}", describe(&e)));
            }
        }
        if aborted {
            tx.rollback().unwrap();
            lane = snapshot;
            continue;
        }
        if placement == Placement::After {
            let c = make_context(&mut rng, &label);
            c.apply(&mut tx).unwrap();
            stats.contexts_applied += 1;
            context = Some(c);
        }
        let ending = rng.below(100);
        let xid = current_xid(&mut tx).unwrap();
        if ending < 8 {
            tx.rollback().unwrap();
            discarded.extend(xid);
            stats.rolled_back += 1;
            lane = snapshot;
        } else if ending < 11 && !lane.items.is_empty() {
            // A commit that fails: a deferred unique check broken by an audited insert.
            let id = *lane.items.keys().next().unwrap();
            tx.batch_execute("SET CONSTRAINTS item_pkey DEFERRED")
                .unwrap();
            tx.execute(
                "INSERT INTO item (id, name, qty) VALUES ($1, 'duplicate', 1)",
                &[&id],
            )
            .unwrap();
            let xid = assigned_xid(&mut tx).unwrap();
            let err = tx.commit().expect_err("the deferred unique check fails");
            assert_eq!(
                err.code(),
                Some(&SqlState::UNIQUE_VIOLATION),
                "{}",
                describe(&err)
            );
            discarded.push(xid);
            stats.failed_commits += 1;
            lane = snapshot;
        } else {
            tx.commit()
                .unwrap_or_else(|e| panic!("{label}: commit: {}", describe(&e)));
            stats.committed += 1;
            if acts.is_empty() {
                stats.committed_without_changes += 1;
            } else if context.is_some() {
                stats.committed_with_context += 1;
            }
            records.push(TxRecord {
                label,
                xid,
                context: context.as_ref().map(Ctx::of),
                acts,
            });
        }
    }
    (records, discarded, stats)
}

fn run_load(seconds: u64) {
    const WORKERS: i32 = 8;
    let started = Instant::now();
    let db = reliability_db("load", false);
    let seed = base_seed();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..WORKERS)
        .map(|lane| {
            let url = db.url().to_owned();
            std::thread::spawn(move || {
                load_worker(&url, lane, (deadline, 0), seed ^ ((lane as u64 + 1) * 7919))
            })
        })
        .collect();
    let mut records = Vec::new();
    let mut discarded = Vec::new();
    let mut stats = LoadStats::default();
    for w in workers {
        let (r, d, s) = w.join().expect("a load worker panicked");
        records.extend(r);
        discarded.extend(d);
        stats.add(&s);
    }
    let load_done = Instant::now();
    let mut c = db.client();
    assert_all_left_nothing(&mut c, &discarded);
    let checked = verify(&mut c, &records);
    eprintln!(
        "mixed load, {WORKERS} workers, {seconds} s, seed {seed:#x}: {stats:?}; \
         checked {} committed transactions ({} with a transaction row) and {} activity rows, \
         {} discarded transactions left nothing; load {seconds} s, checks {:.1} s, {:.1} s \
         in all",
        checked.transactions,
        checked.with_context,
        checked.activity_rows,
        discarded.len(),
        load_done.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    // The run must have exercised what it claims to.
    assert!(stats.committed > 100, "too few transactions: {stats:?}");
    assert!(
        checked.activity_rows > 500,
        "too few activity rows: {checked:?}"
    );
    assert!(checked.with_context > 20, "{checked:?}");
    for (what, n) in [
        ("rollbacks", stats.rolled_back),
        ("failed statements", stats.failed_statements),
        ("failed commits", stats.failed_commits),
        ("savepoints rolled back", stats.savepoints_rolled_back),
        ("savepoints released", stats.savepoints_released),
        ("failures in savepoints", stats.failed_in_savepoint),
    ] {
        assert!(n > 0, "no {what} in the run: {stats:?}");
    }
}

/// The seconds of the default load run: `AUDIT_LOAD_SECONDS`, or 8.
fn load_seconds(default: u64) -> u64 {
    std::env::var("AUDIT_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mixed_load_is_audited_row_for_row_with_the_right_actor() {
    run_load(load_seconds(8));
}

#[test]
#[ignore = "long variant (60 s): cargo test -p audit-tests --test reliability -- --ignored"]
fn mixed_load_for_a_minute() {
    run_load(load_seconds(60));
}

/// The checks above are not vacuous: after a short run, each kind of damage to the audit
/// tables (made in a transaction that is rolled back) is reported.
#[test]
fn the_checks_report_lost_extra_changed_and_misattributed_rows() {
    let db = reliability_db("checks", false);
    let (records, _, stats) = load_worker(db.url(), 0, (Instant::now(), 60), base_seed());
    let mut c = db.client();
    let checked = verify(&mut c, &records);
    let damages = assert_damage_is_detected(&mut c, &records);
    eprintln!(
        "checks: {damages} kinds of damage detected in {} transactions ({} committed) \
         and {} activity rows",
        checked.transactions, stats.committed, checked.activity_rows
    );
}

// ---------------------------------------------------------------------------------------
// Faults: shared pieces.

/// One unit of work: random operations from a seed, with a context applied before or
/// after them. Run again from the same lane state, it repeats the same statements.
#[derive(Clone)]
struct Work {
    label: String,
    context: AuditContext,
    context_after: bool,
    seed: u64,
    steps: u64,
}

/// A worker of the fault tests: one lane of rows and the transactions it committed.
struct FaultWorker {
    lane: Lane,
    rng: Rng,
    records: Vec<TxRecord>,
}

impl FaultWorker {
    fn new(lane: i32, seed: u64) -> Self {
        Self {
            lane: Lane::new(lane),
            rng: Rng::new(seed),
            records: Vec::new(),
        }
    }

    fn next_work(&mut self, label: String, context_after: bool) -> Work {
        let context = make_context(&mut self.rng, &label);
        Work {
            label,
            context,
            context_after,
            seed: self.rng.next(),
            steps: 2 + self.rng.below(4),
        }
    }

    /// Runs `work` inside the open transaction of `c` without ending it, on a copy of
    /// the lane. Returns the copy and the activities the work must record.
    fn run<C: GenericClient>(&self, c: &mut C, work: &Work) -> (Lane, Vec<Act>) {
        let mut lane = self.lane.clone();
        let mut acts = Vec::new();
        if !work.context_after {
            apply_context(c, &work.context).unwrap();
        }
        random_work(
            c,
            &mut lane,
            &mut Rng::new(work.seed),
            &mut acts,
            work.steps,
        )
        .unwrap_or_else(|e| panic!("{}: {}", work.label, describe(&e)));
        if work.context_after {
            apply_context(c, &work.context).unwrap();
        }
        (lane, acts)
    }

    /// Runs `work` in a new transaction of `c` and commits it.
    fn commit(&mut self, c: &mut Client, work: &Work) {
        let mut tx = c.transaction().unwrap();
        let (lane, acts) = self.run(&mut tx, work);
        let xid = current_xid(&mut tx).unwrap();
        tx.commit()
            .unwrap_or_else(|e| panic!("{}: commit: {}", work.label, describe(&e)));
        self.accept(work, xid, lane, acts);
    }

    /// Takes the result of committed work into the model.
    fn accept(&mut self, work: &Work, xid: Option<u64>, lane: Lane, acts: Vec<Act>) {
        self.lane = lane;
        self.records.push(TxRecord {
            label: work.label.clone(),
            xid,
            context: Some(Ctx::of(&work.context)),
            acts,
        });
    }

    /// Committed rows to work on: a few dozen items, lines and events.
    fn populate(&mut self, c: &mut Client) {
        let mut tx = c.transaction().unwrap();
        let mut lane = self.lane.clone();
        let mut acts = Vec::new();
        for _ in 0..5 {
            insert_items_bulk(&mut tx, &mut lane, &mut self.rng, &mut acts).unwrap();
            insert_lines(&mut tx, &mut lane, &mut self.rng, &mut acts).unwrap();
            insert_events(&mut tx, &mut lane, &mut self.rng, &mut acts).unwrap();
        }
        let xid = current_xid(&mut tx).unwrap();
        tx.commit().unwrap();
        self.lane = lane;
        self.records.push(TxRecord {
            label: "initial rows".to_owned(),
            xid,
            context: None,
            acts,
        });
    }
}

fn backend_pid<C: GenericClient>(c: &mut C) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0)
}

/// Polls `pg_stat_activity` until backend `pid` has exited (the server noticed the
/// fault and aborted its transaction). Returns how long that took.
fn wait_until_gone(admin: &mut Client, pid: i32) -> Duration {
    let start = Instant::now();
    loop {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .unwrap()
            .get(0);
        if n == 0 {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "backend {pid} still there after 30 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls until backend `pid` sleeps in `pg_sleep` (in a slow WHERE clause or in the
/// slow trigger).
fn wait_until_sleeping(admin: &mut Client, pid: i32) {
    let start = Instant::now();
    loop {
        let event: Option<String> = admin
            .query_opt(
                "SELECT wait_event FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .unwrap()
            .and_then(|r| r.get(0));
        if event.as_deref() == Some("PgSleep") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "backend {pid} never reached pg_sleep"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn terminate(admin: &mut Client, pid: i32) {
    let done: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(done, "pg_terminate_backend({pid})");
}

/// A connection whose notices (from `RAISE NOTICE`) are collected.
fn client_with_notices(url: &str) -> (Client, Arc<Mutex<Vec<String>>>) {
    let mut config: postgres::Config = url.parse().unwrap();
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    config.notice_callback(move |n| sink.lock().unwrap().push(n.message().to_owned()));
    (config.connect(NoTls).unwrap(), notices)
}

/// What the slow trigger reported: the activity rows its transaction had when it was
/// stopped.
fn reported_activity_rows(notices: &Mutex<Vec<String>>) -> usize {
    notices
        .lock()
        .unwrap()
        .iter()
        .filter_map(|m| m.strip_prefix("activity rows so far: "))
        .next_back()
        .expect("the slow trigger ran")
        .parse()
        .unwrap()
}

/// The audited statement that sleeps in the slow trigger: every item of the lane (at
/// least one) gets one more unit, so the statement records `lane.items.len()` rows.
fn update_all_items<C: GenericClient>(c: &mut C, lane: &Lane) -> Result<u64, postgres::Error> {
    assert!(!lane.items.is_empty(), "the lane has items to update");
    let (lo, hi) = (lane.item_base(), lane.item_base() + ITEM_SLOTS);
    c.execute(
        "UPDATE item SET qty = qty + 1 WHERE id >= $1 AND id < $2",
        &[&lo, &hi],
    )
}

/// A connection error from a backend that was terminated or went away: the server's
/// last word (`code`), a closed connection, or a broken socket.
fn assert_connection_lost(e: &postgres::Error, code: &SqlState, what: &str) {
    let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
    assert!(
        e.is_closed() || io || e.code() == Some(code),
        "{what}: {}",
        describe(e)
    );
}

// ---------------------------------------------------------------------------------------
// Faults: a backend terminated mid-transaction.

#[test]
fn a_terminated_backend_leaves_no_partial_history_and_the_retry_is_audited_once() {
    let db = reliability_db("terminate", true);
    let mut admin = db.client();
    let mut worker = FaultWorker::new(0, base_seed() ^ 0x7E47);
    worker.populate(&mut admin);
    let (mut idle, mut in_statement) = (0, 0);
    for round in 0..6 {
        let work = worker.next_work(format!("terminated {round}"), round % 2 == 1);
        let (mut victim, notices) = client_with_notices(db.url());
        let pid = backend_pid(&mut victim);
        let mut tx = victim.transaction().unwrap();
        let (lane, acts) = worker.run(&mut tx, &work);
        let xid = assigned_xid(&mut tx).unwrap();
        if round % 3 == 2 {
            // Inside a statement, after its audit triggers wrote their rows.
            tx.batch_execute("SET LOCAL test.slow = on").unwrap();
            let url = db.url().to_owned();
            let killer = std::thread::spawn(move || {
                let mut admin = connect(&url);
                wait_until_sleeping(&mut admin, pid);
                terminate(&mut admin, pid);
            });
            let err = update_all_items(&mut tx, &lane).expect_err("the backend is terminated");
            killer.join().unwrap();
            assert_connection_lost(&err, &SqlState::ADMIN_SHUTDOWN, &work.label);
            assert_eq!(
                reported_activity_rows(&notices),
                acts.len() + lane.items.len(),
                "{}: the audit rows existed when the backend was terminated",
                work.label
            );
            drop(tx);
            in_statement += 1;
        } else {
            // Idle in transaction, after the work (and the context, before or after it).
            terminate(&mut admin, pid);
            wait_until_gone(&mut admin, pid);
            let err = tx.commit().expect_err("the backend is gone");
            assert_connection_lost(&err, &SqlState::ADMIN_SHUTDOWN, &work.label);
            idle += 1;
        }
        drop(victim);
        wait_until_gone(&mut admin, pid);
        assert_left_nothing(&mut admin, xid, &work.label);
        // The application retries the same work, on a new connection.
        let retry = Work {
            label: format!("{} (retried)", work.label),
            ..work
        };
        worker.commit(&mut db.client(), &retry);
    }
    let checked = verify(&mut admin, &worker.records);
    eprintln!(
        "terminated backends: {idle} idle in transaction + {in_statement} inside an audited \
         statement = {} faults; {} transactions and {} activity rows checked",
        idle + in_statement,
        checked.transactions,
        checked.activity_rows
    );
    assert_eq!(idle + in_statement, 6);
}

// ---------------------------------------------------------------------------------------
// Faults: a client that vanishes mid-transaction.

/// A TCP relay between one client and the server that can cut the connection in both
/// directions at once: what the server sees when a client's host or network goes away
/// without a goodbye.
struct Relay {
    sockets: Arc<Mutex<Vec<TcpStream>>>,
    config: postgres::Config,
}

impl Relay {
    /// `None` when the server is not reached over TCP.
    fn start(url: &str) -> Option<Self> {
        use std::net::ToSocketAddrs;
        let config: postgres::Config = url.parse().unwrap();
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            None => "localhost".to_owned(),
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let target: SocketAddr = (host.as_str(), port).to_socket_addrs().ok()?.next()?;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let local_port = listener.local_addr().unwrap().port();
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let kept = sockets.clone();
        std::thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(server) = TcpStream::connect(target) else {
                return;
            };
            kept.lock()
                .unwrap()
                .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
            pipe(server, client);
        });
        let mut relayed = postgres::Config::new();
        relayed.host("127.0.0.1").port(local_port);
        if let Some(user) = config.get_user() {
            relayed.user(user);
        }
        if let Some(password) = config.get_password() {
            relayed.password(password);
        }
        if let Some(dbname) = config.get_dbname() {
            relayed.dbname(dbname);
        }
        Some(Self {
            sockets,
            config: relayed,
        })
    }

    fn connect(&self) -> Client {
        self.config.connect(NoTls).unwrap()
    }

    fn cut(&self) {
        for socket in self.sockets.lock().unwrap().iter() {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// Keeps the longest `took` per `what`.
fn note<'a>(longest: &mut BTreeMap<&'a str, Duration>, what: &'a str, took: Duration) {
    let entry = longest.entry(what).or_default();
    *entry = (*entry).max(took);
}

#[test]
fn a_client_that_vanishes_mid_transaction_leaves_no_partial_history() {
    let db = reliability_db("vanish", false);
    let mut admin = db.client();
    let mut worker = FaultWorker::new(1, base_seed() ^ 0xC11E);
    worker.populate(&mut admin);
    let mut faults: BTreeMap<&str, u32> = BTreeMap::new();
    let mut noticed: BTreeMap<&str, Duration> = BTreeMap::new();
    for round in 0..6 {
        let how = ["dropped", "cut", "stalled"][round % 3];
        let work = worker.next_work(format!("client {how} {round}"), round % 2 == 1);
        let relay = if how == "cut" {
            match Relay::start(db.url()) {
                Some(relay) => Some(relay),
                None => {
                    eprintln!("the server is not reached over TCP: no cut connection");
                    continue;
                }
            }
        } else {
            None
        };
        let mut victim = match &relay {
            Some(relay) => relay.connect(),
            None => db.client(),
        };
        if how == "stalled" {
            victim
                .batch_execute("SET idle_in_transaction_session_timeout = '300ms'")
                .unwrap();
        }
        let pid = backend_pid(&mut victim);
        // A plain BEGIN: dropping a `Transaction` would roll it back politely first.
        victim.batch_execute("BEGIN").unwrap();
        let _ = worker.run(&mut victim, &work);
        let xid = assigned_xid(&mut victim).unwrap();
        match how {
            // The process drops its connection (the driver closes the socket).
            "dropped" => {
                drop(victim);
                note(&mut noticed, how, wait_until_gone(&mut admin, pid));
            }
            // The network goes away: the server notices on its own.
            "cut" => {
                relay.as_ref().unwrap().cut();
                note(&mut noticed, how, wait_until_gone(&mut admin, pid));
                drop(victim);
            }
            // The client hangs: the server's idle-in-transaction timeout ends it.
            _ => {
                note(&mut noticed, how, wait_until_gone(&mut admin, pid));
                let err = victim
                    .batch_execute("COMMIT")
                    .expect_err("the session timed out");
                assert_connection_lost(
                    &err,
                    &SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                    &work.label,
                );
                drop(victim);
            }
        }
        assert_left_nothing(&mut admin, xid, &work.label);
        *faults.entry(how).or_default() += 1;
        let retry = Work {
            label: format!("{} (retried)", work.label),
            ..work
        };
        worker.commit(&mut db.client(), &retry);
    }
    let checked = verify(&mut admin, &worker.records);
    eprintln!(
        "vanished clients: {faults:?}; the server noticed within {noticed:?}; \
         {} transactions and {} activity rows checked",
        checked.transactions, checked.activity_rows
    );
    assert_eq!(faults.get("dropped"), Some(&2));
    assert_eq!(faults.get("stalled"), Some(&2));
}

// ---------------------------------------------------------------------------------------
// Faults: statements cancelled by statement_timeout or by a cancel request.

/// How a statement gets cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cancelled {
    /// `statement_timeout` while the UPDATE sleeps in its WHERE clause: before the
    /// audit triggers run.
    TimeoutInWhere,
    /// `statement_timeout` while the statement sleeps in a trigger that runs after the
    /// audit triggers: the audit rows of the statement exist when it is cancelled.
    TimeoutAfterAudit,
    /// `statement_timeout` during a bulk INSERT ... SELECT of millions of rows.
    TimeoutInBulk,
    /// A cancel request from the client (its cancel token) while the statement sleeps
    /// after the audit triggers.
    CancelRequest,
}

/// Runs a slow audited statement in `c` (a transaction or a savepoint) and has it
/// cancelled `how`; returns the error. The settings it makes are `SET LOCAL`.
fn cancelled_statement(
    c: &mut postgres::Transaction<'_>,
    how: Cancelled,
    lane: &Lane,
    acts_so_far: usize,
    notices: &Mutex<Vec<String>>,
    url: &str,
) -> postgres::Error {
    let err = match how {
        Cancelled::TimeoutInWhere => {
            c.batch_execute("SET LOCAL statement_timeout = '50ms'")
                .unwrap();
            let (lo, hi) = (lane.item_base(), lane.item_base() + ITEM_SLOTS);
            assert!(!lane.items.is_empty());
            c.execute(
                "UPDATE item SET qty = qty + 1 WHERE id >= $1 AND id < $2 AND pg_sleep(0.1) IS NOT NULL",
                &[&lo, &hi],
            )
            .expect_err("the statement times out")
        }
        Cancelled::TimeoutAfterAudit => {
            c.batch_execute("SET LOCAL statement_timeout = '1s'; SET LOCAL test.slow = on")
                .unwrap();
            notices.lock().unwrap().clear();
            let err = update_all_items(c, lane).expect_err("the statement times out");
            assert_eq!(
                reported_activity_rows(notices),
                acts_so_far + lane.items.len(),
                "the audit rows existed when the statement was cancelled"
            );
            err
        }
        Cancelled::TimeoutInBulk => {
            c.batch_execute("SET LOCAL statement_timeout = '100ms'")
                .unwrap();
            c.execute(
                "INSERT INTO event_log (lane, seq, message)
                 SELECT $1, -s, 'bulk' FROM generate_series(1, 50000000) AS s",
                &[&lane.lane],
            )
            .expect_err("the statement times out")
        }
        Cancelled::CancelRequest => {
            c.batch_execute("SET LOCAL test.slow = on").unwrap();
            let token = c.cancel_token();
            let pid = backend_pid(c);
            let url = url.to_owned();
            let canceller = std::thread::spawn(move || {
                wait_until_sleeping(&mut connect(&url), pid);
                token.cancel_query(NoTls).unwrap();
            });
            notices.lock().unwrap().clear();
            let err = update_all_items(c, lane).expect_err("the statement is cancelled");
            canceller.join().unwrap();
            assert_eq!(
                reported_activity_rows(notices),
                acts_so_far + lane.items.len(),
                "the audit rows existed when the statement was cancelled"
            );
            err
        }
    };
    assert_eq!(
        err.code(),
        Some(&SqlState::QUERY_CANCELED),
        "{how:?}: {}",
        describe(&err)
    );
    err
}

#[test]
fn cancelled_statements_leave_no_partial_history() {
    let db = reliability_db("cancel", true);
    let mut admin = db.client();
    let mut worker = FaultWorker::new(2, base_seed() ^ 0x7140);
    worker.populate(&mut admin);
    let (mut client, notices) = client_with_notices(db.url());
    let kinds = [
        Cancelled::TimeoutInWhere,
        Cancelled::TimeoutAfterAudit,
        Cancelled::TimeoutInBulk,
        Cancelled::CancelRequest,
    ];
    let mut faults: BTreeMap<(Cancelled, &str), u32> = BTreeMap::new();
    for (round, how) in kinds.iter().chain(kinds.iter()).enumerate() {
        let whole = round < kinds.len();
        let context_after = round % 3 == 1;
        if whole {
            // The cancelled statement aborts the transaction: it is rolled back, and the
            // application retries all of it.
            let work = worker.next_work(format!("{how:?}, rolled back"), context_after);
            let mut tx = client.transaction().unwrap();
            let (lane, acts) = worker.run(&mut tx, &work);
            let xid = assigned_xid(&mut tx).unwrap();
            cancelled_statement(&mut tx, *how, &lane, acts.len(), &notices, db.url());
            tx.rollback().unwrap();
            assert_left_nothing(&mut admin, xid, &work.label);
            let retry = Work {
                label: format!("{} (retried)", work.label),
                ..work
            };
            worker.commit(&mut client, &retry);
            *faults.entry((*how, "transaction rolled back")).or_default() += 1;
        } else {
            // The cancelled statement runs in a savepoint: rolled back to it, the
            // transaction goes on and commits the rest of its work.
            let work = worker.next_work(format!("{how:?}, savepoint"), context_after);
            let mut tx = client.transaction().unwrap();
            let mut lane = worker.lane.clone();
            let mut acts = Vec::new();
            let mut rng = Rng::new(work.seed);
            if !context_after {
                work.context.apply(&mut tx).unwrap();
            }
            random_work(&mut tx, &mut lane, &mut rng, &mut acts, work.steps).unwrap();
            let settings = "SELECT current_setting('statement_timeout') || '/' \
                            || coalesce(current_setting('test.slow', true), '')";
            let before: String = tx.query_one(settings, &[]).unwrap().get(0);
            let mut savepoint = tx.savepoint("cancelled").unwrap();
            cancelled_statement(&mut savepoint, *how, &lane, acts.len(), &notices, db.url());
            drop(savepoint);
            let after: String = tx.query_one(settings, &[]).unwrap().get(0);
            assert_eq!(
                after, before,
                "the savepoint's settings are rolled back too"
            );
            random_work(&mut tx, &mut lane, &mut rng, &mut acts, work.steps).unwrap();
            if context_after {
                work.context.apply(&mut tx).unwrap();
            }
            let xid = current_xid(&mut tx).unwrap();
            tx.commit().unwrap();
            worker.accept(&work, xid, lane, acts);
            *faults.entry((*how, "savepoint rolled back")).or_default() += 1;
        }
    }
    let checked = verify(&mut admin, &worker.records);
    eprintln!(
        "cancelled statements: {faults:?}; {} transactions and {} activity rows checked",
        checked.transactions, checked.activity_rows
    );
    assert_eq!(faults.len(), 8);
}

// ---------------------------------------------------------------------------------------
// Faults: deadlocks and serialization failures, retried by the application.

/// Inserts items `ids` (named after their id, quantity 0) in one transaction without a
/// context; returns the model rows and the record of that transaction.
fn shared_items(c: &mut Client, ids: &[i32]) -> (BTreeMap<i32, Item>, TxRecord) {
    let mut tx = c.transaction().unwrap();
    tx.execute(
        "INSERT INTO item (id, name, qty) SELECT i, 'item ' || i, 0 FROM unnest($1::int[]) AS i",
        &[&ids],
    )
    .unwrap();
    let xid = current_xid(&mut tx).unwrap();
    tx.commit().unwrap();
    let items: BTreeMap<i32, Item> = ids
        .iter()
        .map(|id| {
            let item = Item {
                name: format!("item {id}"),
                qty: 0,
                note: None,
            };
            (*id, item)
        })
        .collect();
    let acts = items
        .iter()
        .map(|(id, item)| Act::insert("item", Some(json!(id)), item_json(*id, item)))
        .collect();
    let record = TxRecord {
        label: "shared items".to_owned(),
        xid,
        context: None,
        acts,
    };
    (items, record)
}

/// The statement every contender runs: one more unit, and its own name.
const BUMP: &str = "UPDATE item SET qty = qty + 1, name = $2 WHERE id = $1";

/// The activity of [`BUMP`] of `id` by `name` on `items`, which it updates.
fn bump_act(items: &mut BTreeMap<i32, Item>, id: i32, name: &str) -> Act {
    let old = items[&id].clone();
    let new = Item {
        name: name.to_owned(),
        qty: old.qty + 1,
        ..old.clone()
    };
    let changed = diff(&item_json(id, &old), &item_json(id, &new));
    items.insert(id, new);
    Act::update("item", Some(json!(id)), item_json(id, &old), changed)
}

/// One attempt of a deadlock party; returns the quantity of `first` after its bump.
fn deadlock_attempt(
    tx: &mut postgres::Transaction<'_>,
    context: &AuditContext,
    context_after: bool,
    (first, second): (i32, i32),
    event: (i32, i32),
    barrier: Option<&Barrier>,
    xid: &mut Option<u64>,
) -> Result<i32, postgres::Error> {
    let name = context.actor().unwrap();
    if !context_after {
        context.apply(tx)?;
    }
    let qty: i32 = tx
        .query_one(&format!("{BUMP} RETURNING qty"), &[&first, &name])?
        .get(0);
    tx.execute(
        "INSERT INTO event_log (lane, seq, message) VALUES ($1, $2, $3)",
        &[&event.0, &event.1, &name],
    )?;
    *xid = Some(assigned_xid(tx)?);
    if let Some(barrier) = barrier {
        barrier.wait();
    }
    tx.execute(BUMP, &[&second, &name])?;
    if context_after {
        context.apply(tx)?;
    }
    Ok(qty)
}

/// One side of a deadlock: bumps `first`, logs an event, waits for the other side (on
/// the first attempt only), bumps `second`. Retries on deadlock until it commits (a
/// retry can deadlock again: it may take a row that the other side was waiting for).
/// Returns the ids of its failed attempts, the id of the committed one, and the quantity
/// its bump left in `first` (which orders the two commits).
fn deadlock_party(
    url: &str,
    context: &AuditContext,
    context_after: bool,
    rows: (i32, i32),
    event: (i32, i32),
    barrier: &Barrier,
) -> (Vec<u64>, u64, i32) {
    let mut c = connect(url);
    // Superuser-only setting: find the deadlock after 50 ms instead of 1 s.
    c.batch_execute("SET deadlock_timeout = '50ms'").unwrap();
    let mut failed = Vec::new();
    for attempt in 0..10 {
        let mut tx = c.transaction().unwrap();
        let mut xid = None;
        let barrier = (attempt == 0).then_some(barrier);
        let result = deadlock_attempt(
            &mut tx,
            context,
            context_after,
            rows,
            event,
            barrier,
            &mut xid,
        );
        match result.and_then(|qty| tx.commit().map(|()| qty)) {
            Ok(qty) => return (failed, xid.unwrap(), qty),
            Err(e) => {
                assert_eq!(
                    e.code(),
                    Some(&SqlState::T_R_DEADLOCK_DETECTED),
                    "{}",
                    describe(&e)
                );
                failed.extend(xid);
            }
        }
    }
    panic!("{:?}: still deadlocked after 10 attempts", context.actor());
}

#[test]
fn deadlock_victims_are_retried_and_audited_once() {
    let db = reliability_db("deadlock", false);
    let mut admin = db.client();
    let (mut items, setup) = shared_items(&mut admin, &[1, 2]);
    let mut records = vec![setup];
    let mut rng = Rng::new(base_seed() ^ 0xDEAD);
    let mut deadlocks = 0;
    for round in 0..4i32 {
        let barrier = Arc::new(Barrier::new(2));
        let parties: Vec<_> = [(1, 2), (2, 1)]
            .into_iter()
            .enumerate()
            .map(|(side, rows)| {
                let label = format!("deadlock {round} side {side}");
                let context = make_context(&mut rng, &label);
                let context_after = (round as usize + side) % 2 == 1;
                let (url, barrier) = (db.url().to_owned(), barrier.clone());
                let event = (10 + side as i32, round);
                let party = context.clone();
                let handle = std::thread::spawn(move || {
                    deadlock_party(&url, &party, context_after, rows, event, &barrier)
                });
                (label, context, rows, event, handle)
            })
            .collect();
        let mut outcomes = Vec::new();
        for (label, context, rows, event, handle) in parties {
            let (failed, xid, qty) = handle.join().expect("a deadlock party panicked");
            outcomes.push((label, context, rows, event, failed, xid, qty));
        }
        let failed: Vec<u64> = outcomes.iter().flat_map(|o| o.4.clone()).collect();
        assert!(!failed.is_empty(), "round {round}: no deadlock");
        for xid in &failed {
            assert_left_nothing(&mut admin, *xid, "deadlock victim");
        }
        deadlocks += failed.len();
        // Both committed transactions hold both rows until they commit: the one whose
        // bump left the lower quantity committed first, and the other saw its rows.
        outcomes.sort_by_key(|o| o.6);
        assert_eq!(
            (outcomes[0].6, outcomes[1].6),
            (2 * round + 1, 2 * round + 2),
            "round {round}: each commit bumped both rows once"
        );
        for (label, context, (first, second), event, _, xid, _) in outcomes {
            let acts = vec![
                bump_act(&mut items, first, &label),
                Act::insert(
                    "event_log",
                    None,
                    event_json(event.0, event.1, &Some(label.clone())),
                ),
                bump_act(&mut items, second, &label),
            ];
            records.push(TxRecord {
                label,
                xid: Some(xid),
                context: Some(Ctx::of(&context)),
                acts,
            });
        }
    }
    let checked = verify(&mut admin, &records);
    eprintln!(
        "deadlocks: {deadlocks} victims retried; {} transactions and {} activity rows checked",
        checked.transactions, checked.activity_rows
    );
}

/// Items 1 to 8 and 2,000 more, for the SERIALIZABLE tests, in pages with room to
/// spare. So that two transactions on different rows do not conflict in the user table
/// itself: the planner reaches the rows through the primary key even after the table is
/// analyzed (a sequential scan locks the whole table), and updates stay HOT (a new index
/// entry lands on a leaf page the other transaction has read).
fn serializable_items(c: &mut Client) -> (BTreeMap<i32, Item>, TxRecord) {
    c.batch_execute("ALTER TABLE item SET (fillfactor = 20)")
        .unwrap();
    let ids: Vec<i32> = (1..=8).chain(1_000..3_000).collect();
    shared_items(c, &ids)
}

/// A transaction at `level` with `context` applied first.
fn start<'a>(
    c: &'a mut Client,
    level: IsolationLevel,
    context: &AuditContext,
) -> postgres::Transaction<'a> {
    let mut tx = c
        .build_transaction()
        .isolation_level(level)
        .start()
        .unwrap();
    context.apply(&mut tx).unwrap();
    tx
}

fn is_serialization_failure(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
}

/// Where the contexts of [`disjoint_serializable_round`] are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ContextAt {
    Nowhere,
    Before,
    After,
}

/// Two SERIALIZABLE transactions on disjoint rows with their statements interleaved: A
/// bumps items 5 then 7, B bumps 6 then 8, in the order A, B, A, B; then each commits.
/// They share no row, so neither has a reason to fail. A side that fails anyway (40001)
/// is retried alone until it commits. Every committed transaction goes to `records`;
/// returns how many attempts failed.
fn disjoint_serializable_round(
    (a, b): (&mut Client, &mut Client),
    items: &mut BTreeMap<i32, Item>,
    records: &mut Vec<TxRecord>,
    label: &str,
    at: ContextAt,
    rng: &mut Rng,
) -> u32 {
    let labels = [format!("{label} A"), format!("{label} B")];
    let contexts = [make_context(rng, &labels[0]), make_context(rng, &labels[1])];
    // The row of each side (A, B) at each step.
    let steps = [[5, 6], [7, 8]];
    let mut failures = 0;
    let mut pending = vec![0, 1];
    while !pending.is_empty() {
        assert!(failures < 10, "{label}: no progress");
        let mut txs: Vec<(usize, postgres::Transaction<'_>)> = Vec::new();
        let mut clients = [&mut *a, &mut *b].into_iter();
        for side in &pending {
            let c = clients.next().unwrap();
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::Serializable)
                .start()
                .unwrap();
            if at == ContextAt::Before {
                contexts[*side].apply(&mut tx).unwrap();
            }
            txs.push((*side, tx));
        }
        let mut results: Vec<Result<(), postgres::Error>> = txs.iter().map(|_| Ok(())).collect();
        // Interleaved: A's first row, B's first row, A's second row, B's second row.
        for step in steps {
            for ((side, tx), result) in txs.iter_mut().zip(results.iter_mut()) {
                if result.is_ok() {
                    let id = step[*side];
                    *result = tx.execute(BUMP, &[&id, &labels[*side]]).map(|_| ());
                }
            }
        }
        let mut still = Vec::new();
        for ((side, mut tx), result) in txs.into_iter().zip(results) {
            let result = result
                .and_then(|()| match at {
                    ContextAt::After => contexts[side].apply(&mut tx),
                    _ => Ok(()),
                })
                .and_then(|()| current_xid(&mut tx))
                .and_then(|xid| tx.commit().map(|()| xid));
            match result {
                Ok(xid) => {
                    let acts = steps
                        .iter()
                        .map(|step| bump_act(items, step[side], &labels[side]))
                        .collect();
                    records.push(TxRecord {
                        label: labels[side].clone(),
                        xid,
                        context: (at != ContextAt::Nowhere).then(|| Ctx::of(&contexts[side])),
                        acts,
                    });
                }
                Err(e) => {
                    assert!(is_serialization_failure(&e), "{label}: {}", describe(&e));
                    failures += 1;
                    still.push(side);
                }
            }
        }
        pending = still;
    }
    failures
}

#[test]
fn serialization_failures_are_retried_and_audited_once() {
    let db = reliability_db("serialization", false);
    let mut admin = db.client();
    let (mut items, setup) = serializable_items(&mut admin);
    let mut records = vec![setup];
    let mut rng = Rng::new(base_seed() ^ 0x5E41);
    let (mut a, mut b) = (db.client(), db.client());
    let mut faults: BTreeMap<&str, u32> = BTreeMap::new();

    // REPEATABLE READ, lost update: A's snapshot predates B's committed update of the
    // same row; A's update fails (40001), A retries with a new snapshot.
    for round in 0..3i32 {
        let (la, lb) = (format!("rr {round} A"), format!("rr {round} B"));
        let (ca, cb) = (make_context(&mut rng, &la), make_context(&mut rng, &lb));
        let mut ta = start(&mut a, IsolationLevel::RepeatableRead, &ca);
        ta.execute(
            "INSERT INTO event_log (lane, seq, message) VALUES (20, $1, $2)",
            &[&round, &la],
        )
        .unwrap();
        let failed_xid = assigned_xid(&mut ta).unwrap();
        let mut tb = start(&mut b, IsolationLevel::ReadCommitted, &cb);
        tb.execute(BUMP, &[&1, &lb]).unwrap();
        let xid = current_xid(&mut tb).unwrap();
        tb.commit().unwrap();
        let acts = vec![bump_act(&mut items, 1, &lb)];
        records.push(TxRecord {
            label: lb,
            xid,
            context: Some(Ctx::of(&cb)),
            acts,
        });
        let err = ta.execute(BUMP, &[&1, &la]).expect_err("a lost update");
        assert!(is_serialization_failure(&err), "{}", describe(&err));
        ta.rollback().unwrap();
        assert_left_nothing(&mut admin, failed_xid, &la);
        *faults
            .entry("repeatable read: concurrent update")
            .or_default() += 1;
        // The retry.
        let mut ta = start(&mut a, IsolationLevel::RepeatableRead, &ca);
        ta.execute(
            "INSERT INTO event_log (lane, seq, message) VALUES (20, $1, $2)",
            &[&round, &la],
        )
        .unwrap();
        ta.execute(BUMP, &[&1, &la]).unwrap();
        let xid = current_xid(&mut ta).unwrap();
        ta.commit().unwrap();
        records.push(TxRecord {
            label: la.clone(),
            xid,
            context: Some(Ctx::of(&ca)),
            acts: vec![
                Act::insert("event_log", None, event_json(20, round, &Some(la.clone()))),
                bump_act(&mut items, 1, &la),
            ],
        });
    }

    // SERIALIZABLE, write skew: both read items 3 and 4, each updates one of them. Not
    // serializable, so one of them fails (at its update or at commit) and is retried
    // after the other committed.
    for round in 0..3 {
        let labels = [format!("ssi {round} A"), format!("ssi {round} B")];
        let contexts = [
            make_context(&mut rng, &labels[0]),
            make_context(&mut rng, &labels[1]),
        ];
        let targets = [3, 4];
        let mut pending: Vec<usize> = vec![0, 1];
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            assert!(attempt <= 5, "round {round}: no progress");
            let mut ta = start(&mut a, IsolationLevel::Serializable, &contexts[pending[0]]);
            let mut tb = (pending.len() == 2)
                .then(|| start(&mut b, IsolationLevel::Serializable, &contexts[1]));
            let sum = "SELECT sum(qty) FROM item WHERE id IN (3, 4)";
            ta.query_one(sum, &[]).unwrap();
            if let Some(tb) = tb.as_mut() {
                tb.query_one(sum, &[]).unwrap();
            }
            let mut results: Vec<Result<Option<u64>, postgres::Error>> = Vec::new();
            let first = pending[0];
            let ra = ta
                .execute(BUMP, &[&targets[first], &labels[first]])
                .and_then(|_| current_xid(&mut ta));
            let rb = tb.as_mut().map(|tb| {
                tb.execute(BUMP, &[&targets[1], &labels[1]])
                    .and_then(|_| current_xid(tb))
            });
            results.push(ra.and_then(|xid| ta.commit().map(|()| xid)));
            if let (Some(tb), Some(rb)) = (tb, rb) {
                results.push(rb.and_then(|xid| tb.commit().map(|()| xid)));
            }
            let mut still = Vec::new();
            for (side, result) in pending.iter().copied().zip(results) {
                match result {
                    Ok(xid) => records.push(TxRecord {
                        label: labels[side].clone(),
                        xid,
                        context: Some(Ctx::of(&contexts[side])),
                        acts: vec![bump_act(&mut items, targets[side], &labels[side])],
                    }),
                    Err(e) => {
                        assert!(is_serialization_failure(&e), "{}", describe(&e));
                        *faults.entry("serializable: write skew").or_default() += 1;
                        still.push(side);
                    }
                }
            }
            assert!(
                attempt > 1 || !still.is_empty(),
                "round {round}: the write skew was not prevented"
            );
            pending = still;
        }
    }
    // SERIALIZABLE on disjoint rows: no conflict of their own. Without contexts they
    // never fail; with a context applied after the changes they do (a known defect,
    // pinned by the ignored test below): such failures are counted, retried, and must be
    // audited once as well.
    let mut disjoint: BTreeMap<ContextAt, (u32, u32)> = BTreeMap::new();
    for at in [ContextAt::Nowhere, ContextAt::Before, ContextAt::After] {
        for round in 0..5 {
            let failed = disjoint_serializable_round(
                (&mut a, &mut b),
                &mut items,
                &mut records,
                &format!("disjoint {at:?} {round}"),
                at,
                &mut rng,
            );
            let entry = disjoint.entry(at).or_default();
            entry.0 += 1;
            entry.1 += failed;
        }
    }
    assert_eq!(
        disjoint[&ContextAt::Nowhere].1,
        0,
        "serializable transactions on disjoint rows, without contexts, do not conflict"
    );
    let checked = verify(&mut admin, &records);
    eprintln!(
        "serialization failures retried: {faults:?}; disjoint serializable pairs \
         (rounds, failures caused by the audit context): {disjoint:?}; \
         {} transactions and {} activity rows checked",
        checked.transactions, checked.activity_rows
    );
    assert_eq!(faults.values().sum::<u32>(), 6);
}

/// Known defect: under SERIALIZABLE, a context applied after the changes makes two
/// transactions on disjoint rows conflict, and one of them fails with 40001 ("Canceled
/// on identification as a pivot, during commit attempt"): 10 pairs of 10 in this test,
/// against none without a context and none with the context applied first.
/// `set_context()` then reads `audit.activity` by range (`id > audit.first_activity`,
/// then checks the xid) to link the earlier activities; with interleaved statements each
/// transaction's range holds the other's uncommitted rows, so each reads what the other
/// wrote: a read/write dependency in both directions. Application code that retries
/// 40001 stays correct (see `serialization_failures_are_retried_and_audited_once`); the
/// cost is the spurious retries.
#[test]
#[ignore = "known defect: set_context() after the changes makes serializable transactions on disjoint rows fail with 40001"]
fn serializable_transactions_on_disjoint_rows_do_not_fail_because_of_the_audit_context() {
    let db = reliability_db("ssi_disjoint", false);
    let mut admin = db.client();
    let (mut items, setup) = serializable_items(&mut admin);
    let mut records = vec![setup];
    let mut rng = Rng::new(base_seed());
    let (mut a, mut b) = (db.client(), db.client());
    let mut failures: BTreeMap<ContextAt, u32> = BTreeMap::new();
    for at in [ContextAt::Nowhere, ContextAt::Before, ContextAt::After] {
        for round in 0..10 {
            *failures.entry(at).or_default() += disjoint_serializable_round(
                (&mut a, &mut b),
                &mut items,
                &mut records,
                &format!("disjoint {at:?} {round}"),
                at,
                &mut rng,
            );
        }
    }
    verify(&mut admin, &records);
    assert_eq!(
        failures.values().sum::<u32>(),
        0,
        "serialization failures of transactions on disjoint rows, by context placement \
         (10 pairs each): {failures:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Server crashes.
//
// A private cluster of the test's own (never the shared server of the other tests) is
// brought down in the middle of the mixed load, several times, at random moments, and
// restarted on its data; the workers reconnect and go on. Every transaction a worker saw
// committed must be there with exactly its rows; every transaction cut off before its
// COMMIT must have left nothing; a transaction whose COMMIT was sent but whose answer was
// lost is in doubt, and must turn out either committed with all its rows or aborted with
// none.
//
// Transaction ids need care: recovery restores the next transaction id from what the
// write-ahead log kept, so the id of a transaction none of whose log records reached the
// operating system before the crash is forgotten and handed out again after the restart
// (`pg_xact_status` then reports on the new transaction, or says the id is in the
// future). Such a transaction cannot have committed nor left a row (a data page is only
// written after its log records). So each outcome is tagged with the server's generation,
// each restart notes the first id recovery left unused (the end-of-recovery checkpoint's
// `next_xid`), and an id at or above it is known forgotten: its transaction aborted, and
// the id is not looked up for it.

/// A private cluster, removed with all its files when dropped (also when the test fails).
struct CrashCluster {
    cluster: Cluster,
    lease: Option<Lease>,
}

impl CrashCluster {
    /// Starts a cluster of its own under cargo's temporary directory, with the settings
    /// that make "committed" mean "on disk": `fsync` and `full_page_writes` on (the
    /// private cluster's template turns them off), `synchronous_commit` at its default,
    /// `on`.
    fn start(label: &str) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("crash-{label}-{}", std::process::id()));
        let cluster = Cluster::new(&dir);
        let _ = cluster.remove();
        let lease = cluster
            .start()
            .unwrap_or_else(|e| panic!("private cluster: {e}"));
        let server = Self {
            cluster,
            lease: Some(lease),
        };
        let mut c = connect(server.url());
        for sql in [
            "ALTER SYSTEM SET fsync = on",
            "ALTER SYSTEM SET full_page_writes = on",
            "ALTER SYSTEM RESET synchronous_commit",
        ] {
            c.batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
        }
        // Before recovery, the server makes sure that everything in its data directory
        // is on disk: one `syncfs` call (Linux) instead of an `fsync` of each of its
        // thousand files, which takes seconds on a busy disk. Elsewhere, the default.
        let _ = c.batch_execute("ALTER SYSTEM SET recovery_init_sync_method = syncfs");
        c.batch_execute("SELECT pg_reload_conf()").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !durable(&mut connect(server.url())) {
            assert!(Instant::now() < deadline, "the settings were not reloaded");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> &str {
        self.lease.as_ref().expect("the server runs").url()
    }

    fn crash(&self, how: Crash) {
        self.lease
            .as_ref()
            .expect("the server runs")
            .crash(how)
            .unwrap_or_else(|e| panic!("{how:?}: {e}"));
    }

    /// Restarts the server after a crash; returns how long that took (recovery included).
    fn restart(&mut self) -> Duration {
        let started = Instant::now();
        let lease = self.lease.take().expect("a lease");
        let lease = self
            .cluster
            .restart(lease)
            .unwrap_or_else(|e| panic!("restart: {e}"));
        self.lease = Some(lease);
        started.elapsed()
    }
}

impl Drop for CrashCluster {
    fn drop(&mut self) {
        drop(self.lease.take());
        if let Err(e) = self.cluster.remove() {
            if std::thread::panicking() {
                eprintln!("cannot remove the private cluster: {e}");
            } else {
                panic!("cannot remove the private cluster: {e}");
            }
        }
    }
}

/// Whether the server runs with `fsync`, `full_page_writes` and `synchronous_commit` on.
fn durable(c: &mut Client) -> bool {
    let row = c
        .query_one(
            "SELECT current_setting('fsync'), current_setting('full_page_writes'),
                    current_setting('synchronous_commit')",
            &[],
        )
        .unwrap();
    (0..3).all(|i| row.get::<_, String>(i) == "on")
}

/// The first transaction id that recovery left unused: the `next_xid` of the
/// end-of-recovery checkpoint (the latest one right after a restart).
fn next_xid_after_recovery(c: &mut Client) -> u64 {
    let next: String = c
        .query_one("SELECT next_xid FROM pg_control_checkpoint()", &[])
        .unwrap()
        .get(0);
    let (epoch, xid) = next.split_once(':').expect("epoch:xid");
    (epoch.parse::<u64>().unwrap() << 32) | xid.parse::<u64>().unwrap()
}

/// Whether `e` is the loss of the connection to a server that went down (or is not up
/// yet), as opposed to an error of the statement.
fn lost_connection(e: &postgres::Error) -> bool {
    use std::error::Error as _;
    match e.code() {
        Some(code) => [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code),
        None => e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// The server as the crash test's workers see it.
#[derive(Default)]
struct Lifecycle {
    state: Mutex<LifeState>,
    changed: Condvar,
    /// How many workers are in the middle of a COMMIT.
    committing: AtomicUsize,
}

#[derive(Default)]
struct LifeState {
    /// How many times the server was restarted.
    generation: u64,
    /// Whether the server is up (restarted and not being brought down).
    up: bool,
    /// Whether the run is over: workers end once they have nothing left in doubt.
    over: bool,
    /// Per generation after the first, the first transaction id recovery left unused.
    floors: Vec<u64>,
}

impl Lifecycle {
    fn set(&self, change: impl FnOnce(&mut LifeState)) {
        change(&mut self.state.lock().unwrap());
        self.changed.notify_all();
    }

    fn is_over(&self) -> bool {
        self.state.lock().unwrap().over
    }

    /// Waits until some worker is in the middle of a COMMIT (for at most a second).
    fn wait_for_a_commit(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.committing.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            std::thread::yield_now();
        }
    }

    /// Waits until the server is up in a generation after `lost` (any, when `None`) and
    /// returns it; `None` when the run is over first.
    fn wait_up(&self, lost: Option<u64>) -> Option<u64> {
        let mut state = self.state.lock().unwrap();
        loop {
            if state.up && lost.is_none_or(|g| state.generation > g) {
                return Some(state.generation);
            }
            if state.over {
                return None;
            }
            state = self.changed.wait(state).unwrap();
        }
    }

    /// Whether transaction id `xid`, given out in `generation`, was forgotten by the
    /// recovery that ended that generation (see the notes of this section).
    fn forgotten(&self, xid: u64, generation: u64) -> bool {
        let state = self.state.lock().unwrap();
        state
            .floors
            .get(generation as usize)
            .is_some_and(|&floor| xid >= floor)
    }
}

/// Ends the run when dropped, so that no worker waits for a restart that will not come
/// when the test fails.
struct EndRun<'a>(&'a Lifecycle);

impl Drop for EndRun<'_> {
    fn drop(&mut self) {
        self.0.set(|s| s.over = true);
    }
}

/// How one transaction of a crash-test worker ended.
enum Outcome {
    /// The connection was already gone when the transaction was to begin.
    NotBegun,
    /// The client saw COMMIT succeed.
    Committed(TxRecord),
    /// Rolled back or failed: it must have left nothing.
    Discarded(Option<u64>),
    /// The connection was lost before COMMIT was sent: aborted.
    CutOff(Option<u64>),
    /// The connection was lost after COMMIT was sent, before its answer came.
    InDoubt(TxRecord),
}

/// What the crash test counts, besides [`LoadStats`].
#[derive(Debug, Default, Clone)]
struct CrashStats {
    cut_off: u64,
    in_doubt_committed: u64,
    in_doubt_aborted: u64,
    /// In doubt, and forgotten by recovery: aborted.
    in_doubt_forgotten: u64,
    /// In doubt without a transaction id: it changed nothing either way.
    in_doubt_without_changes: u64,
    /// Discarded or cut off with a known id that recovery forgot.
    discarded_forgotten: u64,
    reconnects: u64,
    /// In doubt when the run ended (must be none).
    unresolved: u64,
}

impl CrashStats {
    fn add(&mut self, o: &CrashStats) {
        self.cut_off += o.cut_off;
        self.in_doubt_committed += o.in_doubt_committed;
        self.in_doubt_aborted += o.in_doubt_aborted;
        self.in_doubt_forgotten += o.in_doubt_forgotten;
        self.in_doubt_without_changes += o.in_doubt_without_changes;
        self.discarded_forgotten += o.discarded_forgotten;
        self.reconnects += o.reconnects;
        self.unresolved += o.unresolved;
    }

    fn in_doubt(&self) -> u64 {
        self.in_doubt_committed
            + self.in_doubt_aborted
            + self.in_doubt_forgotten
            + self.in_doubt_without_changes
    }
}

/// What a crash-test worker ends with.
struct CrashWork {
    /// Committed transactions with the generation of the server they ran on.
    records: Vec<(u64, TxRecord)>,
    /// Ids of transactions that must have left nothing, with their generation.
    discarded: Vec<(u64, u64)>,
    stats: LoadStats,
    crash: CrashStats,
    lane: Lane,
}

/// One transaction of the mixed load (as in [`load_worker`]), on a server that may go
/// down at any moment: any error but the loss of the connection fails the test.
fn crash_transaction(
    client: &mut Client,
    lane: &mut Lane,
    rng: &mut Rng,
    label: String,
    stats: &mut LoadStats,
    committing: &AtomicUsize,
) -> Outcome {
    macro_rules! alive {
        ($result:expr, $xid:expr) => {
            match $result {
                Ok(value) => value,
                Err(e) if lost_connection(&e) => return Outcome::CutOff($xid),
                Err(e) => panic!("{label}: {}", describe(&e)),
            }
        };
    }
    let mut acts: Vec<Act> = Vec::new();
    let mut context: Option<AuditContext> = None;
    let placement = match rng.below(4) {
        0 => Placement::Before,
        1 => Placement::Middle,
        2 => Placement::After,
        _ => Placement::None,
    };
    let mut tx = match client.transaction() {
        Ok(tx) => tx,
        Err(e) if lost_connection(&e) => return Outcome::NotBegun,
        Err(e) => panic!("{label}: {}", describe(&e)),
    };
    if placement == Placement::Before || (placement != Placement::None && rng.chance(10)) {
        let first = make_context(rng, &format!("{label} (first)"));
        alive!(first.apply(&mut tx), None);
        stats.contexts_applied += 1;
        context = Some(first);
    }
    let steps = 1 + rng.below(6);
    for step in 0..steps {
        if placement == Placement::Middle && step == steps / 2 {
            let c = make_context(rng, &label);
            alive!(c.apply(&mut tx), None);
            stats.contexts_applied += 1;
            context = Some(c);
        }
        if rng.chance(12) {
            let saved = (lane.clone(), acts.len(), context.clone());
            let mut sp = alive!(tx.savepoint("work"), None);
            if rng.chance(30) {
                let c = make_context(rng, &format!("{label} (savepoint)"));
                alive!(c.apply(&mut sp), None);
                stats.contexts_applied += 1;
                context = Some(c);
            }
            let inner = 1 + rng.below(3);
            alive!(random_work(&mut sp, lane, rng, &mut acts, inner), None);
            let failed = rng.chance(25);
            if failed {
                let e = failing_statement(&mut sp, lane, rng);
                if lost_connection(&e) {
                    return Outcome::CutOff(None);
                }
                stats.failed_in_savepoint += 1;
            }
            if failed || rng.chance(50) {
                drop(sp);
                let (saved_lane, saved_acts, saved_context) = saved;
                *lane = saved_lane;
                acts.truncate(saved_acts);
                context = saved_context;
                stats.savepoints_rolled_back += 1;
            } else {
                alive!(sp.commit(), None);
                stats.savepoints_released += 1;
            }
        } else if rng.chance(4) {
            let xid = alive!(current_xid(&mut tx), None);
            let e = failing_statement(&mut tx, lane, rng);
            if lost_connection(&e) {
                return Outcome::CutOff(xid);
            }
            stats.failed_statements += 1;
            // A lost connection here is found by the next transaction.
            drop(tx);
            return Outcome::Discarded(xid);
        } else {
            alive!(random_op(&mut tx, lane, rng, &mut acts), None);
        }
    }
    if placement == Placement::After {
        let c = make_context(rng, &label);
        alive!(c.apply(&mut tx), None);
        stats.contexts_applied += 1;
        context = Some(c);
    }
    let ending = rng.below(100);
    let xid = alive!(current_xid(&mut tx), None);
    if ending < 8 {
        drop(tx);
        stats.rolled_back += 1;
        Outcome::Discarded(xid)
    } else if ending < 11 && !lane.items.is_empty() {
        // A commit that fails: a deferred unique check broken by an audited insert. It
        // cannot commit, whenever the server goes down.
        let id = *lane.items.keys().next().unwrap();
        alive!(tx.batch_execute("SET CONSTRAINTS item_pkey DEFERRED"), xid);
        alive!(
            tx.execute(
                "INSERT INTO item (id, name, qty) VALUES ($1, 'duplicate', 1)",
                &[&id],
            ),
            xid
        );
        let xid = Some(alive!(assigned_xid(&mut tx), xid));
        match tx.commit() {
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => stats.failed_commits += 1,
            Err(e) if lost_connection(&e) => {}
            Err(e) => panic!("{label}: {}", describe(&e)),
            Ok(()) => panic!("{label}: the deferred unique check did not fail"),
        }
        Outcome::Discarded(xid)
    } else {
        let record = TxRecord {
            xid,
            context: context.as_ref().map(Ctx::of),
            acts,
            label,
        };
        committing.fetch_add(1, Ordering::SeqCst);
        let committed = tx.commit();
        committing.fetch_sub(1, Ordering::SeqCst);
        match committed {
            Ok(()) => {
                stats.committed += 1;
                if record.acts.is_empty() {
                    stats.committed_without_changes += 1;
                } else if record.context.is_some() {
                    stats.committed_with_context += 1;
                }
                Outcome::Committed(record)
            }
            Err(e) if lost_connection(&e) => Outcome::InDoubt(record),
            Err(e) => panic!("{}: commit: {}", record.label, describe(&e)),
        }
    }
}

/// A transaction in doubt: its record, the lane as it committed it, and the generation
/// of the server it ran on.
type InDoubt = (TxRecord, Lane, u64);

/// One worker of the crash test: transactions until the run is over, reconnecting after
/// each crash and settling what was in doubt before going on.
fn crash_worker(url: &str, lane_no: i32, seed: u64, life: &Lifecycle) -> CrashWork {
    let mut rng = Rng::new(seed);
    let mut work = CrashWork {
        records: Vec::new(),
        discarded: Vec::new(),
        stats: LoadStats::default(),
        crash: CrashStats::default(),
        lane: Lane::new(lane_no),
    };
    let mut client: Option<Client> = None;
    // The generation of the server `client` is (or was last) connected to.
    let mut generation: Option<u64> = None;
    let mut in_doubt: Option<InDoubt> = None;
    let mut n = 0u64;
    loop {
        let Some(c) = client.as_mut() else {
            let Some(up) = life.wait_up(generation) else {
                break;
            };
            if generation.is_some() {
                work.crash.reconnects += 1;
            }
            generation = Some(up);
            let mut c = match Client::connect(url, NoTls) {
                Ok(c) => c,
                Err(e) if lost_connection(&e) => continue,
                Err(e) => panic!("lane {lane_no}: connect: {}", describe(&e)),
            };
            if let Some(doubt) = in_doubt.take() {
                match settle(&mut c, doubt, life, &mut work) {
                    Ok(()) => {}
                    Err(doubt) => {
                        in_doubt = Some(*doubt);
                        continue;
                    }
                }
            }
            client = Some(c);
            continue;
        };
        if life.is_over() {
            break;
        }
        let generation = generation.expect("connected");
        n += 1;
        let snapshot = work.lane.clone();
        let label = format!("lane {lane_no} tx {n}");
        let outcome = crash_transaction(
            c,
            &mut work.lane,
            &mut rng,
            label,
            &mut work.stats,
            &life.committing,
        );
        match outcome {
            Outcome::NotBegun => client = None,
            Outcome::Committed(record) => work.records.push((generation, record)),
            Outcome::Discarded(xid) => {
                work.discarded.extend(xid.map(|x| (x, generation)));
                work.lane = snapshot;
            }
            Outcome::CutOff(xid) => {
                work.discarded.extend(xid.map(|x| (x, generation)));
                work.lane = snapshot;
                work.crash.cut_off += 1;
                client = None;
            }
            Outcome::InDoubt(record) => {
                let committed = std::mem::replace(&mut work.lane, snapshot);
                in_doubt = Some((record, committed, generation));
                client = None;
            }
        }
    }
    work.crash.unresolved += u64::from(in_doubt.is_some());
    work
}

/// Settles a transaction in doubt on a connection to the restarted server: committed
/// (the lane takes its changes, and it is checked as a committed transaction) or aborted
/// (checked as one that left nothing). `Err` gives it back when the connection is lost
/// again.
fn settle(
    c: &mut Client,
    (mut record, committed, generation): InDoubt,
    life: &Lifecycle,
    work: &mut CrashWork,
) -> Result<(), Box<InDoubt>> {
    let Some(xid) = record.xid else {
        assert!(
            record.acts.is_empty(),
            "{}: changes without an id",
            record.label
        );
        work.crash.in_doubt_without_changes += 1;
        return Ok(());
    };
    if life.forgotten(xid, generation) {
        work.crash.in_doubt_forgotten += 1;
        return Ok(());
    }
    let status: Option<String> =
        match c.query_one("SELECT pg_xact_status($1::text::xid8)", &[&xid.to_string()]) {
            Ok(row) => row.get(0),
            Err(e) if lost_connection(&e) => return Err(Box::new((record, committed, generation))),
            Err(e) => panic!("{}: pg_xact_status: {}", record.label, describe(&e)),
        };
    match status.as_deref() {
        Some("committed") => {
            record.label.push_str(" (in doubt, committed)");
            work.lane = committed;
            work.records.push((generation, record));
            work.crash.in_doubt_committed += 1;
        }
        Some("aborted") => {
            work.discarded.push((xid, generation));
            work.crash.in_doubt_aborted += 1;
        }
        other => panic!(
            "{} (xid {xid}) is {other:?} after the restart",
            record.label
        ),
    }
    Ok(())
}

/// The audited tables hold exactly the rows of the workers' models.
fn assert_tables_match(c: &mut Client, lanes: &[Lane]) -> usize {
    let mut want: Vec<String> = Vec::new();
    for lane in lanes {
        want.extend(
            lane.items
                .iter()
                .map(|(id, item)| format!("item {id} {item:?}")),
        );
        want.extend(
            lane.lines
                .iter()
                .map(|(key, line)| format!("line {key:?} {line:?}")),
        );
        want.extend(
            lane.events
                .iter()
                .map(|(seq, message)| format!("event {} {seq} {message:?}", lane.lane)),
        );
    }
    let mut got: Vec<String> = Vec::new();
    for r in c
        .query("SELECT id, name, qty, note FROM item", &[])
        .unwrap()
    {
        let item = Item {
            name: r.get(1),
            qty: r.get(2),
            note: r.get(3),
        };
        got.push(format!("item {} {item:?}", r.get::<_, i32>(0)));
    }
    for r in c
        .query(
            "SELECT order_id, line_no, product, price, secret FROM line",
            &[],
        )
        .unwrap()
    {
        let line = Line {
            product: r.get(2),
            price: r.get(3),
            secret: r.get(4),
        };
        let key: (i32, i32) = (r.get(0), r.get(1));
        got.push(format!("line {key:?} {line:?}"));
    }
    for r in c
        .query("SELECT lane, seq, message FROM event_log", &[])
        .unwrap()
    {
        let message: Option<String> = r.get(2);
        got.push(format!(
            "event {} {} {message:?}",
            r.get::<_, i32>(0),
            r.get::<_, i32>(1)
        ));
    }
    want.sort();
    got.sort();
    if want != got {
        let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).take(5).collect();
        let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).take(5).collect();
        panic!(
            "the tables differ from the model ({} rows expected, {} found): missing \
             {missing:?}, extra {extra:?}",
            want.len(),
            got.len()
        );
    }
    got.len()
}

/// The mixed load of 8 workers on a private cluster that is brought down `crashes`
/// times at random moments (alternately an immediate shutdown and a hang followed by
/// SIGKILL of every server process; three times in four as soon as a COMMIT is in
/// flight), restarted each time, and checked at the end row for row against the workers'
/// models, and the tables against them too.
fn run_crashes(crashes: u32) {
    const WORKERS: i32 = 8;
    let started = Instant::now();
    let mut server = CrashCluster::start("load");
    let db = TestDb::on_server(server.url(), "crash");
    db.client()
        .batch_execute(SCHEMA)
        .unwrap_or_else(|e| panic!("schema: {}", describe(&e)));
    audit_the_tables(&db);
    let seed = base_seed() ^ 0xC4A5_4ED0;
    let life = Arc::new(Lifecycle::default());
    life.set(|s| s.up = true);
    let workers: Vec<_> = (0..WORKERS)
        .map(|lane| {
            let (url, life) = (db.url().to_owned(), life.clone());
            std::thread::spawn(move || {
                crash_worker(&url, lane, seed ^ ((lane as u64 + 1) * 7919), &life)
            })
        })
        .collect();
    let end_run = EndRun(&life);
    let load_started = Instant::now();
    let mut rng = Rng::new(seed);
    let mut recoveries = Vec::new();
    let mut kinds = Vec::new();
    for i in 0..crashes {
        std::thread::sleep(Duration::from_millis(300 + rng.below(1200)));
        let how = if i % 2 == 0 {
            Crash::Immediate
        } else {
            Crash::Kill(Duration::from_millis(rng.below(80)))
        };
        // Three crashes in four wait for a COMMIT in flight, to have some in doubt; the
        // other workers are wherever they are.
        if i % 4 != 0 {
            life.wait_for_a_commit();
        }
        life.set(|s| s.up = false);
        server.crash(how);
        recoveries.push(server.restart());
        kinds.push(how);
        let mut admin = connect(db.url());
        assert!(durable(&mut admin), "settings after the restart");
        let floor = next_xid_after_recovery(&mut admin);
        life.set(|s| {
            s.generation += 1;
            s.floors.push(floor);
            s.up = true;
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    drop(end_run);
    let mut records = Vec::new();
    let mut discarded = Vec::new();
    let mut stats = LoadStats::default();
    let mut crash = CrashStats::default();
    let mut lanes = Vec::new();
    for w in workers {
        let work = w.join().expect("a crash-test worker panicked");
        records.extend(work.records);
        discarded.extend(work.discarded);
        stats.add(&work.stats);
        crash.add(&work.crash);
        lanes.push(work.lane);
    }
    let load_time = load_started.elapsed();

    // Ids the recovery forgot are not looked up: their transactions aborted, and the id
    // may belong to a later transaction now (which is checked under it).
    for (generation, record) in &records {
        if let Some(xid) = record.xid {
            assert!(
                !life.forgotten(xid, *generation),
                "{}: committed, yet its id {xid} was forgotten by recovery",
                record.label
            );
        }
    }
    let (forgotten, checkable): (Vec<_>, Vec<_>) = discarded
        .iter()
        .partition(|(xid, generation)| life.forgotten(*xid, *generation));
    crash.discarded_forgotten = forgotten.len() as u64;
    let checkable: Vec<u64> = checkable.iter().map(|(xid, _)| *xid).collect();
    let records: Vec<TxRecord> = records.into_iter().map(|(_, record)| record).collect();
    let mut c = db.client();
    assert_all_left_nothing(&mut c, &checkable);
    let checked = verify(&mut c, &records);
    let table_rows = assert_tables_match(&mut c, &lanes);
    eprintln!(
        "crashes: {crashes} injected ({kinds:?}), recovery and restart took {recoveries:.2?}; \
         {WORKERS} workers, seed {seed:#x}: {stats:?}; {crash:?}; checked {} committed \
         transactions ({} with a transaction row, {} of them in doubt and found committed) \
         and {} activity rows row for row, {} discarded transactions (of which {} in doubt \
         and found aborted) left nothing, {} more were forgotten by recovery, and the \
         tables hold exactly the {table_rows} modelled rows; load {:.1} s, {:.1} s in all",
        checked.transactions,
        checked.with_context,
        crash.in_doubt_committed,
        checked.activity_rows,
        checkable.len(),
        crash.in_doubt_aborted,
        crash.discarded_forgotten + crash.in_doubt_forgotten,
        load_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    // The cluster goes first, so that the database is not dropped one by one.
    drop(c);
    drop(server);
    drop(db);
    assert_eq!(crash.unresolved, 0, "transactions left in doubt: {crash:?}");
    assert_eq!(recoveries.len(), crashes as usize);
    // The run must have exercised what it claims to: crashes that cut transactions off
    // in the middle, on a load that committed on every server generation.
    assert!(stats.committed > 100, "too few transactions: {stats:?}");
    assert!(
        crash.cut_off + crash.in_doubt() >= u64::from(crashes),
        "crashes that hit no transaction: {crash:?}"
    );
    if crashes >= 4 {
        assert!(crash.in_doubt() > 0, "no crash hit a COMMIT: {crash:?}");
    }
    assert!(crash.reconnects >= u64::from(crashes), "{crash:?}");
}

/// How many crashes a run injects: `AUDIT_CRASHES`, or `default`.
fn crash_count(default: u32) -> u32 {
    std::env::var("AUDIT_CRASHES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn server_crashes_lose_no_committed_history_and_leave_no_partial_one() {
    run_crashes(crash_count(4));
}

#[test]
#[ignore = "long variant (30 crashes): cargo test -p audit-tests --test reliability -- --ignored"]
fn server_crashes_many_times() {
    run_crashes(crash_count(30));
}

// ---------------------------------------------------------------------------------------
// Known defects found by these tests.

/// Known defect: a context without extra values (`set_context(actor, addr, NULL)`, which
/// is what `AuditContext` sends when no `.value(..)` was given) is stored in
/// `transaction.context` is SQL NULL whether the row was created by
/// `transaction_for_context()` (which reads `v_context -> 'context'`, a JSON null) or
/// updated by a later `set_context()`, so `Entry::context()` is `None` and
/// `context IS NULL` finds every such row.
#[test]
fn a_context_without_extra_values_is_stored_as_sql_null() {
    let db = reliability_db("context_null", false);
    let mut c = db.client();
    c.batch_execute(
        "BEGIN;
         SELECT audit.set_context('context first', NULL, NULL);
         INSERT INTO event_log VALUES (1, 1, 'a');
         COMMIT;
         BEGIN;
         INSERT INTO event_log VALUES (1, 2, 'b');
         SELECT audit.set_context('context after', NULL, NULL);
         COMMIT;
         BEGIN;
         SELECT audit.set_context('context set twice', NULL, '{\"n\": 1}');
         INSERT INTO event_log VALUES (1, 3, 'c');
         SELECT audit.set_context('context set twice', NULL, NULL);
         COMMIT;",
    )
    .unwrap();
    let stored: Vec<(String, Option<String>)> = c
        .query(
            "SELECT actor_id, jsonb_typeof(context) FROM audit.transaction ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        stored,
        [
            ("context first".to_owned(), None),
            ("context after".to_owned(), None),
            ("context set twice".to_owned(), None),
        ],
        "`context` of transactions without extra values (None: SQL NULL)"
    );
}
