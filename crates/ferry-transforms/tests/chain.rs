//! The transformation chain: parsing, order, predicates, drops, errors and validation.

mod common;

use common::*;
use ferry_core::{ErrorKind, Record, Value};
use ferry_transforms::{chain_config_def, validate_chain, TransformChain};

fn chain(pairs: &[(&str, &str)]) -> TransformChain {
    TransformChain::from_config(&props(pairs), &registry()).unwrap()
}

fn chain_err(pairs: &[(&str, &str)]) -> (String, String) {
    let e = TransformChain::from_config(&props(pairs), &registry()).unwrap_err();
    (e.key().to_owned(), e.to_string())
}

#[test]
fn applies_in_order() {
    let mut c = chain(&[
        ("transforms", "hoist, insert"),
        (
            "transforms.hoist.type",
            "org.apache.kafka.connect.transforms.HoistField$Value",
        ),
        ("transforms.hoist.field", "line"),
        ("transforms.insert.type", "InsertField$Value"),
        ("transforms.insert.topic.field", "topic"),
    ]);
    assert!(!c.is_empty());
    assert_eq!(c.aliases().collect::<Vec<_>>(), ["hoist", "insert"]);
    assert_eq!(
        c.transforms().map(|(_, class)| class).collect::<Vec<_>>(),
        [
            "org.apache.kafka.connect.transforms.HoistField$Value",
            "org.apache.kafka.connect.transforms.InsertField$Value"
        ]
    );
    let out = c.apply(Record::new("logs", None, s("hello"))).unwrap().unwrap();
    assert_eq!(out.value, map(&[("line", s("hello")), ("topic", s("logs"))]));

    let mut empty = chain(&[]);
    assert!(empty.is_empty());
    let r = Record::new("t", None, s("x"));
    assert_eq!(empty.apply(r.clone()).unwrap(), Some(r));
}

