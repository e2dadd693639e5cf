//! The leader's assignment of connectors and tasks to workers, after Kafka Connect's
//! `EagerAssignor` (`default`: everything revoked, then round-robin) and
//! `IncrementalCooperativeAssignor` (`compatible`/`sessioned`, KIP-415): deleted and
//! duplicated work is revoked, new work goes to the least loaded workers, a departed
//! worker's work is held back for `scheduled.rebalance.max.delay.ms` (so a restarting
//! worker gets it back) and then spread, and an unbalanced cluster is evened out by
//! revoking from the busiest workers, whose work the next round places.

use std::collections::{BTreeMap, BTreeSet};

use crate::connect_protocol::TaskId;

/// The connectors and tasks of one worker (or of the whole cluster).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Load {
    /// Connector names.
    pub connectors: BTreeSet<String>,
    /// Task ids.
    pub tasks: BTreeSet<TaskId>,
}

impl Load {
    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }
    fn minus(&self, other: &Load) -> Load {
        Load {
            connectors: self.connectors.difference(&other.connectors).cloned().collect(),
            tasks: self.tasks.difference(&other.tasks).cloned().collect(),
        }
    }
    fn intersect(&self, other: &Load) -> Load {
        Load {
            connectors: self.connectors.intersection(&other.connectors).cloned().collect(),
            tasks: self.tasks.intersection(&other.tasks).cloned().collect(),
        }
    }
    fn add(&mut self, other: &Load) {
        self.connectors.extend(other.connectors.iter().cloned());
        self.tasks.extend(other.tasks.iter().cloned());
    }
    fn remove(&mut self, other: &Load) {
        self.connectors.retain(|c| !other.connectors.contains(c));
        self.tasks.retain(|t| !other.tasks.contains(t));
    }
}

/// One member's share of a round: what it starts, what it stops, and the delay until
/// the leader's next scheduled rebalance (0 for none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberPlan {
    /// Newly assigned (incremental: in addition to what it runs; eager: everything).
    pub assigned: Load,
    /// To stop.
    pub revoked: Load,
    /// Milliseconds until the leader expects the next rebalance.
    pub delay: i32,
}

/// Spreads `items` over `loads` one at a time, each to the least loaded worker
/// (ties by member id), as Connect's `assignConnectors`/`assignTasks`.
fn spread<T: Clone + Ord>(
    loads: &mut BTreeMap<String, Load>,
    items: impl IntoIterator<Item = T>,
    size: impl Fn(&Load) -> usize,
    put: impl Fn(&mut Load, T),
) {
    for item in items {
        let Some(target) = loads
            .iter()
            .min_by(|(ma, a), (mb, b)| size(a).cmp(&size(b)).then(ma.cmp(mb)))
            .map(|(m, _)| m.clone())
        else {
            return;
        };
        put(loads.get_mut(&target).expect("member"), item);
    }
}

/// The eager (`default`) assignment: every member's whole share, round-robin over
/// members sorted by id, connectors first, then tasks.
pub fn assign_eager(configured: &Load, members: &[String]) -> BTreeMap<String, Load> {
    let mut sorted: Vec<&String> = members.iter().collect();
    sorted.sort();
    let mut out: BTreeMap<String, Load> = sorted.iter().map(|m| ((*m).clone(), Load::default())).collect();
    if sorted.is_empty() {
        return out;
    }
    for (i, c) in configured.connectors.iter().enumerate() {
        out.get_mut(sorted[i % sorted.len()])
            .expect("member")
            .connectors
            .insert(c.clone());
    }
    for (i, t) in configured.tasks.iter().enumerate() {
        out.get_mut(sorted[i % sorted.len()])
            .expect("member")
            .tasks
            .insert(t.clone());
    }
    out
}

/// The leader's memory between incremental rounds.
#[derive(Debug, Default)]
pub struct IncrementalAssignor {
    max_delay_ms: i64,
    previous: Load,
    previous_generation: i32,
    previous_members: BTreeSet<String>,
    previous_revocation: Load,
    scheduled_rebalance: i64,
    delay: i64,
    candidates: BTreeSet<String>,
    revoked_in_previous: bool,
}

