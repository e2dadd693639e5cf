//! The OpenAPI document and the router describe the same routes.

use std::collections::BTreeSet;
use std::path::Path;

use serde_norway::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

fn spec() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec/openapi.yaml");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_norway::from_str(&text).expect("openapi.yaml is not valid YAML")
}

fn documented() -> BTreeSet<(String, String)> {
    let spec = spec();
    let paths = spec["paths"].as_mapping().expect("openapi.yaml has no `paths`");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().unwrap();
        for (key, _) in item.as_mapping().unwrap() {
            let key = key.as_str().unwrap();
            if METHODS.contains(&key) {
                out.insert((key.to_uppercase(), path.to_owned()));
            }
        }
    }
    out
}

#[test]
fn every_served_route_is_documented_and_every_documented_route_served() {
    let served: BTreeSet<(String, String)> = ferry_rest::routes()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    let documented = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in api-spec/openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in api-spec/openapi.yaml but not served: {unserved:?}"
    );
}

#[test]
fn every_operation_documents_its_path_parameters_and_responses() {
    let spec = spec();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        let wanted: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let shared = item
            .get("parameters")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (method, op) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if !METHODS.contains(&method) {
                continue;
            }
            assert!(
                op.get("responses")
                    .and_then(Value::as_mapping)
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
            let mut names = BTreeSet::new();
            let own = op
                .get("parameters")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            for p in shared.iter().chain(own.iter()) {
                let p = match p.get("$ref").and_then(Value::as_str) {
                    Some(r) => {
                        let name = r.rsplit('/').next().unwrap();
                        &spec["components"]["parameters"][name]
                    }
                    None => p,
                };
                if p["in"].as_str() == Some("path") {
                    names.insert(p["name"].as_str().unwrap().to_owned());
                }
            }
            let names: BTreeSet<&str> = names.iter().map(String::as_str).collect();
            assert_eq!(names, wanted, "{method} {path}: path parameters");
        }
    }
}
