//! Every PostgreSQL type of Debezium's mapping table, streamed and serialized by
//! JsonConverter (schemas.enable=true); the JSON text is checked per column against
//! what Debezium writes (values from its docs and AbstractRecordsProducerTest).

mod common;

use std::time::Duration;

use common::*;
use ferry_core::serde_json::Value as Json;
use ferry_test_support::postgres::PgCluster;

const TABLE: &str = "CREATE EXTENSION IF NOT EXISTS citext; \
    CREATE TYPE mood AS ENUM ('happy', 'sad', 'ok'); \
    CREATE TABLE all_types (id int PRIMARY KEY, \
      c_int2 int2, c_int4 int4, c_int8 int8, c_float4 float4, c_float8 float8, \
      c_numeric numeric(10,2), c_numeric_int numeric(4), c_numeric_var numeric, c_bool bool, \
      c_text text, c_varchar varchar(10), c_char char(5), c_uuid uuid, c_json json, c_jsonb jsonb, \
      c_date date, c_time3 time(3), c_time6 time(6), c_time time, c_ts3 timestamp(3), c_ts6 timestamp(6), \
      c_ts timestamp, c_tstz timestamptz, c_tstz3 timestamptz(3), c_timetz timetz, c_timetz3 timetz(3), \
      c_interval interval, c_bytea bytea, c_enum mood, c_int_arr int[], c_text_arr text[], c_enum_arr mood[], \
      c_money money, c_inet inet, c_cidr cidr, c_macaddr macaddr, c_xml xml, c_citext citext, \
      c_oid oid, c_bit bit(1), c_notnull int NOT NULL)";

const ROW: &str = "(%ID%, 1, 123456, 1234567890123, 3.3, 4.44, \
      12345.67, 22, 22.2200, true, \
      'some text', 'žš', 'abc', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"bar\": \"baz\"}', '{\"bar\": \"baz\"}', \
      '2016-11-04', '13:51:30.123', '13:51:30.123456', '13:51:30.5', '2016-11-04 13:51:30.123', '2016-11-04 13:51:30.123456', \
      '2016-11-04 13:51:30.1', '2016-11-04 13:51:30.123456+02', '2016-11-04 13:51:30.5+02', '13:51:30.123789+02', '13:51:30.12+02', \
      'P1Y2M3DT4H5M6.78S', '\\x010203', 'sad', '{1,2,NULL}', '{a,\"b c\"}', '{happy,ok}', \
      '$1234.11', '192.168.2.0/12', '192.168.100.128/25', '08:00:2b:01:02:03', '<foo>bar</foo>', 'Hello World', \
      4000000000, B'1', 7)";

async fn setup(db: &str) -> (&'static PgCluster, tokio_postgres::Client) {
    let pg = PgCluster::shared();
    let db = pg.create_database(db).await;
    let c = pg.connect(&db).await;
    c.batch_execute(TABLE).await.unwrap();
    (pg, c)
}

/// Streams one INSERT of [`ROW`] with `extra` settings; the key and value JSON.
async fn capture(
    pg: &PgCluster,
    c: &tokio_postgres::Client,
    db: &str,
    slot: &str,
    id: i32,
    extra: &[(&str, &str)],
) -> (Json, Json) {
    let mut settings = vec![("snapshot.mode", "no_data")];
    settings.extend_from_slice(extra);
    let cfg = config(pg, db, slot, &settings);
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    c.batch_execute(&format!(
        "INSERT INTO all_types VALUES {}",
        ROW.replace("%ID%", &id.to_string())
    ))
    .await
    .unwrap();
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    t.stop().await.unwrap();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let (k, v) = to_json(&recs[0]);
    (parse(&k.unwrap()), parse(&v.unwrap()))
}

