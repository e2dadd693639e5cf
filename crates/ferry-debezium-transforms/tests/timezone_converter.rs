//! TimezoneConverter on change events with each kind of time column Debezium emits.

mod support;

use ferry_core::{Record, Schema, SchemaType, Transformation, Value};
use ferry_debezium_transforms::TimezoneConverter;
use support::*;

const PLACED: &str = "2024-03-10T01:02:03.123456Z";
/// 2024-07-01T12:00:00.5 as MicroTimestamp.
const LOCAL_US: i64 = 1_719_835_200_500_000;
/// Asia/Kolkata's offset.
const IST: i64 = 19_800;

fn table() -> Table {
    Table::new(
        "customers",
        vec![
            ("id", Schema::int32()),
            ("placed", zoned_timestamp()),
            ("local_at", micro_timestamp()),
            ("ms", named(SchemaType::Int64, "io.debezium.time.Timestamp", true)),
            ("t", named(SchemaType::String, "io.debezium.time.ZonedTime", true)),
            ("d", named(SchemaType::Int32, "io.debezium.time.Date", true)),
        ],
    )
}

fn event(t: &Table) -> Record {
    let row = t.row(vec![
        Value::Int32(1),
        s(PLACED),
        Value::Int64(LOCAL_US),
        Value::Int64(LOCAL_US / 1000),
        s("10:11:12.5Z"),
        Value::Int32(19_000),
    ]);
    t.event("u", Some(row.clone()), Some(row))
}

fn convert(pairs: &[(&str, &str)]) -> Record {
    let mut x = TimezoneConverter::new();
    x.configure(&config(pairs)).unwrap();
    x.apply(event(&table())).unwrap().unwrap()
}

fn block<'a>(r: &'a Record, name: &str) -> &'a ferry_core::Struct {
    r.value
        .as_struct()
        .unwrap()
        .get(name)
        .unwrap()
        .as_struct()
        .unwrap()
}

#[test]
fn every_time_field_of_before_and_after_moves_to_the_zone() {
    let out = convert(&[("converted.timezone", "Asia/Kolkata")]);
    for name in ["before", "after"] {
        let row = block(&out, name);
        assert_eq!(row.get("placed"), Some(&s("2024-03-10T06:32:03.123456+05:30")));
        // The UTC wall-clock time read as Kolkata time.
        assert_eq!(
            row.get("local_at"),
            Some(&Value::Int64(LOCAL_US - IST * 1_000_000))
        );
        assert_eq!(row.get("ms"), Some(&Value::Int64(LOCAL_US / 1000 - IST * 1000)));
        assert_eq!(row.get("t"), Some(&s("15:41:12.5+05:30")));
        // Dates are not converted.
        assert_eq!(row.get("d"), Some(&Value::Int32(19_000)));
    }
    // The source block only when named.
    assert_eq!(
        block(&out, "source").get("ts_ms"),
        Some(&Value::Int64(TS_MS - 23))
    );
}

#[test]
fn offsets_and_zone_rules_in_summer() {
    let out = convert(&[("converted.timezone", "-03:00")]);
    assert_eq!(
        block(&out, "after").get("placed"),
        Some(&s("2024-03-09T22:02:03.123456-03:00"))
    );
    // 2024-07-01 12:00 is summer time in Berlin (+02:00).
    let out = convert(&[("converted.timezone", "Europe/Berlin")]);
    assert_eq!(
        block(&out, "after").get("local_at"),
        Some(&Value::Int64(LOCAL_US - 7200 * 1_000_000))
    );
    assert_eq!(
        block(&out, "after").get("placed"),
        Some(&s("2024-03-10T02:02:03.123456+01:00"))
    );
}

#[test]
fn include_rules_pick_events_and_fields() {
    let out = convert(&[
        ("converted.timezone", "Asia/Kolkata"),
        (
            "include.list",
            "source:customers:after.placed,customers:source.ts_ms",
        ),
    ]);
    assert_eq!(
        block(&out, "after").get("placed"),
        Some(&s("2024-03-10T06:32:03.123456+05:30"))
    );
    assert_eq!(block(&out, "before").get("placed"), Some(&s(PLACED)));
    assert_eq!(
        block(&out, "after").get("local_at"),
        Some(&Value::Int64(LOCAL_US))
    );
    assert_eq!(
        block(&out, "source").get("ts_ms"),
        Some(&Value::Int64(TS_MS - 23 + IST * 1000))
    );
    // A rule for another table leaves the event alone.
    let out = convert(&[
        ("converted.timezone", "Asia/Kolkata"),
        ("include.list", "source:orders"),
    ]);
    assert_eq!(out, event(&table()));
}

#[test]
fn exclude_rules_keep_fields_as_they_are() {
    let out = convert(&[
        ("converted.timezone", "Asia/Kolkata"),
        ("exclude.list", "topic:dbserver1.public.customers:placed"),
    ]);
    assert_eq!(block(&out, "after").get("placed"), Some(&s(PLACED)));
    assert_eq!(
        block(&out, "after").get("local_at"),
        Some(&Value::Int64(LOCAL_US - IST * 1_000_000))
    );
}

#[test]
fn settings_are_checked_with_debeziums_messages() {
    let err = |pairs: &[(&str, &str)]| {
        TimezoneConverter::new()
            .configure(&config(pairs))
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[]).contains("A value is required"));
    assert!(err(&[("converted.timezone", "Mars/Olympus")]).contains("Invalid timezone format."));
    assert!(
        err(&[("converted.timezone", "UTC"), ("include.list", "customers")])
            .contains("Invalid include list format.")
    );
    assert!(err(&[
        ("converted.timezone", "UTC"),
        ("include.list", "source:a"),
        ("exclude.list", "source:b")
    ])
    .contains("Both include and exclude lists are specified."));
}
