use super::*;

/// `n` connectors `c0..` with one task each.
fn configured(n: usize) -> Load {
    let mut l = Load::default();
    for i in 0..n {
        l.connectors.insert(format!("c{i}"));
        l.tasks.insert(TaskId::new(format!("c{i}"), 0));
    }
    l
}

/// A simulated cluster: members apply their plans as workers do.
struct Cluster {
    assignor: IncrementalAssignor,
    members: BTreeMap<String, Load>,
    generation: i32,
}

impl Cluster {
    fn new(max_delay: i64, names: &[&str]) -> Cluster {
        Cluster {
            assignor: IncrementalAssignor::new(max_delay),
            members: names.iter().map(|n| (n.to_string(), Load::default())).collect(),
            generation: 0,
        }
    }

    fn round(&mut self, configured: &Load, now: i64) -> BTreeMap<String, MemberPlan> {
        let last = self.generation;
        self.generation += 1;
        let plans = self
            .assignor
            .assign(configured, last, self.generation, &self.members, now);
        for (m, p) in &plans {
            let l = self.members.get_mut(m).unwrap();
            l.remove(&p.revoked);
            l.add(&p.assigned);
        }
        plans
    }

    fn sizes(&self) -> Vec<(usize, usize)> {
        self.members
            .values()
            .map(|l| (l.connectors.len(), l.tasks.len()))
            .collect()
    }

    fn total(&self) -> Load {
        let mut t = Load::default();
        for l in self.members.values() {
            t.add(l);
        }
        t
    }
}

#[test]
fn six_connectors_spread_two_by_two_over_three_workers() {
    let conf = configured(6);
    let mut c = Cluster::new(300_000, &["w1", "w2", "w3"]);
    let plans = c.round(&conf, 0);
    assert_eq!(c.sizes(), vec![(2, 2), (2, 2), (2, 2)]);
    assert!(plans.values().all(|p| p.revoked.is_empty() && p.delay == 0));
    assert_eq!(c.total(), conf);
    // A second round with nothing changed assigns and revokes nothing.
    let plans = c.round(&conf, 10);
    assert!(plans
        .values()
        .all(|p| p.assigned.is_empty() && p.revoked.is_empty()));
}

#[test]
fn a_departed_workers_work_waits_for_the_delay_then_moves() {
    let conf = configured(6);
    let mut c = Cluster::new(10_000, &["w1", "w2", "w3"]);
    c.round(&conf, 0);
    let gone = c.members.remove("w3").unwrap();
    let plans = c.round(&conf, 1_000);
    assert!(plans.values().all(|p| p.assigned.is_empty() && p.delay == 10_000));
    // Still inside the delay: the remaining time is announced.
    let plans = c.round(&conf, 4_000);
    assert!(plans.values().all(|p| p.assigned.is_empty() && p.delay == 7_000));
    // Delay over: w3's connectors and tasks go to the others.
    let plans = c.round(&conf, 11_000);
    assert!(plans.values().all(|p| p.delay == 0));
    assert_eq!(c.sizes(), vec![(3, 3), (3, 3)]);
    assert_eq!(c.total(), conf);
    let moved: Load = plans.values().fold(Load::default(), |mut acc, p| {
        acc.add(&p.assigned);
        acc
    });
    assert_eq!(moved, gone);
}

#[test]
fn a_worker_back_within_the_delay_gets_the_lost_work() {
    let conf = configured(6);
    let mut c = Cluster::new(10_000, &["w1", "w2", "w3"]);
    c.round(&conf, 0);
    c.members.remove("w3");
    c.round(&conf, 1_000);
    c.members.insert("w3b".into(), Load::default());
    c.round(&conf, 2_000);
    c.round(&conf, 11_500);
    assert_eq!(c.members["w3b"].connectors.len(), 2);
    assert_eq!(c.sizes(), vec![(2, 2), (2, 2), (2, 2)]);
}

#[test]
fn without_a_delay_lost_work_moves_at_once() {
    let conf = configured(4);
    let mut c = Cluster::new(0, &["a", "b"]);
    c.round(&conf, 0);
    c.members.remove("b");
    c.round(&conf, 5);
    assert_eq!(c.sizes(), vec![(4, 4)]);
}

#[test]
fn a_new_worker_is_balanced_by_revoking_then_assigning() {
    let conf = configured(6);
    let mut c = Cluster::new(300_000, &["w1", "w2"]);
    c.round(&conf, 0);
    assert_eq!(c.sizes(), vec![(3, 3), (3, 3)]);
    c.members.insert("w3".into(), Load::default());
    let plans = c.round(&conf, 1);
    let revoked: usize = plans.values().map(|p| p.revoked.connectors.len()).sum();
    assert_eq!(revoked, 2, "one connector from each busy worker");
    c.round(&conf, 2);
    assert_eq!(c.sizes(), vec![(2, 2), (2, 2), (2, 2)]);
    assert_eq!(c.total(), conf);
}

#[test]
fn deleted_and_duplicated_work_is_revoked() {
    let mut c = Cluster::new(300_000, &["a", "b"]);
    c.round(&configured(4), 0);
    let fewer = configured(3);
    let plans = c.round(&fewer, 1);
    let revoked: Vec<_> = plans
        .values()
        .flat_map(|p| p.revoked.connectors.iter().cloned())
        .collect();
    assert_eq!(revoked, vec!["c3".to_string()]);
    assert_eq!(c.total(), fewer);
    // Two members both claim c0 (e.g. after a missed revocation): both copies are revoked,
    // then c0 is placed once.
    let c0 = "c0".to_string();
    for l in c.members.values_mut() {
        l.connectors.insert(c0.clone());
    }
    let plans = c.round(&fewer, 2);
    assert!(plans.values().all(|p| p.revoked.connectors.contains(&c0)));
    c.round(&fewer, 3);
    let holders = c.members.values().filter(|l| l.connectors.contains(&c0)).count();
    assert_eq!(holders, 1);
}

#[test]
fn eager_assignment_is_round_robin() {
    let a = assign_eager(&configured(3), &["b".into(), "a".into()]);
    assert_eq!(
        a["a"].connectors.iter().cloned().collect::<Vec<_>>(),
        ["c0", "c2"]
    );
    assert_eq!(a["b"].connectors.len(), 1);
    assert_eq!(a["b"].tasks.len(), 1);
}
