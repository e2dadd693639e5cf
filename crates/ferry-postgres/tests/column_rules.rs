//! Column rules against a real PostgreSQL: a snapshot row and a streamed row go through
//! `column.mask.with.N.chars`, both hash strategies, `column.truncate.to.N.chars`,
//! `column.propagate.source.type` and `money.fraction.digits`. Expected hashes come from
//! `sha256sum`/Python, not from Ferry's code.

mod common;

use std::time::Duration;

use common::{config, field, poll_until, start, MemOffsets};
use ferry_core::{SourceTask, Value};
use ferry_test_support::postgres::PgCluster;

/// printf 'pepperJöhn' | sha256sum
const V2_HASH: &str = "d3b8714030cf060945f6edc0b7ec2cd7c4c197d1daac1f5355d9e0d43aacbafc";
/// sha256(b"salt" + Java serialization of "Jöhn": AC ED 00 05 74 00 05 + UTF-8), cut to varchar(20).
const V1_HASH_20: &str = "90985fa1e054d1f2d37b";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_and_streamed_rows_follow_the_column_rules() {
    let pg = PgCluster::shared();
    let db = pg.create_database("column_rules").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE people (id int PRIMARY KEY, secret text, h1 varchar(20), h2 text, \
           bio text, amount numeric(8,3), price money);
         INSERT INTO people VALUES (1, 'Jöhn', 'Jöhn', 'Jöhn', 'biography', 1.5, 12.34);",
    )
    .await
    .unwrap();
    let cfg = config(
        pg,
        &db,
        "column_rules",
        &[
            ("column.mask.with.3.chars", "public.people.secret"),
            ("column.mask.hash.SHA-256.with.salt.salt", "public.people.h1"),
            ("column.mask.hash.v2.SHA-256.with.salt.pepper", "public.people.h2"),
            ("column.truncate.to.3.chars", "public.people.bio"),
            ("column.propagate.source.type", "public.people.amount"),
            ("money.fraction.digits", "4"),
        ],
    );
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    let snap = poll_until(&mut t, 1, Duration::from_secs(30)).await;
    c.batch_execute("INSERT INTO people VALUES (2, NULL, 'Jöhn', NULL, 'bi', 2, 5)")
        .await
        .unwrap();
    let streamed = poll_until(&mut t, 1, Duration::from_secs(30)).await;
    t.stop().await.unwrap();

    let s = |v: &str| Value::String(v.to_string());
    let after = |r: &ferry_core::Record, col: &str| field(&r.value, &["after", col]).clone();
    let r = &snap[0];
    assert_eq!(after(r, "secret"), s("***"));
    assert_eq!(after(r, "h1"), s(V1_HASH_20));
    assert_eq!(after(r, "h2"), s(V2_HASH));
    assert_eq!(after(r, "bio"), s("bio"));
    let Value::Decimal(price) = after(r, "price") else {
        panic!("price is not a decimal")
    };
    assert_eq!(price.to_string(), "12.3400");

    let r = &streamed[0];
    // The mask replaces nulls too; a null is not hashed; short values stay.
    assert_eq!(after(r, "secret"), s("***"));
    assert_eq!(after(r, "h1"), s(V1_HASH_20));
    assert_eq!(after(r, "h2"), Value::Null);
    assert_eq!(after(r, "bio"), s("bi"));

    let value_schema = r.value_schema.as_ref().unwrap();
    let row = value_schema.field("after").unwrap().schema();
    let params = |col: &str| {
        row.field(col)
            .unwrap()
            .schema()
            .parameters()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(params("secret").get("masked").map(String::as_str), Some("true"));
    assert_eq!(params("bio").get("truncateLength").map(String::as_str), Some("3"));
    let amount = params("amount");
    assert_eq!(amount["__debezium.source.column.type"], "NUMERIC");
    assert_eq!(amount["__debezium.source.column.length"], "8");
    assert_eq!(amount["__debezium.source.column.scale"], "3");
    assert_eq!(amount["__debezium.source.column.name"], "amount");
    assert_eq!(params("price").get("scale").map(String::as_str), Some("4"));
}