impl IncrementalAssignor {
    /// An assignor with `scheduled.rebalance.max.delay.ms`.
    pub fn new(max_delay_ms: i64) -> IncrementalAssignor {
        IncrementalAssignor {
            max_delay_ms,
            previous_generation: -1,
            ..IncrementalAssignor::default()
        }
    }

    /// One round: `members` maps each member to what it runs now (from its metadata);
    /// `last_completed_generation` is the leader's own previous generation; `now_ms` is
    /// wall-clock milliseconds.
    pub fn assign(
        &mut self,
        configured: &Load,
        last_completed_generation: i32,
        current_generation: i32,
        members: &BTreeMap<String, Load>,
        now_ms: i64,
    ) -> BTreeMap<String, MemberPlan> {
        if self.previous_generation != last_completed_generation {
            self.previous = Load::default();
        }
        let mut active = Load::default();
        for l in members.values() {
            active.add(l);
        }
        if !self.previous_revocation.is_empty() {
            if !self.previous_revocation.intersect(&active).is_empty() {
                self.previous = active.clone();
            }
            self.previous_revocation = Load::default();
        }
        let deleted = self.previous.minus(configured);
        let duplicated = duplicates(members);
        let lost = self.previous.minus(&active).minus(&deleted);
        let created = configured.minus(&self.previous).minus(&active);

        let current: BTreeMap<String, Load> = members
            .iter()
            .map(|(m, l)| (m.clone(), l.minus(&deleted)))
            .collect();
        let mut to_revoke: BTreeMap<String, Load> = BTreeMap::new();
        let mut next: BTreeMap<String, Load> = members.clone();
        for (m, l) in members {
            // Deleted work, and every copy of duplicated work, is revoked.
            let mut r = l.intersect(&deleted);
            r.add(&l.intersect(&duplicated));
            if !r.is_empty() {
                next.get_mut(m).expect("member").remove(&r);
                to_revoke.entry(m.clone()).or_default().add(&r);
            }
        }

        let lost_to_reassign = self.handle_lost(&lost, &mut next, now_ms);

        if self.delay == 0 {
            let lb = balancing_revocations(configured, &next);
            if !lb.is_empty() && (!self.revoked_in_previous || self.max_delay_ms == 0) {
                for (m, r) in &lb {
                    next.get_mut(m).expect("member").remove(r);
                    to_revoke.entry(m.clone()).or_default().add(r);
                }
                self.revoked_in_previous = true;
            } else if !lb.is_empty() {
                // Two revoking rounds in a row: wait before revoking again.
                self.delay = self.max_delay_ms;
                self.scheduled_rebalance = now_ms + self.delay;
                self.revoked_in_previous = false;
            } else {
                self.revoked_in_previous = false;
            }
        } else {
            self.revoked_in_previous = false;
        }

        let mut to_assign = created;
        to_assign.add(&lost_to_reassign);
        spread(
            &mut next,
            to_assign.connectors.iter().cloned(),
            |l| l.connectors.len(),
            |l, c| {
                l.connectors.insert(c);
            },
        );
        spread(
            &mut next,
            to_assign.tasks.iter().cloned(),
            |l| l.tasks.len(),
            |l, t| {
                l.tasks.insert(t);
            },
        );

        // Remember what the cluster will run after this round.
        let mut previous = Load::default();
        for l in next.values() {
            previous.add(l);
        }
        for r in to_revoke.values() {
            previous.remove(r);
            self.previous_revocation.add(r);
        }
        previous.add(&lost);
        self.previous = previous;
        self.previous_generation = current_generation;
        self.previous_members = members.keys().cloned().collect();

        let delay = self.delay.clamp(0, i32::MAX as i64) as i32;
        next.iter()
            .map(|(m, l)| {
                let assigned = l.minus(current.get(m).unwrap_or(&Load::default()));
                let revoked = to_revoke.get(m).cloned().unwrap_or_default();
                (
                    m.clone(),
                    MemberPlan {
                        assigned,
                        revoked,
                        delay,
                    },
                )
            })
            .collect()
    }

