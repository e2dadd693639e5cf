//! What creating, changing, pausing, stopping, restarting and deleting a connector
//! writes, and what a restarted worker restores.

use std::sync::atomic::Ordering;

use std::time::Duration;

use ferry_kafka::memory::MemoryCluster;
use ferry_kafka::records::{ConfigRecord, State as StoredState, StatusKey, TargetState};
use ferry_rest::entities::{InitialState, RestartRequest, State};
use ferry_rest::{Herder, HerderError};

use super::*;
use plugins::STOPPED;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_writes_the_config_then_task_configs_and_their_commit() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    let info = w
        .create_connector("c", config("c", "test.QuietSource", &[("tasks.max", "2")]), None)
        .await
        .unwrap();
    assert_eq!(info.name, "c");
    wait_for_state(&w, "c", State::Running).await;
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;

    assert_eq!(
        config_keys(&cluster),
        ["connector-c", "task-c-0", "task-c-1", "commit-c"]
    );
    let records = config_records(&cluster);
    let ConfigRecord::Task {
        config: Some(task0), ..
    } = &records[1]
    else {
        panic!("{:?}", records[1]);
    };
    assert_eq!(task0["n"], "0");
    assert_eq!(task0["task.class"], "test.QuietSourceTask");
    assert_eq!(
        records[3],
        ConfigRecord::Commit {
            connector: "c".into(),
            tasks: 2
        }
    );
    let tasks = w.task_configs("c").await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1].config["n"], "1");

    // A second create of the same name is a conflict and writes nothing.
    let again = w
        .create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await;
    assert!(matches!(again, Err(HerderError::AlreadyExists(_))), "{again:?}");
    assert_eq!(config_records(&cluster).len(), 4);
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_state_is_written_before_the_config() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector(
        "p",
        config("p", "test.QuietSource", &[]),
        Some(InitialState::Paused),
    )
    .await
    .unwrap();
    wait_for_state(&w, "p", State::Paused).await;
    wait_for_tasks(&w, "p", &[State::Paused]).await;
    let records = config_records(&cluster);
    assert_eq!(
        records[0],
        ConfigRecord::TargetState {
            connector: "p".into(),
            state: Some(TargetState::Paused)
        }
    );
    assert_eq!(records[1].key(), "connector-p");

    w.create_connector(
        "s",
        config("s", "test.QuietSource", &[]),
        Some(InitialState::Stopped),
    )
    .await
    .unwrap();
    wait_for_state(&w, "s", State::Stopped).await;
    assert!(w.task_configs("s").await.unwrap().is_empty());
    assert!(!config_keys(&cluster).contains(&"task-s-0".to_owned()));
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_stop_write_target_states() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "c", &[State::Running]).await;
    let target = |state| ConfigRecord::TargetState {
        connector: "c".into(),
        state: Some(state),
    };

    w.pause_connector("c").await.unwrap();
    assert_eq!(
        config_records(&cluster).last(),
        Some(&target(TargetState::Paused))
    );
    wait_for_state(&w, "c", State::Paused).await;
    wait_for_tasks(&w, "c", &[State::Paused]).await;

    w.resume_connector("c").await.unwrap();
    assert_eq!(
        config_records(&cluster).last(),
        Some(&target(TargetState::Started))
    );
    wait_for_state(&w, "c", State::Running).await;
    wait_for_tasks(&w, "c", &[State::Running]).await;

    // Stopping also commits zero tasks, as Connect does, and removes the task statuses.
    w.stop_connector("c").await.unwrap();
    let records = config_records(&cluster);
    assert_eq!(records[records.len() - 2], target(TargetState::Stopped));
    assert_eq!(
        records[records.len() - 1],
        ConfigRecord::Commit {
            connector: "c".into(),
            tasks: 0
        }
    );
    wait_for_state(&w, "c", State::Stopped).await;
    wait_for_tasks(&w, "c", &[]).await;
    assert!(w.task_configs("c").await.unwrap().is_empty());

    let unknown = w.pause_connector("nope").await;
    assert!(matches!(unknown, Err(HerderError::NotFound(_))), "{unknown:?}");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_writes_tombstones_and_removes_statuses() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "c", &[State::Running]).await;
    let stopped_before = STOPPED.load(Ordering::SeqCst);

    w.delete_connector("c").await.unwrap();
    let records = config_records(&cluster);
    assert_eq!(
        records[records.len() - 2],
        ConfigRecord::Connector {
            name: "c".into(),
            config: None
        }
    );
    assert_eq!(
        records[records.len() - 1],
        ConfigRecord::TargetState {
            connector: "c".into(),
            state: None
        }
    );
    assert!(
        STOPPED.load(Ordering::SeqCst) > stopped_before,
        "the instance was not stopped"
    );
    assert!(w.connectors().await.unwrap().is_empty());
    assert!(matches!(
        w.connector_info("c").await,
        Err(HerderError::NotFound(_))
    ));
    for key in [StatusKey::Connector("c".into()), StatusKey::Task("c".into(), 0)] {
        eventually(&format!("a tombstone for {}", key.encode()), || {
            last_status(&cluster, &key) == Some(None)
        })
        .await;
    }
    let again = w.delete_connector("c").await;
    assert!(matches!(again, Err(HerderError::NotFound(_))), "{again:?}");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_config_is_stored_and_regenerates_the_task_configs() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    let put = w
        .put_connector_config("c", config("c", "test.QuietSource", &[("generation", "1")]))
        .await
        .unwrap();
    assert!(put.created);
    wait_for_tasks(&w, "c", &[State::Running]).await;

    let put = w
        .put_connector_config(
            "c",
            config(
                "c",
                "test.QuietSource",
                &[("generation", "2"), ("tasks.max", "2")],
            ),
        )
        .await
        .unwrap();
    assert!(!put.created);
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;
    let tasks = w.task_configs("c").await.unwrap();
    assert!(tasks.iter().all(|t| t.config["generation"] == "2"), "{tasks:?}");
    let keys = config_keys(&cluster);
    assert_eq!(
        keys,
        [
            "connector-c",
            "task-c-0",
            "commit-c",
            "connector-c",
            "task-c-0",
            "task-c-1",
            "commit-c"
        ]
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flagged_restart_is_recorded_and_answers_with_what_restarts() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[("tasks.max", "2")]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;

    // Only failed instances: nothing has failed, so nothing restarts.
    let request = |only_failed| RestartRequest {
        connector: "c".into(),
        only_failed,
        include_tasks: true,
    };
    let answer = w.restart_connector_and_tasks(&request(true)).await.unwrap();
    assert_eq!(answer.connector.state, State::Running);
    assert!(answer.tasks.iter().all(|t| t.state == State::Running));

    let answer = w.restart_connector_and_tasks(&request(false)).await.unwrap();
    assert_eq!(answer.connector.state, State::Restarting);
    assert_eq!(
        answer.tasks.iter().map(|t| t.state).collect::<Vec<_>>(),
        [State::Restarting, State::Restarting]
    );
    let restarts: Vec<ConfigRecord> = config_records(&cluster)
        .into_iter()
        .filter(|r| matches!(r, ConfigRecord::Restart { .. }))
        .collect();
    assert_eq!(
        restarts,
        [
            ConfigRecord::Restart {
                connector: "c".into(),
                include_tasks: true,
                only_failed: true
            },
            ConfigRecord::Restart {
                connector: "c".into(),
                include_tasks: true,
                only_failed: false
            }
        ]
    );
    wait_for_state(&w, "c", State::Running).await;
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;

    let unknown_task = w
        .restart_task(&ferry_rest::entities::ConnectorTaskId::new("c", 5))
        .await;
    assert!(
        matches!(unknown_task, Err(HerderError::NotFound(_))),
        "{unknown_task:?}"
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_restores_connectors_in_their_target_states() {
    let cluster = MemoryCluster::new();
    let first = start_worker(&cluster).await;
    for (name, initial) in [
        ("running", None),
        ("paused", Some(InitialState::Paused)),
        ("stopped", Some(InitialState::Stopped)),
    ] {
        first
            .create_connector(
                name,
                config(name, "test.QuietSource", &[("tasks.max", "2")]),
                initial,
            )
            .await
            .unwrap();
    }
    wait_for_tasks(&first, "running", &[State::Running, State::Running]).await;
    wait_for_tasks(&first, "paused", &[State::Paused, State::Paused]).await;
    first.shutdown().await;
    // Shutdown waits for the statuses of what it stopped to reach the status topic.
    for key in [
        StatusKey::Connector("running".into()),
        StatusKey::Task("running".into(), 0),
        StatusKey::Task("paused".into(), 1),
    ] {
        let state = last_status(&cluster, &key).flatten().map(|s| s.state);
        assert_eq!(state, Some(StoredState::Unassigned), "{}", key.encode());
    }

    let second = start_worker(&cluster).await;
    assert_eq!(
        second.connectors().await.unwrap(),
        ["running", "paused", "stopped"]
    );
    wait_for_state(&second, "running", State::Running).await;
    wait_for_state(&second, "paused", State::Paused).await;
    wait_for_state(&second, "stopped", State::Stopped).await;
    wait_for_tasks(&second, "running", &[State::Running, State::Running]).await;
    wait_for_tasks(&second, "paused", &[State::Paused, State::Paused]).await;
    assert_eq!(second.task_configs("paused").await.unwrap().len(), 2);
    assert!(second.task_configs("stopped").await.unwrap().is_empty());
    // The restored task configs equal what the connector generates: nothing new is written.
    let written = config_records(&cluster).len();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(config_records(&cluster).len(), written);
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_change_only_when_the_connector_is_stopped() {
    use ferry_rest::entities::ConnectorOffset;
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    let partition: ferry_core::OffsetMap = [("file".to_owned(), "a".into())].into_iter().collect();
    let offset: ferry_core::OffsetMap = [("position".to_owned(), 7.into())].into_iter().collect();
    let body = || {
        vec![ConnectorOffset {
            partition: Some(partition.clone()),
            offset: Some(offset.clone()),
        }]
    };
    let running = w.alter_connector_offsets("c", body()).await;
    assert!(
        matches!(&running, Err(HerderError::BadRequest(m)) if m.starts_with("Connectors must be in the STOPPED state")),
        "{running:?}"
    );
    w.stop_connector("c").await.unwrap();
    // Task configs a follower generated before the stop and sent after it do not give
    // the stopped connector tasks back.
    let late: ferry_core::ConfigMap = [("task.class".to_owned(), "test.QuietSourceTask".to_owned())]
        .into_iter()
        .collect();
    let put = w.put_task_configs("c", vec![late], None).await;
    assert!(put.is_ok(), "{put:?}");
    w.alter_connector_offsets("c", body()).await.unwrap();
    let stored = w.connector_offsets("c").await.unwrap().offsets;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].offset.as_ref(), Some(&offset));
    // Written to the offsets topic in Connect's key format.
    let records = cluster.records(OFFSETS);
    assert_eq!(
        records.last().and_then(|r| r.key.clone()),
        Some(br#"["c",{"file":"a"}]"#.to_vec())
    );
    w.reset_connector_offsets("c").await.unwrap();
    // As on Connect once it has read the tombstone back, the reset partition is gone.
    assert_eq!(w.connector_offsets("c").await.unwrap().offsets, []);
    assert_eq!(
        cluster.records(OFFSETS).last().map(|r| r.value.clone()),
        Some(None)
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_show_configs_and_statuses_as_connect_4_3_does() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    let sent = config("v", "test.QuietSource", &[("tasks.max", "1"), ("topic", "t")]);
    let created = w.create_connector("v", sent, None).await.unwrap();
    // The create answer: the config as sent, and no tasks yet.
    let keys: Vec<&str> = created.config.keys().map(String::as_str).collect();
    assert_eq!(keys, ["name", "connector.class", "tasks.max", "topic"]);
    assert!(created.tasks.is_empty());

    wait_for_state(&w, "v", State::Running).await;
    wait_for_tasks(&w, "v", &[State::Running]).await;
    // Read back from the config topic: java.util.HashMap order.
    let stored = w.connector_config("v").await.unwrap();
    let keys: Vec<&str> = stored.keys().map(String::as_str).collect();
    assert_eq!(keys, ["connector.class", "tasks.max", "name", "topic"]);

    // Statuses carry the plugin's version, over REST and on the status topic.
    let status = w.connector_status("v").await.unwrap();
    assert_eq!(status.connector.version.as_deref(), Some("test"));
    assert_eq!(status.tasks[0].version.as_deref(), Some("test"));
    let record = last_status(&cluster, &StatusKey::Task("v".into(), 0))
        .unwrap()
        .unwrap();
    assert_eq!(record.version.as_deref(), Some("test"));
    w.shutdown().await;
}

/// In group mode the group loop reads the config topic before the actor handles the
/// commands queued meanwhile: an assignment carrying that older read must not undo what
/// those commands wrote (here a new connector, which a second create must still find).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_read_before_a_config_write_does_not_undo_it() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    let read_before = ConfigStore::on_log(cluster.log(CONFIGS)).load().await.unwrap();
    assert!(!read_before.connectors.contains_key("c"));
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    let (reply, applied) = tokio::sync::oneshot::channel();
    let owned = ferry_kafka::connect_group::assignor::Load {
        connectors: ["c".to_owned()].into_iter().collect(),
        tasks: Default::default(),
    };
    w.commands
        .send(super::super::actor::Command::Assign {
            state: Box::new(read_before),
            owned,
            generation: 2,
            reply,
        })
        .await
        .unwrap();
    applied.await.unwrap();
    let again = w
        .create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await;
    assert!(matches!(&again, Err(HerderError::AlreadyExists(_))), "{again:?}");
    w.shutdown().await;
}