#[test]
fn predicate_and_negate() {
    let cfg = |negate: Option<&str>| {
        let mut p = vec![
            ("transforms", "route"),
            ("transforms.route.type", "RegexRouter"),
            ("transforms.route.regex", "(.*)"),
            ("transforms.route.replacement", "$1-routed"),
            ("transforms.route.predicate", "isFoo"),
            ("predicates", "isFoo"),
            (
                "predicates.isFoo.type",
                "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            ),
            ("predicates.isFoo.pattern", "foo.*"),
        ];
        if let Some(n) = negate {
            p.push(("transforms.route.negate", n));
        }
        chain(&p)
    };
    let topic = |c: &mut TransformChain, t: &str| {
        c.apply(Record::new(t, None, Value::Null))
            .unwrap()
            .unwrap()
            .topic
            .to_string()
    };
    let mut c = cfg(None);
    assert_eq!(topic(&mut c, "foo1"), "foo1-routed");
    assert_eq!(topic(&mut c, "bar"), "bar");
    let mut c = cfg(Some("true"));
    assert_eq!(topic(&mut c, "foo1"), "foo1");
    assert_eq!(topic(&mut c, "bar"), "bar-routed");
    let mut c = cfg(Some("false"));
    assert_eq!(topic(&mut c, "foo1"), "foo1-routed");
}

#[test]
fn dropped_record_stops_the_chain() {
    let mut c = chain(&[
        ("transforms", "drop,fail"),
        ("transforms.drop.type", "Filter"),
        ("transforms.drop.predicate", "tomb"),
        ("transforms.fail.type", "HoistField$Key"),
        ("transforms.fail.field", "k"),
        ("predicates", "tomb"),
        ("predicates.tomb.type", "RecordIsTombstone"),
    ]);
    assert_eq!(c.apply(Record::new("t", None, Value::Null)).unwrap(), None);
    let out = c.apply(Record::new("t", None, s("v"))).unwrap().unwrap();
    assert_eq!(out.key, map(&[("k", Value::Null)]));
}

#[test]
fn error_names_the_transform() {
    let mut c = chain(&[
        ("transforms", "extract"),
        ("transforms.extract.type", "ExtractField$Value"),
        ("transforms.extract.field", "id"),
    ]);
    let e = c.apply(Record::new("t", None, s("not a map"))).unwrap_err();
    assert_eq!(e.alias, "extract");
    assert_eq!(e.class, "org.apache.kafka.connect.transforms.ExtractField$Value");
    assert_eq!(e.kind(), ErrorKind::Data);
    assert_eq!(
        e.to_string(),
        "Transformation 'extract' (org.apache.kafka.connect.transforms.ExtractField$Value) failed: Only Map objects supported in absence of schema for [field extraction], found: java.lang.String"
    );
}

#[test]
fn config_errors_name_the_key() {
    assert_eq!(
        chain_err(&[("transforms", "a")]),
        (
            "transforms.a.type".into(),
            "Missing required configuration \"transforms.a.type\" which has no default value.".into()
        )
    );
    assert_eq!(
        chain_err(&[("transforms", "a"), ("transforms.a.type", "com.example.Nope")]),
        (
            "transforms.a.type".into(),
            "Invalid value com.example.Nope for configuration transforms.a.type: Class com.example.Nope could not be found.".into()
        )
    );
    assert_eq!(
        chain_err(&[("transforms", "a"), ("transforms.a.type", "RecordIsTombstone")]),
        (
            "transforms.a.type".into(),
            "Class class org.apache.kafka.connect.transforms.predicates.RecordIsTombstone does not implement the Transformation interface".into()
        )
    );
    assert_eq!(
        chain_err(&[("transforms", "a,a"), ("transforms.a.type", "Filter")]),
        (
            "transforms".into(),
            "Invalid value [a, a] for configuration transforms: Duplicate alias provided.".into()
        )
    );
    assert_eq!(
        chain_err(&[("transforms", "a"), ("transforms.a.type", "Filter"), ("transforms.a.negate", "true")]),
        (
            "transforms.a.negate".into(),
            "Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated.".into()
        )
    );
    let (key, msg) = chain_err(&[
        ("transforms", "a"),
        ("transforms.a.type", "Filter"),
        ("transforms.a.predicate", "p"),
    ]);
    assert_eq!(key, "transforms.a.predicate");
    assert!(
        msg.starts_with(
            "Invalid value p for configuration transforms.a.predicate: Predicate 'p' is not defined"
        ),
        "{msg}"
    );
    assert_eq!(
        chain_err(&[
            ("transforms", "r"),
            ("transforms.r.type", "RegexRouter"),
            ("transforms.r.regex", "x")
        ]),
        (
            "transforms.r.replacement".into(),
            "Missing required configuration \"transforms.r.replacement\" which has no default value.".into()
        )
    );
    let (key, msg) = chain_err(&[
        ("transforms", "r"),
        ("transforms.r.type", "RegexRouter"),
        ("transforms.r.regex", "("),
        ("transforms.r.replacement", "x"),
    ]);
    assert_eq!(key, "transforms.r.regex");
    assert!(
        msg.starts_with("Invalid value ( for configuration transforms.r.regex: Invalid regex: "),
        "{msg}"
    );
    // Errors raised by the transform's own checks get the prefixed key or the type key.
    assert_eq!(
        chain_err(&[("transforms", "i"), ("transforms.i.type", "InsertField$Value")]),
        ("transforms.i.type".into(), "No field insertion configured".into())
    );
    assert_eq!(
        chain_err(&[("predicates", "p"), ("predicates.p.type", "Nope")]),
        (
            "predicates.p.type".into(),
            "Invalid value Nope for configuration predicates.p.type: Class Nope could not be found.".into()
        )
    );
    let (key, _) = chain_err(&[
        ("transforms", "f"),
        ("transforms.f.type", "Filter"),
        ("transforms.f.predicate", "p"),
        ("transforms.f.negate", "yes"),
        ("predicates", "p"),
        ("predicates.p.type", "RecordIsTombstone"),
    ]);
    assert_eq!(key, "transforms.f.negate");
}

#[test]
fn validation_reports_per_field() {
    let config = props(&[
        ("transforms", "route,bad,unknown"),
        ("transforms.route.type", "RegexRouter"),
        ("transforms.route.regex", "(oops"),
        ("transforms.route.predicate", "p"),
        ("transforms.bad.type", "MaskField$Value"),
        ("transforms.unknown.type", "com.example.Missing"),
        ("predicates", "p"),
        ("predicates.p.type", "TopicNameMatches"),
    ]);
    let infos = validate_chain(&config, &registry());
    let errors = |name: &str| {
        infos
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .errors
            .clone()
    };
    let names: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "transforms",
            "predicates",
            "transforms.route.type",
            "transforms.route.plugin.version",
            "transforms.route.regex",
            "transforms.route.replacement",
            "transforms.route.negate",
            "transforms.route.predicate",
            "transforms.bad.type",
            "transforms.bad.plugin.version",
            "transforms.bad.fields",
            "transforms.bad.negate",
            "transforms.bad.predicate",
            "transforms.bad.replace.null.with.default",
            "transforms.bad.replacement",
            "transforms.unknown.type",
            "transforms.unknown.plugin.version",
            "predicates.p.type",
            "predicates.p.plugin.version",
            "predicates.p.pattern",
        ]
    );
    assert!(errors("transforms").is_empty());
    assert!(errors("transforms.route.type").is_empty());
    assert_eq!(errors("transforms.route.regex").len(), 1);
    assert!(errors("transforms.route.regex")[0]
        .starts_with("Invalid value (oops for configuration transforms.route.regex: Invalid regex: "));
    assert_eq!(
        errors("transforms.route.replacement"),
        ["Missing required configuration \"transforms.route.replacement\" which has no default value."]
    );
    assert!(errors("transforms.route.predicate").is_empty());
    assert_eq!(
        errors("transforms.bad.fields"),
        ["Missing required configuration \"transforms.bad.fields\" which has no default value."]
    );
    assert_eq!(
        errors("transforms.unknown.type"),
        ["Invalid value com.example.Missing for configuration transforms.unknown.type: Class com.example.Missing could not be found."]
    );
    assert_eq!(
        errors("predicates.p.pattern"),
        ["Missing required configuration \"predicates.p.pattern\" which has no default value."]
    );
    let ty = infos.iter().find(|i| i.name == "transforms.route.type").unwrap();
    assert!(ty
        .recommended_values
        .contains(&"org.apache.kafka.connect.transforms.RegexRouter".to_string()));
    assert!(!ty.recommended_values.iter().any(|c| c.contains("predicates")));

    // Groups follow ConnectorConfig.enrich.
    let def = chain_config_def(&config, &registry());
    assert_eq!(
        def.groups(),
        [
            "Transforms: route",
            "Transforms: bad",
            "Transforms: unknown",
            "Predicates: p"
        ]
    );
    let k = def.key("transforms.route.regex").unwrap();
    assert_eq!(
        (k.group.as_deref(), k.order_in_group),
        (Some("Transforms: route"), 2)
    );
    // Kafka Connect 4.x's plugin.version (KIP-891) comes right after type, defaulting to
    // the plugin's one version; an unknown class has none.
    let v = def.key("transforms.route.plugin.version").unwrap();
    assert_eq!(
        (v.order_in_group, v.display_name.as_str()),
        (1, "Transformation version for route")
    );
    let route_version = infos
        .iter()
        .find(|i| i.name == "transforms.route.plugin.version")
        .unwrap();
    assert!(
        route_version.value.is_some()
            && route_version.recommended_values == [route_version.value.clone().unwrap()]
    );
    let unknown_version = infos
        .iter()
        .find(|i| i.name == "transforms.unknown.plugin.version")
        .unwrap();
    assert_eq!(unknown_version.value, None);
    assert_eq!(
        def.key("transforms.route.type").unwrap().display_name,
        "Transformation type for route"
    );

    // Undefined predicate, negate without predicate, and configure-time errors.
    let config = props(&[
        ("transforms", "a,b,c"),
        ("transforms.a.type", "Filter"),
        ("transforms.a.predicate", "nope"),
        ("transforms.b.type", "Filter"),
        ("transforms.b.negate", "true"),
        ("transforms.c.type", "InsertField$Value"),
        ("transforms", "a,b,c"),
    ]);
    let infos = validate_chain(&config, &registry());
    let errors = |name: &str| infos.iter().find(|i| i.name == name).unwrap().errors.clone();
    assert_eq!(errors("transforms.a.predicate").len(), 1);
    assert_eq!(
        errors("transforms.b.type"),
        ["Config 'transforms.b.negate' was provided but there is no config 'transforms.b.predicate' defining a predicate to be negated."]
    );
    assert_eq!(errors("transforms.c.type"), ["No field insertion configured"]);
    let dup = validate_chain(&props(&[("transforms", "x,x")]), &registry());
    assert_eq!(
        dup[0].errors,
        ["Invalid value [x, x] for configuration transforms: Duplicate alias provided."]
    );
}