    /// Decides what of the lost work is placed now; work placed on the candidates
    /// (workers that came back empty) goes straight into `next`.
    fn handle_lost(&mut self, lost: &Load, next: &mut BTreeMap<String, Load>, now: i64) -> Load {
        if lost.is_empty() && !self.revoked_in_previous {
            self.reset_delay();
            return Load::default();
        }
        let active: BTreeSet<String> = next.keys().cloned().collect();
        if self.scheduled_rebalance <= 0 && active.is_superset(&self.previous_members) {
            // Everyone is still here: the lost work never reached its worker.
            return lost.clone();
        }
        if self.max_delay_ms == 0 {
            return lost.clone();
        }
        if self.scheduled_rebalance > 0 && now >= self.scheduled_rebalance {
            let candidates: Vec<String> = self
                .candidates
                .iter()
                .filter(|c| next.get(*c).is_some_and(Load::is_empty))
                .cloned()
                .collect();
            let placed = if candidates.is_empty() {
                lost.clone()
            } else {
                for (i, c) in lost.connectors.iter().enumerate() {
                    let w = &candidates[i % candidates.len()];
                    next.get_mut(w).expect("member").connectors.insert(c.clone());
                }
                for (i, t) in lost.tasks.iter().enumerate() {
                    let w = &candidates[i % candidates.len()];
                    next.get_mut(w).expect("member").tasks.insert(t.clone());
                }
                Load::default()
            };
            self.reset_delay();
            self.revoked_in_previous = false;
            placed
        } else {
            self.candidates
                .extend(next.iter().filter(|(_, l)| l.is_empty()).map(|(m, _)| m.clone()));
            self.delay = if now < self.scheduled_rebalance {
                self.scheduled_rebalance - now
            } else {
                self.max_delay_ms
            };
            self.scheduled_rebalance = now + self.delay;
            Load::default()
        }
    }

    fn reset_delay(&mut self) {
        self.candidates.clear();
        self.delay = 0;
        self.scheduled_rebalance = 0;
    }
}

/// Work that more than one member runs.
fn duplicates(members: &BTreeMap<String, Load>) -> Load {
    let mut seen = Load::default();
    let mut dup = Load::default();
    for l in members.values() {
        for c in &l.connectors {
            if !seen.connectors.insert(c.clone()) {
                dup.connectors.insert(c.clone());
            }
        }
        for t in &l.tasks {
            if !seen.tasks.insert(t.clone()) {
                dup.tasks.insert(t.clone());
            }
        }
    }
    dup
}

/// What to take from overloaded workers so that, once placed again, each worker runs
/// ⌊n/m⌋ or ⌈n/m⌉ connectors and tasks (connectors and tasks balanced separately).
fn balancing_revocations(configured: &Load, workers: &BTreeMap<String, Load>) -> BTreeMap<String, Load> {
    let mut out: BTreeMap<String, Load> = BTreeMap::new();
    if workers.values().all(Load::is_empty) || configured.is_empty() {
        return out;
    }
    for (w, r) in revocations_of(configured.connectors.len(), workers, |l| &l.connectors) {
        out.entry(w).or_default().connectors = r;
    }
    for (w, r) in revocations_of(configured.tasks.len(), workers, |l| &l.tasks) {
        out.entry(w).or_default().tasks = r;
    }
    out
}

fn revocations_of<T: Clone + Ord>(
    total: usize,
    workers: &BTreeMap<String, Load>,
    part: impl Fn(&Load) -> &BTreeSet<T>,
) -> Vec<(String, BTreeSet<T>)> {
    let n = workers.len();
    let min = total / n;
    let extra = total % n;
    let at_min = workers.values().filter(|l| part(l).len() == min).count();
    let at_extra = workers.values().filter(|l| part(l).len() == min + 1).count();
    if at_extra == extra && at_min + at_extra == n {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut extras = 0;
    for (w, l) in workers {
        let size = part(l).len();
        if size <= min {
            continue;
        }
        let max = if extras < extra {
            extras += 1;
            if size == min + 1 {
                continue;
            }
            min + 1
        } else {
            min
        };
        let revoked: BTreeSet<T> = part(l).iter().take(size - max).cloned().collect();
        if !revoked.is_empty() {
            out.push((w.clone(), revoked));
        }
    }
    out
}

#[cfg(test)]
mod tests;
