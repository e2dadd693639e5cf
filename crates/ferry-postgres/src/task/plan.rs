//! The task's start-up decisions, without I/O: whether an existing slot fits, whether
//! to snapshot, and where streaming starts.

use crate::config::{PluginName, PostgresConfig, SnapshotMode};
use crate::error::PgError;
use crate::lsn::Lsn;
use crate::offset::OffsetState;
use crate::replication::SlotInfo;

/// Refuses an existing slot Ferry cannot stream from: another output plugin (or
/// `plugin.name` other than pgoutput), or another database.
pub(super) fn check_existing_slot(cfg: &PostgresConfig, slot: &SlotInfo) -> Result<(), PgError> {
    if slot.plugin != "pgoutput" || cfg.plugin_name != PluginName::Pgoutput {
        return Err(PgError::Setup(format!(
            "Replication slot '{}' uses the '{}' plugin but plugin.name is '{}'; Ferry decodes pgoutput only. Set plugin.name=pgoutput and use a pgoutput slot (drop the slot or choose another slot.name)",
            cfg.slot_name,
            slot.plugin,
            cfg.plugin_name.as_str()
        )));
    }
    if let Some(db) = &slot.database {
        if db != &cfg.dbname {
            return Err(PgError::Setup(format!(
                "Replication slot '{}' belongs to database '{db}', not '{}'; choose another slot.name",
                cfg.slot_name, cfg.dbname
            )));
        }
    }
    Ok(())
}

/// Debezium's guardrail: more captured tables than `guardrail.collections.max` (when set)
/// fail the start with `guardrail.collections.limit.action=fail`, else are logged.
pub(super) fn check_guardrail(cfg: &PostgresConfig, captured: usize) -> Result<(), PgError> {
    let max = cfg.guardrail_collections_max as usize;
    if max == 0 || captured <= max {
        return Ok(());
    }
    let message = format!(
        "Guardrail limit exceeded: {captured} tables/collections configured for capture, but maximum allowed is {max}."
    );
    if cfg.guardrail_fails {
        return Err(PgError::Setup(message));
    }
    tracing::warn!("{message}");
    Ok(())
}

/// Debezium's log position check, before the snapshot decision: the slot must still
/// hold the WAL after the stored offset's last completely processed LSN (`lsn_proc`).
/// A slot that restarts later (dropped and created again, advanced by hand) lost
/// changes the connector never read: `when_needed` then drops the stored offsets (a
/// new snapshot fills the gap), every other streaming mode stops the start. Skipped
/// mid-snapshot, with `initial_only` (no streaming) and with `offset.mismatch.strategy`
/// trust_slot or trust_greater_lsn (the slot's position is taken as it is).
pub(super) fn check_log_position(
    cfg: &PostgresConfig,
    stored: Option<OffsetState>,
    slot: Option<&SlotInfo>,
) -> Result<Option<OffsetState>, PgError> {
    let Some(offset) = stored else {
        return Ok(None);
    };
    let checked = !offset.snapshot_in_progress()
        && cfg.snapshot_mode != SnapshotMode::InitialOnly
        && !cfg.offset_mismatch.trusts_slot();
    let gap = slot
        .and_then(|s| s.restart_lsn)
        .zip(offset.lsn_proc)
        .filter(|(restart, processed)| checked && restart > processed);
    let Some((restart, processed)) = gap else {
        return Ok(Some(offset));
    };
    tracing::warn!("Last recorded offset is no longer available on the server.");
    if cfg.snapshot_mode == SnapshotMode::WhenNeeded {
        tracing::info!(
            slot = %cfg.slot_name,
            "The last recorded offset is no longer available but we are in when_needed snapshot mode. Attempting to snapshot data to fill the gap."
        );
        return Ok(None);
    }
    Err(PgError::Setup(format!(
        "The connector is trying to read change stream starting at LSN {processed} (lsn_proc of the stored offset), but this is no longer available on the server: replication slot '{}' keeps WAL from {restart} on. Reconfigure the connector to use a snapshot mode when needed (snapshot.mode=when_needed), or set offset.mismatch.strategy=trust_slot if the slot's position is to be trusted",
        cfg.slot_name
    )))
}

/// The position a slot behind the stored offset is advanced to before streaming
/// (`offset.mismatch.strategy` trust_offset and trust_greater_lsn, with a
/// `lsn.flush.mode` that confirms positions): what the connector itself would confirm
/// once the offset is stored.
pub(super) fn slot_advance_target(
    cfg: &PostgresConfig,
    stored: Option<&OffsetState>,
    slot: Option<&SlotInfo>,
) -> Option<Lsn> {
    if !cfg.offset_mismatch.seeks_slot_to_offset() || !cfg.lsn_flush_mode.confirms_flush() {
        return None;
    }
    let target = stored?.confirmable_lsn()?;
    (target > slot?.confirmed_flush?).then_some(target)
}

