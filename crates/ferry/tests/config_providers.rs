//! Config providers through the binary: a PostgreSQL connector whose user, password and
//! database come from `${env:…}`, `${file:…}` and `${dir:…}` streams rows (so the values
//! were resolved), while the password appears in no REST answer, no record of the config
//! topic and not in the log; `connector.client.config.override.policy=None` refuses a source
//! connector that overrides a producer setting with Connect's message (its consumer
//! override is not checked: a source task has no consumer).

mod common;

use std::time::Duration;

use common::{call, create_connector, eventually_on, ferry_exe, states, wait_state, Ferry, WorkerSetup};
use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

#[test]
fn secrets_from_config_providers_reach_the_connector_and_nothing_else() {
    let pg = PgCluster::start();
    let broker = Tansu::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pid = std::process::id();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let secret = format!("Sekr1t-{pid}-{nanos}-pw");
        let user = format!("cp_user_{pid}");
        let db_name = pg.create_database("cp_db").await;
        let admin = pg.connect("postgres").await;
        admin
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {user}; CREATE ROLE {user} LOGIN SUPERUSER REPLICATION PASSWORD '{secret}'"
            ))
            .await
            .unwrap();
        let db = pg.connect(&db_name).await;
        db.batch_execute("CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT NOT NULL)")
            .await
            .unwrap();

        let secrets = tempfile::tempdir().unwrap();
        let props_file = secrets.path().join("db.properties");
        std::fs::write(&props_file, format!("# database credentials\npassword={secret}\n")).unwrap();
        let dir = secrets.path().join("by-key");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("dbname"), &db_name).unwrap();
        let dir_s = dir.to_str().unwrap().to_owned();
        let setup = WorkerSetup::new(
            "cprov",
            &broker,
            &[
                ("config.providers", "file,env,dir"),
                ("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"),
                ("config.providers.env.class", "org.apache.kafka.common.config.provider.EnvVarConfigProvider"),
                ("config.providers.env.param.allowlist.pattern", "FERRY_CP_.*"),
                ("config.providers.dir.class", "org.apache.kafka.common.config.provider.DirectoryConfigProvider"),
                ("config.providers.dir.param.allowed.paths", &dir_s),
                ("connector.client.config.override.policy", "None"),
            ],
        );
        let group = setup.names.topic("group-cp");
        let mut ferry = Ferry::start_binary(
            ferry_exe(),
            &setup.props,
            setup.port,
            &setup.path("ferry.log"),
            &[("CONNECT_GROUP_ID", &group), ("FERRY_CP_USER", &user)],
        );
        let prefix = format!("cpsrv{pid}");
        let slot = format!("cp_{pid}");
        let password_ref = format!("${{file:{}:password}}", props_file.display());
        let config = json!({
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "${env:FERRY_CP_USER}",
            "database.password": password_ref,
            "database.dbname": format!("${{dir:{dir_s}:dbname}}"),
            "topic.prefix": prefix,
            "plugin.name": "pgoutput",
            "slot.name": slot,
            "publication.name": format!("pub_{slot}"),
            "table.include.list": "public.accounts",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter"
        });
        let created = create_connector(&ferry, "cp-pg", &config).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        wait_state(&ferry, "cp-pg", "RUNNING", &["RUNNING"]).await;
        db.batch_execute("INSERT INTO accounts VALUES (1, 'ada'), (2, 'grace')")
            .await
            .unwrap();
        let topic = format!("{prefix}.public.accounts");
        let got = tokio::task::block_in_place(|| broker.consume(&topic, 2, Duration::from_secs(60)));
        assert_eq!(got.len(), 2, "the resolved credentials work; log:\n{}", ferry.log_text());

        // GET config gives the variables as written.
        let cfg = call("GET", &ferry.url("/connectors/cp-pg/config"), None).await;
        assert_eq!(cfg.body["database.password"], json!(password_ref));
        assert_eq!(cfg.body["database.user"], json!("${env:FERRY_CP_USER}"));

        // Every REST answer about the connector, and the metrics.
        let mut answers = Vec::new();
        for path in [
            "/connectors",
            "/connectors?expand=info&expand=status",
            "/connectors/cp-pg",
            "/connectors/cp-pg/config",
            "/connectors/cp-pg/status",
            "/connectors/cp-pg/tasks",
            "/connectors/cp-pg/tasks/0/status",
            "/connectors/cp-pg/topics",
            "/connectors/cp-pg/offsets",
            "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config",
        ] {
            let a = call("GET", &ferry.url(path), None).await;
            assert_eq!(a.status, 200, "{path}: {:?}", a.body);
            answers.push((path.to_owned(), a.body.to_string()));
        }
        let validate = call(
            "PUT",
            &ferry.url("/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate"),
            Some(&config.to_string()),
        )
        .await;
        answers.push(("validate".into(), validate.body.to_string()));
        let put = call("PUT", &ferry.url("/connectors/cp-pg/config"), Some(&config.to_string())).await;
        assert_eq!(put.status, 200, "{:?}", put.body);
        answers.push(("PUT config".into(), put.body.to_string()));
        let metrics = reqwest::get(ferry.url("/metrics")).await.unwrap().text().await.unwrap();
        answers.push(("/metrics".into(), metrics));
        for (what, body) in &answers {
            assert!(!body.contains(&secret), "{what} shows the password: {body}");
        }
        assert!(answers.iter().any(|(_, b)| b.contains("${file:")));

        // The config topic holds the variables, never the values.
        let config_topic = setup.names.topic("configs");
        let records = tokio::task::block_in_place(|| {
            broker.consume_until_idle_within(&config_topic, Duration::from_millis(1500), Duration::from_secs(20))
        });
        let texts: Vec<String> = records
            .iter()
            .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
            .collect();
        assert!(texts.iter().any(|t| t.contains(&password_ref.replace('\\', "\\\\"))), "{texts:#?}");
        assert!(
            texts.iter().any(|t| t.contains("task.class") && t.contains("${file:")),
            "task configs keep the variable: {texts:#?}"
        );
        for t in &texts {
            assert!(!t.contains(&secret), "the config topic holds the password: {t}");
        }

        // A producer override under the None policy is refused at create with Connect's message.
        let input = setup.path("in.txt");
        std::fs::write(&input, "line\n").unwrap();
        let file = json!({
            "connector.class": "FileStreamSource",
            "file": input.to_str().unwrap(),
            "topic": setup.names.topic("file"),
            "producer.override.linger.ms": "5",
            "consumer.override.max.poll.records": "10"
        });
        let created = create_connector(&ferry, "cp-file", &file).await;
        assert_eq!(created.status, 400, "{:?}", created.body);
        assert_eq!(
            created.body["message"],
            json!(
                "Connector configuration is invalid and contains the following 1 error(s):\n\
                 The 'None' policy does not allow 'linger.ms' to be overridden in the connector configuration.\n\
                 You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
            )
        );

        // A variable naming a file that is absent fails the connector with Connect's text.
        let missing = json!({
            "connector.class": "FileStreamSource",
            "file": "${file:/no/such/ferry-secrets.properties:path}",
            "topic": setup.names.topic("file2")
        });
        let created = create_connector(&ferry, "cp-missing", &missing).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        eventually_on(&ferry, Duration::from_secs(30), "cp-missing FAILED", || async {
            states(&ferry, "cp-missing").await.0 == "FAILED"
        })
        .await;
        let status = call("GET", &ferry.url("/connectors/cp-missing/status"), None).await;
        let trace = status.body["connector"]["trace"].as_str().unwrap_or_default();
        assert!(
            trace.contains("Could not read properties from file /no/such/ferry-secrets.properties"),
            "{}",
            status.body
        );

        let log = ferry.log_text();
        assert!(ferry.terminate().success(), "log:\n{log}");
        assert!(!ferry.log_text().contains(&secret), "the log shows the password");
    });
}
