//! Round trip against the real server: rows with ordinary and edge values of every type
//! of the type table are inserted, updated and deleted under the reference audit
//! trigger; every activity decodes to exactly what the `postgres` crate reads from the
//! table itself.

use audit_generated_check::roundtrip::{
    Address, Change, Everything, EverythingChange, Mood, Pair, PairChange, PairKey,
};
use audit_runtime::Activity;
use audit_runtime::types::{Array, Timestamptz};
use audit_tests::{TestDb, fixture, install_reference_audit_with};
use postgres::Client;
use std::collections::BTreeMap;

fn setup() -> TestDb {
    let sql = std::fs::read_to_string(fixture("roundtrip/schema.sql")).unwrap();
    let db = TestDb::with_sql("roundtrip", &sql);
    install_reference_audit_with(&db, "public.everything", &["secret"], false);
    install_reference_audit_with(&db, "public.pair", &[], true);
    db
}

/// The rows as the `postgres` crate reads them; types it has no `FromSql` for (enums,
/// composites) are read through their parts or text.
fn read_everything(client: &mut Client) -> BTreeMap<i32, Everything> {
    let rows = client
        .query(
            "SELECT id, i2, i4, i8, f4, f8, num, num2, cash, txt, vc, ch, flag, bin, uid, d, t,
                    ttz, ts, tstz, iv, ip, net, mac, mac8, js, jsb, ints, words, stamps,
                    moods::text[], feeling::text, mail, rating,
                    to_jsonb(home) IS NULL, (home).street, (home).city, (home).zip,
                    (home).tags, (home).since, to_jsonb(homes)::text
               FROM everything ORDER BY id",
            &[],
        )
        .unwrap();
    rows.iter()
        .map(|r| {
            let moods: Option<Array<String>> = r.get(30);
            let feeling: Option<String> = r.get(31);
            let home_is_null: bool = r.get(34);
            let homes: Option<String> = r.get(40);
            let row = Everything {
                id: r.get(0),
                i2: r.get(1),
                i4: r.get(2),
                i8: r.get(3),
                f4: r.get(4),
                f8: r.get(5),
                num: r.get(6),
                num2: r.get(7),
                cash: r.get(8),
                txt: r.get(9),
                vc: r.get(10),
                ch: r.get(11),
                flag: r.get(12),
                bin: r.get(13),
                uid: r.get(14),
                d: r.get(15),
                t: r.get(16),
                ttz: r.get(17),
                ts: r.get(18),
                tstz: r.get(19),
                iv: r.get(20),
                ip: r.get(21),
                net: r.get(22),
                mac: r.get(23),
                mac8: r.get(24),
                js: r.get(25),
                jsb: r.get(26),
                ints: r.get(27),
                words: r.get(28),
                stamps: r.get(29),
                moods: moods.map(|a| {
                    let dims = a.dims().to_vec();
                    let labels = a
                        .into_elements()
                        .into_iter()
                        .map(|l| l.map(|l| Mood::from_label(&l)))
                        .collect();
                    Array::new(dims, labels).unwrap()
                }),
                feeling: feeling.map(|l| Mood::from_label(&l)),
                mail: r.get(32),
                rating: r.get(33),
                home: (!home_is_null).then(|| Address {
                    street: r.get(35),
                    city: r.get(36),
                    zip: r.get(37),
                    tags: r.get(38),
                    since: r.get::<_, Option<Timestamptz>>(39),
                }),
                // The server's own JSON of an array of composites is the reference here.
                homes: homes.map(|h| serde_json::from_str(&h).unwrap()),
            };
            (row.id, row)
        })
        .collect()
}

fn read_pairs(client: &mut Client) -> BTreeMap<(i64, String), Pair> {
    client
        .query("SELECT a, b, v FROM pair", &[])
        .unwrap()
        .iter()
        .map(|r| {
            let p = Pair {
                a: r.get(0),
                b: r.get(1),
                v: r.get(2),
            };
            ((p.a, p.b.clone()), p)
        })
        .collect()
}

const INSERTS: &str = include_str!("../../fixtures/roundtrip/inserts.sql");

const UPDATES: &str = include_str!("../../fixtures/roundtrip/updates.sql");

#[test]
fn every_activity_decodes_to_what_the_table_held() {
    let db = setup();
    let mut client = db.client();
    client.batch_execute(INSERTS).unwrap();
    let inserted = read_everything(&mut client);
    let inserted_pairs = read_pairs(&mut client);
    client.batch_execute(UPDATES).unwrap();
    let updated = read_everything(&mut client);
    let updated_pairs = read_pairs(&mut client);
    client
        .batch_execute("DELETE FROM everything; DELETE FROM pair WHERE a <> 1; TRUNCATE pair;")
        .unwrap();

    let activities: Vec<Activity> = client
        .query("SELECT * FROM audit.activity ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| Activity::from_row(r).unwrap())
        .collect();
    let mut counts = BTreeMap::<&str, usize>::new();
    for activity in &activities {
        let change = Change::try_from(activity).unwrap_or_else(|e| panic!("{e}"));
        // What serialises deserialises back to the same value.
        let text = serde_json::to_string(&change).unwrap();
        let back: Change = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back, change);
        match change {
            Change::Everything(change) => {
                let key = audit_generated_check::roundtrip::EverythingKey::try_from(activity)
                    .unwrap()
                    .id;
                match &change {
                    EverythingChange::Insert { new } => {
                        assert_eq!(new, &inserted[&key]);
                        *counts.entry("insert").or_default() += 1;
                    }
                    EverythingChange::Update { old, changed } => {
                        assert!(!changed.is_empty());
                        let after = change.new_row().unwrap();
                        // Row 2 is updated twice: compare the last state only.
                        if key != 2 || changed.num.is_some() && changed.i4.is_none() {
                            assert_eq!(after, updated[&key], "update of row {key}");
                        }
                        if key != 2 || changed.i4.is_some() {
                            assert_eq!(old, &inserted[&key], "old row of {key}");
                        }
                        *counts.entry("update").or_default() += 1;
                    }
                    EverythingChange::Delete { old } => {
                        assert_eq!(old, &updated[&key]);
                        *counts.entry("delete").or_default() += 1;
                    }
                }
            }
            Change::Pair(change) => match &change {
                PairChange::Insert { new } => {
                    assert_eq!(new, &inserted_pairs[&(new.a, new.b.clone())]);
                    let key = PairKey::try_from(activity).unwrap();
                    assert_eq!(key, new.key());
                }
                PairChange::Update { old, .. } => {
                    assert_eq!(old, &inserted_pairs[&(old.a, old.b.clone())]);
                    let new = change.new_row().unwrap();
                    assert_eq!(new, updated_pairs[&(new.a, new.b.clone())]);
                }
                PairChange::Delete { old } => {
                    assert_eq!(old, &updated_pairs[&(old.a, old.b.clone())]);
                }
                PairChange::Truncate => *counts.entry("truncate").or_default() += 1,
            },
        }
    }
    assert_eq!(counts["insert"], 6);
    assert_eq!(
        counts["update"], 6,
        "no activity for empty or excluded-only updates"
    );
    assert_eq!(counts["delete"], 6);
    assert_eq!(counts["truncate"], 1);
    if std::env::var_os("ROUNDTRIP_DUMP").is_some() {
        for a in &activities {
            eprintln!(
                "{} {:?} {:?} {:?}",
                a.verb,
                a.object_id_text(),
                a.old_data_text(),
                a.changed_data_text()
            );
        }
    }
}