/// Whether the task snapshots before streaming (Debezium's `snapshot.mode` rules).
pub(super) fn snapshot_needed(stored: Option<&OffsetState>, mode: SnapshotMode, slot_exists: bool) -> bool {
    match (stored, mode) {
        (_, SnapshotMode::NoData) => false,
        (None, _) => true,
        (Some(s), _) if s.snapshot_in_progress() => true,
        (Some(_), SnapshotMode::Always) => true,
        (Some(_), SnapshotMode::WhenNeeded) => !slot_exists,
        (Some(_), _) => false,
    }
}

/// Refuses to stream from a new slot when offsets exist and no snapshot will be taken:
/// the changes since the stored position are gone.
pub(super) fn check_offsets_usable(
    cfg: &PostgresConfig,
    slot_exists: bool,
    stored: Option<&OffsetState>,
    snapshot: bool,
) -> Result<(), PgError> {
    if !slot_exists && stored.is_some() && !snapshot {
        return Err(PgError::Setup(format!(
            "Replication slot '{}' does not exist although offsets exist for '{}': changes made since the last stored position are gone. Re-snapshot by deleting the connector's offsets (or set snapshot.mode=when_needed), or restore the slot",
            cfg.slot_name, cfg.topic_prefix
        )));
    }
    Ok(())
}