#[test]
fn every_plugin_is_registered_with_its_class_name() {
    let classes: Vec<&str> = ferry_transforms::plugins().iter().map(|p| p.class).collect();
    for c in [
        "org.apache.kafka.connect.transforms.InsertField$Key",
        "org.apache.kafka.connect.transforms.InsertField$Value",
        "org.apache.kafka.connect.transforms.ReplaceField$Value",
        "org.apache.kafka.connect.transforms.MaskField$Key",
        "org.apache.kafka.connect.transforms.ValueToKey",
        "org.apache.kafka.connect.transforms.ExtractField$Key",
        "org.apache.kafka.connect.transforms.HoistField$Value",
        "org.apache.kafka.connect.transforms.Cast$Value",
        "org.apache.kafka.connect.transforms.TimestampConverter$Value",
        "org.apache.kafka.connect.transforms.TimestampRouter",
        "org.apache.kafka.connect.transforms.RegexRouter",
        "org.apache.kafka.connect.transforms.Flatten$Value",
        "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
        "org.apache.kafka.connect.transforms.Filter",
        "org.apache.kafka.connect.transforms.InsertHeader",
        "org.apache.kafka.connect.transforms.DropHeaders",
        "org.apache.kafka.connect.transforms.HeaderFrom$Value",
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    ] {
        assert!(classes.contains(&c), "{c}");
    }
    assert_eq!(classes.len(), 29);
}
