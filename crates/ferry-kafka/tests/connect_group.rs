//! The Connect group member against librdkafka's mock cluster, whose group coordinator
//! expires members whose heartbeats stop (Tansu 0.6.0's does not).

use std::time::{Duration, Instant};

use ferry_kafka::connect_group::{ConnectGroupMember, GroupError, GroupSettings, Joined};
use ferry_kafka::connect_protocol::{
    decode_assignment, decode_metadata, encode_assignment, encode_metadata, Assignment, ConnectProtocol,
    TaskId, WorkerMetadata,
};
use rdkafka::mocking::MockCluster;
use rdkafka::types::RDKafkaApiKey;

fn mock() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let cluster = MockCluster::new(1).expect("mock cluster");
    // The mock's flexible group versions are broken (see shared reference): cap them.
    cluster
        .apiversion(RDKafkaApiKey::JoinGroup, Some(0), Some(5))
        .unwrap();
    cluster
        .apiversion(RDKafkaApiKey::SyncGroup, Some(0), Some(3))
        .unwrap();
    cluster
        .apiversion(RDKafkaApiKey::LeaveGroup, Some(0), Some(2))
        .unwrap();
    cluster
}

fn settings(bootstrap: &str, group: &str, session_ms: i32) -> GroupSettings {
    GroupSettings {
        bootstrap_servers: bootstrap.to_string(),
        group_id: group.to_string(),
        client_id: "ferry-test".into(),
        session_timeout_ms: session_ms,
        rebalance_timeout_ms: 20_000,
        heartbeat_interval_ms: 500,
        request_timeout: Duration::from_secs(10),
        security: Default::default(),
    }
}

fn protocols(url: &str) -> Vec<(String, Vec<u8>)> {
    let meta = WorkerMetadata {
        url: url.to_string(),
        config_offset: 5,
        assignment: None,
    };
    ConnectProtocol::Sessioned
        .offered()
        .iter()
        .map(|p| (p.name().to_string(), encode_metadata(*p, &meta)))
        .collect()
}

/// The leader's assignment: every member gets connector `c-<index>`.
fn assign(j: &Joined) -> Vec<(String, Vec<u8>)> {
    let leader_url = j
        .members
        .iter()
        .find(|(m, _)| *m == j.leader_id)
        .map(|(_, meta)| decode_metadata(meta).unwrap().1.url)
        .unwrap();
    j.members
        .iter()
        .enumerate()
        .map(|(i, (m, _))| {
            let a = Assignment {
                leader: j.leader_id.clone(),
                leader_url: leader_url.clone(),
                config_offset: 5,
                connectors: vec![format!("c-{i}")],
                tasks: vec![TaskId::new(format!("c-{i}"), 0)],
                ..Assignment::default()
            };
            (m.clone(), encode_assignment(ConnectProtocol::Sessioned, &a))
        })
        .collect()
}

/// Joins and syncs one generation; the leader assigns.
async fn round(member: &mut ConnectGroupMember, url: &str) -> (Joined, Assignment) {
    loop {
        let j = member.join(&protocols(url)).await.expect("join");
        let mine = if j.is_leader() { assign(&j) } else { Vec::new() };
        match member.sync(mine).await {
            Ok(bytes) => return (j, decode_assignment(&bytes).expect("assignment").1),
            Err(GroupError::Rejoin) => continue,
            Err(e) => panic!("sync: {e}"),
        }
    }
}

#[tokio::test]
async fn two_workers_form_a_connect_group_and_a_silent_one_expires() {
    let cluster = mock();
    let boot = cluster.bootstrap_servers();
    let session_ms = 3000;
    let mut a = ConnectGroupMember::new(settings(&boot, "connect-cluster-1", session_ms));
    let mut b = ConnectGroupMember::new(settings(&boot, "connect-cluster-1", session_ms));
    // On a loaded machine one member may finish a generation alone before the other's
    // join arrives: both join again until they share one (the mock starts a group's first
    // generation after 3 s).
    let mut attempts = 0;
    let ((ja, aa), (jb, ab)) = loop {
        attempts += 1;
        let ((ja, aa), (jb, ab)) =
            tokio::join!(round(&mut a, "http://a:8083/"), round(&mut b, "http://b:8083/"));
        if (ja.generation == jb.generation && ja.members.len().max(jb.members.len()) == 2) || attempts == 5 {
            break ((ja, aa), (jb, ab));
        }
    };
    assert_eq!(ja.generation, jb.generation, "after {attempts} rounds");
    assert_eq!(ja.protocol, "sessioned");
    assert_eq!(ja.leader_id, jb.leader_id);
    // Exactly one leader, which saw both members' metadata.
    let leader = if ja.is_leader() { &ja } else { &jb };
    assert!(ja.is_leader() ^ jb.is_leader());
    assert_eq!(leader.members.len(), 2);
    let urls: Vec<String> = leader
        .members
        .iter()
        .map(|(_, m)| decode_metadata(m).unwrap().1.url)
        .collect();
    assert!(urls.contains(&"http://a:8083/".to_string()) && urls.contains(&"http://b:8083/".to_string()));
    // Each got its own, distinct assignment with the leader's URL.
    assert_ne!(aa.connectors, ab.connectors);
    assert_eq!(aa.leader_url, ab.leader_url);
    assert_eq!(aa.connectors.len(), 1);

    // b goes silent (as after kill -9); a keeps heartbeating until it is told to rejoin.
    let silent_since = Instant::now();
    let rejoin_after = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match a.heartbeat().await {
            Ok(()) => assert!(
                silent_since.elapsed() < Duration::from_secs(20),
                "b never expired"
            ),
            Err(GroupError::Rejoin) => break silent_since.elapsed(),
            Err(e) => panic!("heartbeat: {e}"),
        }
    };
    let (j2, a2) = round(&mut a, "http://a:8083/").await;
    let took = silent_since.elapsed();
    eprintln!("silent member expired: rebalance seen after {rejoin_after:?}, new generation after {took:?}");
    assert!(j2.is_leader());
    assert_eq!(j2.members.len(), 1, "the silent member expired");
    assert!(j2.generation > ja.generation);
    assert_eq!(a2.connectors, vec!["c-0".to_string()]);
    assert!(rejoin_after >= Duration::from_millis(session_ms as u64 - 1000));
    drop(b);
}

#[tokio::test]
async fn a_clean_leave_rebalances_at_once() {
    let cluster = mock();
    let boot = cluster.bootstrap_servers();
    let mut a = ConnectGroupMember::new(settings(&boot, "connect-cluster-2", 10_000));
    let mut b = ConnectGroupMember::new(settings(&boot, "connect-cluster-2", 10_000));
    let ((ja, _), _) = tokio::join!(round(&mut a, "http://a/"), round(&mut b, "http://b/"));
    b.leave().await;
    let left = Instant::now();
    loop {
        match a.heartbeat().await {
            Ok(()) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(GroupError::Rejoin) => break,
            Err(e) => panic!("heartbeat: {e}"),
        }
        assert!(
            left.elapsed() < Duration::from_secs(5),
            "the leave was not seen at once"
        );
    }
    let (j2, _) = round(&mut a, "http://a/").await;
    assert_eq!(j2.members.len(), 1);
    assert!(j2.generation > ja.generation);
}
