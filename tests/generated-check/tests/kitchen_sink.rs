//! The kitchen-sink code decodes real activity of tables with odd names: quoted and
//! keyword identifiers, non-ASCII names, a non-public schema with a quoted enum, a
//! composite key, a table without a key.

use audit_generated_check::kitchen_sink::{
    ArticleChange, Cafe, CafeChange, Change, EventLogChange, MeasurementChange, Mood, OrderItems,
    OrderItemsChange, OrderLineKey, SalesInvoiceChange, SalesMoneyBag, User, UserChange, UserKey,
};
use audit_runtime::Activity;
use audit_tests::{TestDb, fixture, install_reference_audit, install_reference_audit_with};

#[test]
fn odd_tables_decode_from_real_activity() {
    let sql = std::fs::read_to_string(fixture("kitchen_sink/schema.sql")).unwrap();
    let db = TestDb::with_sql("kitchen_sink_decode", &sql);
    for table in [
        "public.user",
        "public.Order Items",
        "public.café",
        "Sales.invoice",
        "public.order_line",
        "public.event_log",
        "public.measurement",
    ] {
        install_reference_audit(&db, table);
    }
    install_reference_audit_with(&db, "public.article", &["search_vector"], true);
    let mut client = db.client();
    client
        .batch_execute(
            r#"
            INSERT INTO "user" VALUES (1, 'o', NULL);
            UPDATE "user" SET "from" = 'f', "order" = NULL;
            INSERT INTO "Order Items" VALUES (7, 12.340, 'he said "hi"');
            INSERT INTO "café" VALUES (3, 'groß', '日本語');
            INSERT INTO "Sales".invoice (id, bag, total) VALUES (1, 'large', 10.5);
            INSERT INTO order_line VALUES (7, 2, 'widget', 3);
            INSERT INTO event_log VALUES ('2024-05-01 12:00+02', 'started');
            INSERT INTO article (name, status, rating, search_vector)
                VALUES ('a', 'it''s complicated', 3, 'a b');
            DELETE FROM "café";
            TRUNCATE article;
            INSERT INTO measurement VALUES (1, '2025-06-01', 30);
            "#,
        )
        .unwrap();
    let activities: Vec<Activity> = client
        .query("SELECT * FROM audit.activity ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| Activity::from_row(r).unwrap())
        .collect();
    let changes: Vec<Change> = activities
        .iter()
        .map(|a| Change::try_from(a).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(changes.len(), 11);

    let user = User {
        select: 1,
        order: Some("o".to_owned()),
        from: None,
    };
    assert_eq!(
        changes[0],
        Change::User(UserChange::Insert { new: user.clone() })
    );
    let Change::User(update @ UserChange::Update { changed, .. }) = &changes[1] else {
        panic!("{:?}", changes[1])
    };
    assert_eq!(changed.order, Some(None), "set to NULL");
    assert_eq!(changed.from, Some(Some("f".to_owned())));
    assert_eq!(changed.select, None, "unchanged");
    assert_eq!(
        update.new_row().unwrap(),
        User {
            select: 1,
            order: None,
            from: Some("f".to_owned())
        }
    );
    assert_eq!(UserKey::try_from(&activities[1]).unwrap(), user.key());

    let Change::OrderItems(OrderItemsChange::Insert { new }) = &changes[2] else {
        panic!("{:?}", changes[2])
    };
    assert_eq!(
        new,
        &OrderItems {
            item_id: 7,
            unit_price: Some("12.340".parse().unwrap()),
            say_hi: Some("he said \"hi\"".to_owned()),
        }
    );
    let cafe = Cafe {
        naive: 3,
        grosse: Some("groß".to_owned()),
        u65e5_u672c: Some("日本語".to_owned()),
    };
    assert_eq!(
        changes[3],
        Change::Cafe(CafeChange::Insert { new: cafe.clone() })
    );
    let Change::SalesInvoice(SalesInvoiceChange::Insert { new }) = &changes[4] else {
        panic!("{:?}", changes[4])
    };
    assert_eq!(new.bag, Some(SalesMoneyBag::Large));
    assert_eq!(new.total.as_str(), "10.50");
    assert_eq!(
        OrderLineKey::try_from(&activities[5]).unwrap(),
        OrderLineKey {
            order_id: 7,
            line_no: 2
        }
    );
    let Change::EventLog(EventLogChange::Insert { new }) = &changes[6] else {
        panic!("{:?}", changes[6])
    };
    assert_eq!(new.happened_at.to_string(), "2024-05-01T10:00:00");
    assert!(
        activities[6].object_id.is_none(),
        "no key without a primary key"
    );
    let Change::Article(ArticleChange::Insert { new }) = &changes[7] else {
        panic!("{:?}", changes[7])
    };
    assert_eq!(new.status, Mood::ItSComplicated);
    assert_eq!(new.rating, 3);
    assert_eq!(changes[8], Change::Cafe(CafeChange::Delete { old: cafe }));
    assert_eq!(changes[9], Change::Article(ArticleChange::Truncate));
    // A partitioned table's row trigger records the partition's name; the parent's
    // types decode it.
    assert_eq!(activities[10].table_name, "measurement_2025");
    let Change::Measurement(MeasurementChange::Insert { new }) = &changes[10] else {
        panic!("{:?}", changes[10])
    };
    assert_eq!(new.peak, Some(30));
    assert!(MeasurementChange::try_from(&activities[10]).is_ok());
}

/// With `time_crate = "time"`, date and time columns decode to what the `postgres` crate
/// reads into the same `time`-based types.
#[test]
fn time_crate_types_match_the_table() {
    use audit_generated_check::kitchen_sink_time::{Times, TimesChange};
    let sql = std::fs::read_to_string(fixture("kitchen_sink/schema.sql")).unwrap();
    let db = TestDb::with_sql("kitchen_sink_time", &sql);
    install_reference_audit(&db, "public.times");
    let mut client = db.client();
    client
        .batch_execute(
            "SET TimeZone = 'Asia/Kathmandu';
             INSERT INTO times (day, at_time, at_time_tz, precise, stamp, stamp_tz, stamp_tz_ms,
                                span, span_days)
             VALUES ('0044-03-15 BC', '23:59:59.999999', '01:02:03+05:45', '12:00:00.123',
                     '1969-12-31 23:59:59.5', '2024-02-29 12:00:00+02', 'infinity',
                     '1 year -2 days 03:00:00', '3 days'),
                    ('2024-05-01', NULL, NULL, NULL, '-infinity', '1900-01-01 00:00:00+00',
                     '2000-01-01 00:00:00.123+00', NULL, NULL);",
        )
        .unwrap();
    let expected: Vec<Times> = client
        .query(
            "SELECT id, day, at_time, at_time_tz, precise, stamp, stamp_tz, stamp_tz_ms, span,
                    span_days FROM times ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| Times {
            id: r.get(0),
            day: r.get(1),
            at_time: r.get(2),
            at_time_tz: r.get(3),
            precise: r.get(4),
            stamp: r.get(5),
            stamp_tz: r.get(6),
            stamp_tz_ms: r.get(7),
            span: r.get(8),
            span_days: r.get(9),
        })
        .collect();
    let decoded: Vec<Times> = client
        .query("SELECT * FROM audit.activity ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| {
            let activity = Activity::from_row(r).unwrap();
            match TimesChange::try_from(&activity).unwrap() {
                TimesChange::Insert { new } => new,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert_eq!(decoded, expected);
}