fn check(value: &Json, expected: &[(&str, &str, &str)]) {
    let mut failures = Vec::new();
    for (col, schema, payload) in expected {
        let Some((s, p)) = after_column(value, col) else {
            failures.push(format!("{col}: not in the schema"));
            continue;
        };
        let want_schema = format!("{},\"field\":\"{col}\"}}", &schema[..schema.len() - 1]);
        if s != want_schema {
            failures.push(format!("{col} schema:\n  got  {s}\n  want {want_schema}"));
        }
        if p != *payload {
            failures.push(format!("{col} payload:\n  got  {p}\n  want {payload}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn opt(ty: &str) -> String {
    format!("{{\"type\":\"{ty}\",\"optional\":true}}")
}

fn named(ty: &str, name: &str) -> String {
    format!("{{\"type\":\"{ty}\",\"optional\":true,\"name\":\"{name}\",\"version\":1}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_as_json_with_default_modes() {
    let (pg, c) = setup("types_default").await;
    let (key, value) = capture(pg, &c, "types_default", "types_default", 1, &[]).await;
    assert_eq!(
        compact(&key),
        r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"srv.public.all_types.Key"},"payload":{"id":1}}"#
    );
    let int16 = opt("int16");
    let int32 = opt("int32");
    let int64 = opt("int64");
    let float = opt("float");
    let double = opt("double");
    let boolean = opt("boolean");
    let string = opt("string");
    let bytes = opt("bytes");
    let uuid = named("string", "io.debezium.data.Uuid");
    let json = named("string", "io.debezium.data.Json");
    let xml = named("string", "io.debezium.data.Xml");
    let date = named("int32", "io.debezium.time.Date");
    let time = named("int32", "io.debezium.time.Time");
    let micro_time = named("int64", "io.debezium.time.MicroTime");
    let timestamp = named("int64", "io.debezium.time.Timestamp");
    let micro_timestamp = named("int64", "io.debezium.time.MicroTimestamp");
    let zoned_timestamp = named("string", "io.debezium.time.ZonedTimestamp");
    let zoned_time = named("string", "io.debezium.time.ZonedTime");
    let micro_duration = named("int64", "io.debezium.time.MicroDuration");
    let decimal_10_2 = r#"{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}}"#;
    let decimal_4_0 = r#"{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"0","connect.decimal.precision":"4"}}"#;
    let var_decimal = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal"}"#;
    let money = r#"{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}}"#;
    let enum_ = r#"{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"happy,sad,ok"}}"#;
    // Debezium builds enum array elements with Enum.builder(...) and does not make them optional.
    let enum_arr = r#"{"type":"array","items":{"type":"string","optional":false,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"happy,sad,ok"}},"optional":true}"#;
    let int_arr = r#"{"type":"array","items":{"type":"int32","optional":true},"optional":true}"#;
    let text_arr = r#"{"type":"array","items":{"type":"string","optional":true},"optional":true}"#;
    let expected: Vec<(&str, &str, &str)> = vec![
        ("id", r#"{"type":"int32","optional":false}"#, "1"),
        ("c_int2", &int16, "1"),
        ("c_int4", &int32, "123456"),
        ("c_int8", &int64, "1234567890123"),
        ("c_float4", &float, "3.3"),
        ("c_float8", &double, "4.44"),
        // 12345.67 → unscaled 1234567 = 0x12D687
        ("c_numeric", decimal_10_2, r#""EtaH""#),
        ("c_numeric_int", decimal_4_0, r#""Fg==""#),
        // 22.2200 → stripped to 22.22 (scale 2, unscaled 2222 = 0x08AE)
        ("c_numeric_var", var_decimal, r#"{"scale":2,"value":"CK4="}"#),
        ("c_bool", &boolean, "true"),
        ("c_text", &string, r#""some text""#),
        ("c_varchar", &string, r#""žš""#),
        ("c_char", &string, r#""abc  ""#),
        ("c_uuid", &uuid, r#""a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11""#),
        ("c_json", &json, r#""{\"bar\": \"baz\"}""#),
        ("c_jsonb", &json, r#""{\"bar\": \"baz\"}""#),
        ("c_date", &date, "17109"),
        ("c_time3", &time, "49890123"),
        ("c_time6", &micro_time, "49890123456"),
        ("c_time", &micro_time, "49890500000"),
        ("c_ts3", &timestamp, "1478267490123"),
        ("c_ts6", &micro_timestamp, "1478267490123456"),
        ("c_ts", &micro_timestamp, "1478267490100000"),
        ("c_tstz", &zoned_timestamp, r#""2016-11-04T11:51:30.123456Z""#),
        ("c_tstz3", &zoned_timestamp, r#""2016-11-04T11:51:30.500Z""#),
        ("c_timetz", &zoned_time, r#""11:51:30.123789Z""#),
        // ISO_OFFSET_TIME drops trailing zeros of the fraction.
        ("c_timetz3", &zoned_time, r#""11:51:30.12Z""#),
        // MicroDuration.durationMicros(1, 2, 3, 4, 5, 6.78, 365.25 / 12)
        ("c_interval", &micro_duration, "37091106780000"),
        ("c_bytea", &bytes, r#""AQID""#),
        ("c_enum", enum_, r#""sad""#),
        ("c_int_arr", int_arr, "[1,2,null]"),
        ("c_text_arr", text_arr, r#"["a","b c"]"#),
        ("c_enum_arr", enum_arr, r#"["happy","ok"]"#),
        // $1234.11 → unscaled 123411 = 0x01E213
        ("c_money", money, r#""AeIT""#),
        ("c_inet", &string, r#""192.168.2.0/12""#),
        ("c_cidr", &string, r#""192.168.100.128/25""#),
        ("c_macaddr", &string, r#""08:00:2b:01:02:03""#),
        ("c_xml", &xml, r#""<foo>bar</foo>""#),
        ("c_citext", &string, r#""Hello World""#),
        ("c_oid", &int64, "4000000000"),
        ("c_bit", &boolean, "true"),
        ("c_notnull", r#"{"type":"int32","optional":false}"#, "7"),
    ];
    check(&value, &expected);
    // Every column of the table is in the schema, in table order.
    let after = value["schema"]["fields"][1]["fields"].as_array().unwrap();
    assert_eq!(after.len(), expected.len());
    for (f, (col, _, _)) in after.iter().zip(&expected) {
        assert_eq!(f["field"], *col);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_handling_double_and_string() {
    let (pg, c) = setup("types_decimal").await;
    let (_, value) = capture(
        pg,
        &c,
        "types_decimal",
        "types_decimal_double",
        1,
        &[("decimal.handling.mode", "double")],
    )
    .await;
    let double = opt("double");
    check(
        &value,
        &[
            ("c_numeric", &double, "12345.67"),
            ("c_numeric_int", &double, "22.0"),
            ("c_numeric_var", &double, "22.22"),
            ("c_money", &double, "1234.11"),
        ],
    );
    let (_, value) = capture(
        pg,
        &c,
        "types_decimal",
        "types_decimal_string",
        2,
        &[("decimal.handling.mode", "string")],
    )
    .await;
    let string = opt("string");
    check(
        &value,
        &[
            ("c_numeric", &string, r#""12345.67""#),
            ("c_numeric_int", &string, r#""22""#),
            ("c_numeric_var", &string, r#""22.2200""#),
            ("c_money", &string, r#""1234.11""#),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_precision_connect_and_adaptive_time_microseconds() {
    let (pg, c) = setup("types_time").await;
    let (_, value) = capture(
        pg,
        &c,
        "types_time",
        "types_time_connect",
        1,
        &[("time.precision.mode", "connect")],
    )
    .await;
    let date = named("int32", "org.apache.kafka.connect.data.Date");
    let time = named("int32", "org.apache.kafka.connect.data.Time");
    let ts = named("int64", "org.apache.kafka.connect.data.Timestamp");
    let zoned_timestamp = named("string", "io.debezium.time.ZonedTimestamp");
    let zoned_time = named("string", "io.debezium.time.ZonedTime");
    check(
        &value,
        &[
            ("c_date", &date, "17109"),
            ("c_time3", &time, "49890123"),
            ("c_time6", &time, "49890123"),
            ("c_time", &time, "49890500"),
            ("c_ts3", &ts, "1478267490123"),
            ("c_ts6", &ts, "1478267490123"),
            ("c_ts", &ts, "1478267490100"),
            // Zoned types do not depend on time.precision.mode.
            ("c_tstz", &zoned_timestamp, r#""2016-11-04T11:51:30.123456Z""#),
            ("c_timetz", &zoned_time, r#""11:51:30.123789Z""#),
        ],
    );
    let (_, value) = capture(
        pg,
        &c,
        "types_time",
        "types_time_micro",
        2,
        &[("time.precision.mode", "adaptive_time_microseconds")],
    )
    .await;
    let date = named("int32", "io.debezium.time.Date");
    let micro_time = named("int64", "io.debezium.time.MicroTime");
    let timestamp = named("int64", "io.debezium.time.Timestamp");
    let micro_timestamp = named("int64", "io.debezium.time.MicroTimestamp");
    check(
        &value,
        &[
            ("c_date", &date, "17109"),
            ("c_time3", &micro_time, "49890123000"),
            ("c_time6", &micro_time, "49890123456"),
            ("c_time", &micro_time, "49890500000"),
            ("c_ts3", &timestamp, "1478267490123"),
            ("c_ts6", &micro_timestamp, "1478267490123456"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_string_and_binary_modes() {
    let (pg, c) = setup("types_modes").await;
    let (_, value) = capture(
        pg,
        &c,
        "types_modes",
        "types_modes",
        1,
        &[
            ("interval.handling.mode", "string"),
            ("binary.handling.mode", "hex"),
        ],
    )
    .await;
    check(
        &value,
        &[
            (
                "c_interval",
                &named("string", "io.debezium.time.Interval"),
                r#""P1Y2M3DT4H5M6.78S""#,
            ),
            ("c_bytea", &opt("string"), r#""010203""#),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_reads_the_same_json_as_streaming() {
    let (pg, c) = setup("types_snapshot").await;
    c.batch_execute(&format!(
        "INSERT INTO all_types VALUES {}",
        ROW.replace("%ID%", "1")
    ))
    .await
    .unwrap();
    let cfg = config(pg, "types_snapshot", "types_snapshot", &[]);
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    let snap = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    assert_eq!(op(&snap[0]).as_deref(), Some("r"));
    c.batch_execute(&format!(
        "INSERT INTO all_types VALUES {}",
        ROW.replace("%ID%", "1").replacen("(1,", "(2,", 1)
    ))
    .await
    .unwrap();
    let streamed = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    t.stop().await.unwrap();
    assert_eq!(op(&streamed[0]).as_deref(), Some("c"));
    let s = parse(&to_json(&snap[0]).1.unwrap());
    let m = parse(&to_json(&streamed[0]).1.unwrap());
    assert_eq!(compact(&s["schema"]), compact(&m["schema"]));
    let mut a = s["payload"]["after"].clone();
    let b = m["payload"]["after"].clone();
    a["id"] = b["id"].clone();
    assert_eq!(compact(&a), compact(&b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn special_values_infinity_bc_large_years_nan() {
    let pg = PgCluster::shared();
    let db = pg.create_database("types_special").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE special (id int PRIMARY KEY, ts_pinf timestamp, ts_ninf timestamp, ts3_pinf timestamp(3), \
           tz_pinf timestamptz, tz_ninf timestamptz, d_pinf date, d_bc date, ts_bc timestamp, ts_large timestamp, \
           tz_large timestamptz, n_nan numeric, n_pinf numeric, n_ninf numeric, n_zero numeric, n_big numeric)",
    )
    .await
    .unwrap();
    let insert =
        "INSERT INTO special VALUES (%ID%, 'infinity', '-infinity', 'infinity', 'infinity', '-infinity', \
        'infinity', '0044-03-15 BC', '0044-03-15 12:00:00 BC', '21016-11-04 13:51:30.123456', \
        '21016-11-04 13:51:30.123456+07', 'NaN', 'Infinity', '-Infinity', 0.000, 1200)";
    let mut values = Vec::new();
    for (id, extra) in [(1, vec![]), (2, vec![("decimal.handling.mode", "string")])] {
        let mut settings = vec![("snapshot.mode", "no_data")];
        settings.extend(extra);
        let slot = format!("types_special_{id}");
        let cfg = config(pg, &db, &slot, &settings);
        let mut t = start(&cfg, &MemOffsets::default()).await;
        c.batch_execute(&insert.replace("%ID%", &id.to_string()))
            .await
            .unwrap();
        let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
        t.stop().await.unwrap();
        values.push(parse(&to_json(&recs[0]).1.unwrap()));
    }
    let micro_timestamp = named("int64", "io.debezium.time.MicroTimestamp");
    let timestamp = named("int64", "io.debezium.time.Timestamp");
    let zoned = named("string", "io.debezium.time.ZonedTimestamp");
    let date = named("int32", "io.debezium.time.Date");
    let var_decimal = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal"}"#;
    check(
        &values[0],
        &[
            // PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY
            ("ts_pinf", &micro_timestamp, "9223372036825200000"),
            ("ts_ninf", &micro_timestamp, "-9223372036832400000"),
            ("ts3_pinf", &timestamp, "9223372036825200"),
            ("tz_pinf", &zoned, r#""infinity""#),
            ("tz_ninf", &zoned, r#""-infinity""#),
            // PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE (-5877611-06-21) as epoch days
            ("d_pinf", &date, "-2147472692"),
            // 44 BC = proleptic year -43
            ("d_bc", &date, "-735160"),
            ("ts_bc", &micro_timestamp, "-63517780800000000"),
            ("ts_large", &micro_timestamp, "601060312290123456"),
            // AbstractRecordsProducerTest: expectedTzLarge
            ("tz_large", &zoned, r#""+21016-11-04T06:51:30.123456Z""#),
            // 0.000 → stripped to 0 (scale 0); 1200 stays scale 0
            ("n_zero", var_decimal, r#"{"scale":0,"value":"AA=="}"#),
            ("n_big", var_decimal, r#"{"scale":0,"value":"BLA="}"#),
        ],
    );
    let string = opt("string");
    check(
        &values[1],
        &[
            ("n_nan", &string, r#""NAN""#),
            ("n_pinf", &string, r#""POSITIVE_INFINITY""#),
            ("n_ninf", &string, r#""NEGATIVE_INFINITY""#),
            ("n_zero", &string, r#""0.000""#),
        ],
    );
}

/// Column defaults in field schemas, as Debezium's PostgresDefaultValueConverterIT
/// expects them: literals as values, generated defaults as the type's zero, `NULL::type`
/// and struct-valued (VariableScaleDecimal) defaults as none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_defaults_in_schemas_as_debezium() {
    let pg = PgCluster::shared();
    let db = pg.create_database("defaults").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TYPE status AS ENUM ('DRAFT', 'DONE'); \
         CREATE TABLE defaults (pk serial PRIMARY KEY, \
           dint integer DEFAULT NULL::integer, dvc1 varchar(64) DEFAULT NULL::character varying, \
           dvc2 varchar(64) DEFAULT 'NULL', dvc3 varchar(64) DEFAULT 'MYVALUE', \
           dvc5 varchar(64) DEFAULT 'NULL::character varying', \
           dt1 timestamp DEFAULT CURRENT_TIMESTAMP, dt2 date DEFAULT CURRENT_DATE, dt3 time DEFAULT CURRENT_TIME, \
           dtz timestamptz DEFAULT now(), cost numeric(12,0) NOT NULL DEFAULT 0.0, price numeric(10,2) DEFAULT 1.5, \
           uid uuid NOT NULL DEFAULT gen_random_uuid(), st status NOT NULL DEFAULT 'DRAFT', flag bool DEFAULT true, \
           n int8 DEFAULT 42, neg int4 DEFAULT -1, f8 float8 DEFAULT 1.5, doc jsonb DEFAULT '{}'::jsonb, \
           q text DEFAULT 'it''s', d date DEFAULT '2020-01-02', anyv numeric DEFAULT 3.14, \
           g int GENERATED ALWAYS AS (neg * 2) STORED, \
           b3 bit(3) DEFAULT B'101', b1 bit(1) DEFAULT B'1', vb varbit(8) DEFAULT B'11')",
    )
    .await
    .unwrap();
    let cfg = config(pg, &db, "defaults", &[("snapshot.mode", "no_data")]);
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    c.batch_execute("INSERT INTO defaults (dvc3) VALUES (NULL)")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    t.stop().await.unwrap();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let (k, v) = to_json(&recs[0]);
    let (k, v) = (parse(&k.unwrap()), parse(&v.unwrap()));
    let t = |ty: &str, opt: bool, rest: &str| format!(r#"{{"type":"{ty}","optional":{opt}{rest}}}"#);
    let time = |ty: &str, name: &str, d: &str| {
        t(
            ty,
            true,
            &format!(r#","name":"io.debezium.{name}","version":1,"default":{d}"#),
        )
    };
    let expected = [
        ("pk", t("int32", false, r#","default":0"#)),
        ("dint", t("int32", true, "")),
        ("dvc1", t("string", true, "")),
        ("dvc2", t("string", true, r#","default":"NULL""#)),
        ("dvc3", t("string", true, r#","default":"MYVALUE""#)),
        (
            "dvc5",
            t("string", true, r#","default":"NULL::character varying""#),
        ),
        ("dt1", time("int64", "time.MicroTimestamp", "0")),
        ("dt2", time("int32", "time.Date", "0")),
        ("dt3", time("int64", "time.MicroTime", "0")),
        (
            "dtz",
            time(
                "string",
                "time.ZonedTimestamp",
                r#""1970-01-01T00:00:00.000000Z""#,
            ),
        ),
        (
            "cost",
            t(
                "bytes",
                false,
                r#","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"0","connect.decimal.precision":"12"},"default":"AA==""#,
            ),
        ),
        (
            "price",
            t(
                "bytes",
                true,
                r#","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"default":"AJY=""#,
            ),
        ),
        (
            "uid",
            t(
                "string",
                false,
                r#","name":"io.debezium.data.Uuid","version":1,"default":"00000000-0000-0000-0000-000000000000""#,
            ),
        ),
        (
            "st",
            t(
                "string",
                false,
                r#","name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"DRAFT,DONE"},"default":"DRAFT""#,
            ),
        ),
        ("flag", t("boolean", true, r#","default":true"#)),
        ("n", t("int64", true, r#","default":42"#)),
        ("neg", t("int32", true, r#","default":-1"#)),
        ("f8", t("double", true, r#","default":1.5"#)),
        ("doc", time("string", "data.Json", r#""{}""#)),
        ("q", t("string", true, r#","default":"it's""#)),
        ("d", time("int32", "time.Date", "18263")),
        ("g", t("int32", true, "")),
        (
            "b3",
            t(
                "bytes",
                true,
                r#","name":"io.debezium.data.Bits","version":1,"parameters":{"length":"3"},"default":"BQ==""#,
            ),
        ),
        ("b1", t("boolean", true, r#","default":true"#)),
        (
            "vb",
            t(
                "bytes",
                true,
                r#","name":"io.debezium.data.Bits","version":1,"parameters":{"length":"8"},"default":"Aw==""#,
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (col, want) in &expected {
        let want = format!("{},\"field\":\"{col}\"}}", &want[..want.len() - 1]);
        match after_column(&v, col) {
            Some((got, _)) if got == want => {}
            Some((got, _)) => failures.push(format!("{col}:\n  got  {got}\n  want {want}")),
            None => failures.push(format!("{col}: not in the schema")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    let (anyv, _) = after_column(&v, "anyv").unwrap();
    assert!(!anyv.contains("\"default\""), "{anyv}");
    // The key schema is built from the same columns.
    assert_eq!(
        compact(&k["schema"]["fields"][0]),
        r#"{"type":"int32","optional":false,"default":0,"field":"pk"}"#
    );
    // JsonConverter (replace.null.with.default=true, Connect's default) writes the default
    // for a null in a column that has one, as it does behind Debezium.
    assert_eq!(v["payload"]["after"]["dvc3"], "MYVALUE");
    assert_eq!(v["payload"]["after"]["dint"], Json::Null);
    assert_eq!(v["payload"]["after"]["st"], "DRAFT");
}

/// hstore (an extension type) in both `hstore.handling.mode`s, entries in the order of
/// the Java `HashMap` Debezium fills, and an unchanged TOASTed hstore as DBZ-7582 gives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hstore_as_json_and_as_map() {
    let pg = PgCluster::shared();
    let db = pg.create_database("hstore").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS hstore; \
         CREATE TABLE h (id int PRIMARY KEY, kv hstore, big hstore, b bool)",
    )
    .await
    .unwrap();
    for (slot, mode, schema, id) in [
        (
            "hstore_json",
            "json",
            r#"{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1,"field":"kv"}"#,
            1,
        ),
        (
            "hstore_map",
            "map",
            r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true,"field":"kv"}"#,
            2,
        ),
    ] {
        let cfg = config(
            pg,
            &db,
            slot,
            &[("snapshot.mode", "no_data"), ("hstore.handling.mode", mode)],
        );
        let store = MemOffsets::default();
        let mut t = start(&cfg, &store).await;
        c.batch_execute(&format!(
            "INSERT INTO h VALUES ({id}, 'a=>1, zz=>2, \"k\\\"q\"=>\"x\\\\y\", n=>NULL', \
               hstore('key', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 600) g)), true); \
             UPDATE h SET b = false WHERE id = {id};"
        ))
        .await
        .unwrap();
        let recs = poll_until(&mut t, 2, Duration::from_secs(20)).await;
        t.stop().await.unwrap();
        assert_eq!(recs.len(), 2, "{recs:?}");
        let v = parse(&to_json(&recs[0]).1.unwrap());
        let (s, p) = after_column(&v, "kv").unwrap();
        assert_eq!(s, schema, "{mode}");
        let want = r#"{"zz":"2","a":"1","k\"q":"x\\y","n":null}"#;
        match mode {
            "json" => assert_eq!(p, Json::String(want.into()).to_string()),
            _ => assert_eq!(p, want),
        }
        let v = parse(&to_json(&recs[1]).1.unwrap());
        let (_, p) = after_column(&v, "big").unwrap();
        let placeholder = r#"{"__debezium_unavailable_value":"__debezium_unavailable_value"}"#;
        match mode {
            "json" => assert_eq!(p, Json::String(placeholder.into()).to_string()),
            _ => assert_eq!(p, placeholder),
        }
    }
}

/// Debezium's bitbin_table (AbstractRecordsProducerTest.schemaAndValuesForBinTypes):
/// bit(1) and varbit(1) as booleans, longer bit strings as io.debezium.data.Bits bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bit_strings_as_debezium_bits() {
    let pg = PgCluster::shared();
    let db = pg.create_database("bits").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE bitbin_table (pk SERIAL, ba BYTEA, bol BIT(1), bol2 BIT, bs BIT(2), bs7 BIT(7), \
         bv1 BIT VARYING(1), bv BIT VARYING(2), bv2 BIT VARYING(24), bvl BIT VARYING(64), \
         bvunlimited1 BIT VARYING, bvunlimited2 BIT VARYING, PRIMARY KEY(pk))",
    )
    .await
    .unwrap();
    let cfg = config(pg, &db, "bits", &[("snapshot.mode", "no_data")]);
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    c.batch_execute(
        "INSERT INTO bitbin_table (ba, bol, bol2, bs, bs7, bv1, bv, bv2, bvl, bvunlimited1, bvunlimited2) \
         VALUES (E'\\\\001\\\\002\\\\003'::bytea, '0'::bit(1), '1'::bit(1), '11'::bit(2), '1'::bit(7), \
         '1'::bit varying(1), '00'::bit(2), '000000110000001000000001'::bit(24), \
         '1000000000000000000000000000000000000000000000000000000000000000'::bit(64), '101', \
         '111011010001000110000001000000001')",
    )
    .await
    .unwrap();
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    t.stop().await.unwrap();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let v = parse(&to_json(&recs[0]).1.unwrap());
    let bits = |n: &str| {
        format!(
            r#"{{"type":"bytes","optional":true,"name":"io.debezium.data.Bits","version":1,"parameters":{{"length":"{n}"}}}}"#
        )
    };
    // Payloads: base64 of Debezium's expected byte arrays.
    check(
        &v,
        &[
            ("ba", &opt("bytes"), r#""AQID""#),
            ("bol", &opt("boolean"), "false"),
            ("bol2", &opt("boolean"), "true"),
            ("bs", &bits("2"), r#""Aw==""#),
            ("bs7", &bits("7"), r#""QA==""#),
            ("bv1", &opt("boolean"), "true"),
            ("bv", &bits("2"), r#""""#),
            ("bv2", &bits("24"), r#""AQID""#),
            ("bvl", &bits("64"), r#""AAAAAAAAAIA=""#),
            ("bvunlimited1", &bits("2147483647"), r#""BQ==""#),
            ("bvunlimited2", &bits("2147483647"), r#""AQIj2gE=""#),
        ],
    );
}

/// tsvector as io.debezium.data.Tsvector: PostgreSQL's text form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tsvector_as_debezium_tsvector() {
    let pg = PgCluster::shared();
    let db = pg.create_database("tsvector").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE docs (id int PRIMARY KEY, tsv tsvector)")
        .await
        .unwrap();
    let cfg = config(pg, &db, "tsvector", &[("snapshot.mode", "no_data")]);
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    c.batch_execute("INSERT INTO docs VALUES (1, to_tsvector('english', 'The quick brown foxes jumped'))")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    t.stop().await.unwrap();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let v = parse(&to_json(&recs[0]).1.unwrap());
    check(
        &v,
        &[(
            "tsv",
            &named("string", "io.debezium.data.Tsvector"),
            r#""'brown':3 'fox':4 'jump':5 'quick':2""#,
        )],
    );
}

/// point as io.debezium.data.geometry.Point (x, y, little-endian WKB, null SRID), required
/// or optional; box and the other geometric types have no Debezium mapping and are skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_as_debezium_geometry_points() {
    let pg = PgCluster::shared();
    let db = pg.create_database("points").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE places (id int PRIMARY KEY, at point NOT NULL, maybe point, area box)")
        .await
        .unwrap();
    let cfg = config(pg, &db, "points", &[("snapshot.mode", "no_data")]);
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    c.batch_execute("INSERT INTO places VALUES (1, '(1.5,-1)', NULL, '((0,0),(1,1))')")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    t.stop().await.unwrap();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let v = parse(&to_json(&recs[0]).1.unwrap());
    let point = |optional: bool| {
        format!(
            r#"{{"type":"struct","fields":[{{"type":"double","optional":false,"field":"x"}},{{"type":"double","optional":false,"field":"y"}},{{"type":"bytes","optional":true,"field":"wkb"}},{{"type":"int32","optional":true,"field":"srid"}}],"optional":{optional},"name":"io.debezium.data.geometry.Point","version":1,"doc":"Geometry (POINT)"}}"#
        )
    };
    check(
        &v,
        &[
            (
                "at",
                &point(false),
                r#"{"x":1.5,"y":-1.0,"wkb":"AQEAAAAAAAAAAAD4PwAAAAAAAPC/","srid":null}"#,
            ),
            ("maybe", &point(true), "null"),
        ],
    );
    assert!(after_column(&v, "area").is_none(), "box has no Debezium mapping");
}