/// Where streaming starts: after the stored offset, or (for a snapshot) wherever the
/// slot stands.
pub(super) fn start_lsn(stored: Option<&OffsetState>, snapshot: bool) -> Lsn {
    if snapshot {
        Lsn::ZERO
    } else {
        stored.and_then(|s| s.resume_lsn()).unwrap_or(Lsn::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ferry_core::ConfigMap;

    use super::*;
    use crate::offset::SnapshotMarker;

    fn cfg(extra: &[(&str, &str)]) -> Arc<PostgresConfig> {
        let mut m: ConfigMap = [
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "db"),
            ("topic.prefix", "srv"),
            ("plugin.name", "pgoutput"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        Arc::new(PostgresConfig::parse(&m).unwrap())
    }

    fn slot(plugin: &str, db: &str) -> SlotInfo {
        SlotInfo {
            plugin: plugin.into(),
            database: Some(db.into()),
            active_pid: None,
            confirmed_flush: None,
            restart_lsn: None,
        }
    }

    fn slot_at(confirmed: u64, restart: u64) -> SlotInfo {
        SlotInfo {
            confirmed_flush: Some(Lsn(confirmed)),
            restart_lsn: Some(Lsn(restart)),
            ..slot("pgoutput", "db")
        }
    }

    #[test]
    fn a_slot_restarting_after_the_stored_offset_fails_the_start_or_resnapshots() {
        let stored = OffsetState {
            lsn_proc: Some(Lsn(0x40)),
            lsn_commit: Some(Lsn(0x48)),
            ..Default::default()
        };
        let check =
            |c: &PostgresConfig, slot: &SlotInfo| check_log_position(c, Some(stored.clone()), Some(slot));
        let initial = cfg(&[]);
        assert_eq!(
            check(&initial, &slot_at(0x48, 0x40)).unwrap(),
            Some(stored.clone())
        );
        let e = check(&initial, &slot_at(0x90, 0x41)).unwrap_err().to_string();
        assert!(
            e.starts_with("The connector is trying to read change stream starting at LSN 0/40 (lsn_proc of the stored offset), but this is no longer available on the server: replication slot")
                && e.contains("keeps WAL from 0/41 on"),
            "{e}"
        );
        for mode in ["always", "no_data"] {
            assert!(
                check(&cfg(&[("snapshot.mode", mode)]), &slot_at(0x90, 0x41)).is_err(),
                "{mode}"
            );
        }
        let when_needed = cfg(&[("snapshot.mode", "when_needed")]);
        assert_eq!(
            check(&when_needed, &slot_at(0x90, 0x41)).unwrap(),
            None,
            "offsets dropped"
        );
        for trusted in ["trust_slot", "trust_greater_lsn"] {
            let c = cfg(&[("offset.mismatch.strategy", trusted)]);
            assert_eq!(
                check(&c, &slot_at(0x90, 0x41)).unwrap(),
                Some(stored.clone()),
                "{trusted}"
            );
        }
        let trust_offset = cfg(&[("offset.mismatch.strategy", "trust_offset")]);
        assert!(check(&trust_offset, &slot_at(0x90, 0x41)).is_err());
        let initial_only = cfg(&[("snapshot.mode", "initial_only")]);
        assert!(check(&initial_only, &slot_at(0x90, 0x41)).is_ok());
        let mid_snapshot = OffsetState {
            snapshot: Some(SnapshotMarker::initial(false)),
            ..stored.clone()
        };
        assert!(check_log_position(&initial, Some(mid_snapshot), Some(&slot_at(0x90, 0x41))).is_ok());
        assert_eq!(
            check_log_position(&initial, None, Some(&slot_at(0x90, 0x41))).unwrap(),
            None
        );
    }

    #[test]
    fn trust_offset_advances_a_slot_behind_the_stored_offset() {
        let stored = OffsetState {
            lsn_proc: Some(Lsn(0x40)),
            lsn_commit: Some(Lsn(0x48)),
            ..Default::default()
        };
        let target = |extra: &[(&str, &str)], confirmed| {
            slot_advance_target(&cfg(extra), Some(&stored), Some(&slot_at(confirmed, 0x10)))
        };
        assert_eq!(target(&[], 0x20), None, "no_validation leaves the slot alone");
        assert_eq!(target(&[("offset.mismatch.strategy", "trust_slot")], 0x20), None);
        assert_eq!(
            target(&[("offset.mismatch.strategy", "trust_offset")], 0x20),
            Some(Lsn(0x48))
        );
        assert_eq!(
            target(&[("offset.mismatch.strategy", "trust_greater_lsn")], 0x20),
            Some(Lsn(0x48))
        );
        assert_eq!(
            target(&[("offset.mismatch.strategy", "trust_offset")], 0x48),
            None,
            "not behind"
        );
        assert_eq!(
            target(
                &[
                    ("offset.mismatch.strategy", "trust_offset"),
                    ("lsn.flush.mode", "manual")
                ],
                0x20
            ),
            None,
            "manual never moves the slot"
        );
    }

    #[test]
    fn the_guardrail_fails_or_warns_beyond_its_limit() {
        assert!(check_guardrail(&cfg(&[]), 10_000).is_ok(), "no limit by default");
        let warn = cfg(&[("guardrail.collections.max", "2")]);
        assert!(check_guardrail(&warn, 3).is_ok(), "warn is the default action");
        let fail = cfg(&[
            ("guardrail.collections.max", "2"),
            ("guardrail.collections.limit.action", "fail"),
        ]);
        assert!(check_guardrail(&fail, 2).is_ok());
        assert_eq!(
            check_guardrail(&fail, 3).unwrap_err().to_string(),
            "Guardrail limit exceeded: 3 tables/collections configured for capture, but maximum allowed is 2."
        );
    }

    #[test]
    fn an_existing_slot_must_be_pgoutput_on_the_same_database() {
        let c = cfg(&[]);
        assert!(check_existing_slot(&c, &slot("pgoutput", "db")).is_ok());
        let e = check_existing_slot(&c, &slot("decoderbufs", "db")).unwrap_err();
        assert!(e.to_string().contains("uses the 'decoderbufs' plugin"), "{e}");
        let e = check_existing_slot(&c, &slot("pgoutput", "other")).unwrap_err();
        assert!(e.to_string().contains("belongs to database 'other'"), "{e}");
        let decoderbufs = cfg(&[("plugin.name", "decoderbufs")]);
        assert!(check_existing_slot(&decoderbufs, &slot("pgoutput", "db")).is_err());
    }

    #[test]
    fn snapshot_modes_decide_with_stored_offsets_and_the_slot() {
        let streamed = OffsetState {
            lsn_commit: Some(Lsn(0x50)),
            ..Default::default()
        };
        let mid_snapshot = OffsetState {
            snapshot: Some(SnapshotMarker::initial(false)),
            ..Default::default()
        };
        use SnapshotMode::*;
        assert!(snapshot_needed(None, Initial, true));
        assert!(!snapshot_needed(None, NoData, false));
        assert!(!snapshot_needed(Some(&streamed), Initial, true));
        assert!(snapshot_needed(Some(&mid_snapshot), Initial, true));
        assert!(snapshot_needed(Some(&streamed), Always, true));
        assert!(snapshot_needed(Some(&streamed), WhenNeeded, false));
        assert!(!snapshot_needed(Some(&streamed), WhenNeeded, true));
        assert!(!snapshot_needed(Some(&streamed), InitialOnly, false));
    }

    #[test]
    fn a_lost_slot_with_offsets_and_no_snapshot_is_refused() {
        let c = cfg(&[]);
        let stored = OffsetState::default();
        let e = check_offsets_usable(&c, false, Some(&stored), false).unwrap_err();
        assert!(
            e.to_string().contains("does not exist although offsets exist"),
            "{e}"
        );
        assert!(check_offsets_usable(&c, false, Some(&stored), true).is_ok());
        assert!(check_offsets_usable(&c, true, Some(&stored), false).is_ok());
        assert!(check_offsets_usable(&c, false, None, false).is_ok());
    }

    #[test]
    fn streaming_starts_after_the_stored_commit_unless_snapshotting() {
        let stored = OffsetState {
            lsn_proc: Some(Lsn(0x40)),
            lsn_commit: Some(Lsn(0x30)),
            ..Default::default()
        };
        assert_eq!(start_lsn(Some(&stored), false), Lsn(0x30));
        assert_eq!(start_lsn(Some(&stored), true), Lsn::ZERO);
        assert_eq!(start_lsn(None, false), Lsn::ZERO);
    }
}
