//! The replication client: server checks, publication and slot management,
//! and the logical replication stream behind [`ReplicationStream`].

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use pgwire_replication::{ReplicationClient, ReplicationConfig, ReplicationEvent};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::config::{AutocreateMode, PostgresConfig};
use crate::error::{server_message, PgError, Result, ServerError};
use crate::lsn::Lsn;

/// One item of the replication stream.
#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// Transaction start.
    Begin {
        /// Commit LSN of the transaction.
        final_lsn: Lsn,
        /// Transaction id.
        xid: u32,
        /// Commit time, µs since 1970-01-01.
        commit_time_us: i64,
    },
    /// Transaction end.
    Commit {
        /// Commit record LSN.
        commit_lsn: Lsn,
        /// End of the commit record (what a restart continues after).
        end_lsn: Lsn,
        /// Commit time, µs since 1970-01-01.
        commit_time_us: i64,
    },
    /// A pgoutput message other than Begin/Commit, with the WAL position it starts at.
    Data {
        /// WAL start of the message.
        wal_start: Lsn,
        /// pgoutput bytes.
        data: Bytes,
    },
    /// A logical decoding message (`pg_logical_emit_message`).
    Message {
        /// Emitted inside a transaction (delivered between its Begin and Commit).
        transactional: bool,
        /// WAL position of the message.
        lsn: Lsn,
        /// Application-chosen prefix.
        prefix: String,
        /// Content bytes.
        content: Bytes,
    },
    /// Server keepalive: everything up to `wal_end` was sent.
    KeepAlive {
        /// Server WAL end.
        wal_end: Lsn,
    },
}

/// A logical replication stream. Flush confirmations only ever move forward.
#[async_trait]
pub trait ReplicationStream: Send {
    /// The next event; `None` when the server ended the stream.
    async fn next_event(&mut self) -> Result<Option<StreamEvent>>;
    /// Confirms everything up to `lsn` as flushed (sent with the next status update).
    fn confirm_flush(&mut self, lsn: Lsn);
    /// Ends the stream.
    async fn close(&mut self) -> Result<()>;
}

/// What `CREATE_REPLICATION_SLOT` returned.
#[derive(Debug, Clone)]
pub struct CreatedSlot {
    /// Consistent point: streaming starts here after a snapshot taken at `snapshot_name`.
    pub consistent_point: Lsn,
    /// Exported snapshot, valid until the replication session runs another command.
    pub snapshot_name: Option<String>,
}

/// A replication session before streaming starts.
pub struct ReplicationSession {
    client: ReplicationClient,
    /// `lsn.flush.mode` lets the connector confirm flush positions (not `manual`).
    confirms_flush: bool,
}

fn wire_error(context: &str, e: pgwire_replication::PgWireError) -> PgError {
    use pgwire_replication::PgWireError as W;
    match e {
        W::Io(_) | W::Task(_) => PgError::Transient(format!("{context}: {e}")),
        W::Auth(m) => PgError::Setup(format!(
            "{context}: authentication failed: {m}. Check database.user/database.password and pg_hba.conf (a 'replication' entry is needed)"
        )),
        W::Server(m) => match ServerError::of_wire_message(&m) {
            ServerError::InUse => PgError::Setup(format!(
                "{context}: {m}. Another client (often a second connector using the same slot.name) is consuming this slot; stop it or give this connector its own slot.name"
            )),
            ServerError::Privilege => PgError::Setup(format!(
                "{context}: {m}. Grant the REPLICATION attribute: ALTER ROLE <user> REPLICATION"
            )),
            ServerError::Unavailable => PgError::Transient(format!("{context}: {m}")),
            ServerError::Undefined
            | ServerError::Authorization
            | ServerError::LockNotAvailable
            | ServerError::Other => {
                PgError::Setup(format!("{context}: {m}"))
            }
        },
        other => PgError::Protocol(format!("{context}: {other}")),
    }
}

impl ReplicationSession {
    /// Opens a replication connection (not yet streaming); streaming will begin at `start_lsn`
    /// or the slot's confirmed position, whichever is greater. Until the task confirms more,
    /// status updates report `ack_lsn` as flushed (never more than is durable).
    pub async fn connect(cfg: &PostgresConfig, start_lsn: Lsn, ack_lsn: Lsn) -> Result<ReplicationSession> {
        let tls = crate::tls::replication_tls(cfg).await?;
        let mut rc = ReplicationConfig::new(
            cfg.hostname.clone(),
            cfg.user.clone(),
            cfg.password.clone(),
            cfg.dbname.clone(),
            cfg.slot_name.clone(),
            cfg.publication_name.clone(),
        )
        .with_port(cfg.port)
        .with_start_lsn(pgwire_replication::Lsn(start_lsn.0))
        .with_ack_lsn(pgwire_replication::Lsn(ack_lsn.0))
        .with_status_interval(cfg.status_update_interval)
        .with_wakeup_interval(Duration::from_secs(5))
        .with_buffer_size(cfg.max_queue_size.max(16))
        .with_application_name("ferry-postgres");
        rc = rc.with_tls(tls);
        // The connection (and TLS handshake) happens in the background: a TLS failure may
        // surface from connect_gated or from the first command.
        let err = |context: &str, e: pgwire_replication::PgWireError| {
            if e.is_tls() {
                let m = e.to_string();
                let msg = format!(
                    "{context} ({}:{}, {}): {m}{}",
                    cfg.hostname,
                    cfg.port,
                    crate::tls::describe(cfg),
                    crate::tls::hint(&m)
                );
                if crate::tls::is_config_failure(&m) {
                    PgError::Setup(msg)
                } else {
                    PgError::Transient(msg)
                }
            } else {
                wire_error(context, e)
            }
        };
        let mut client = ReplicationClient::connect_gated(rc)
            .await
            .map_err(|e| err("opening the replication connection", e))?;
        client
            .identify_system()
            .await
            .map_err(|e| err("opening the replication connection (IDENTIFY_SYSTEM)", e))?;
        Ok(ReplicationSession {
            client,
            confirms_flush: cfg.lsn_flush_mode.confirms_flush(),
        })
    }

    /// `CREATE_REPLICATION_SLOT "slot" LOGICAL pgoutput EXPORT_SNAPSHOT`, or with
    /// `(SNAPSHOT 'export', FAILOVER)` for a failover slot (PostgreSQL 17+).
    pub async fn create_slot(&mut self, slot: &str, failover: bool) -> Result<CreatedSlot> {
        let options = if failover {
            "(SNAPSHOT 'export', FAILOVER)"
        } else {
            "EXPORT_SNAPSHOT"
        };
        let rows = self
            .client
            .simple_query(&format!(
                "CREATE_REPLICATION_SLOT \"{slot}\" LOGICAL pgoutput {options}"
            ))
            .await
            .map_err(|e| wire_error("creating the replication slot", e))?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| PgError::Protocol("CREATE_REPLICATION_SLOT returned no row".into()))?;
        let text = |i: usize| {
            row.get(i)
                .and_then(|c| c.as_ref())
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let consistent_point = text(1)
            .and_then(|s| Lsn::parse(&s))
            .ok_or_else(|| PgError::Protocol("CREATE_REPLICATION_SLOT: no consistent point".into()))?;
        Ok(CreatedSlot {
            consistent_point,
            snapshot_name: text(2),
        })
    }

    /// Sends START_REPLICATION and returns the stream.
    pub async fn start(mut self) -> Result<PgwireStream> {
        self.client
            .start()
            .await
            .map_err(|e| wire_error("START_REPLICATION", e))?;
        self.client
            .wait_started()
            .await
            .map_err(|e| wire_error("START_REPLICATION", e))?;
        Ok(PgwireStream {
            client: Some(self.client),
            confirmed: Lsn::ZERO,
            confirms_flush: self.confirms_flush,
        })
    }
}

/// [`ReplicationStream`] over pgwire-replication.
pub struct PgwireStream {
    client: Option<ReplicationClient>,
    confirmed: Lsn,
    /// False with `lsn.flush.mode=manual`: confirmations are dropped, the user moves the slot.
    confirms_flush: bool,
}

#[async_trait]
impl ReplicationStream for PgwireStream {
    async fn next_event(&mut self) -> Result<Option<StreamEvent>> {
        let Some(client) = self.client.as_mut() else {
            return Ok(None);
        };
        let ev = client
            .recv()
            .await
            .map_err(|e| wire_error("replication stream", e))?;
        let Some(ev) = ev else { return Ok(None) };
        let pg = |us: i64| us.saturating_add(crate::pgoutput::PG_EPOCH_OFFSET_MICROS);
        Ok(Some(match ev {
            ReplicationEvent::Begin {
                final_lsn,
                xid,
                commit_time_micros,
            } => StreamEvent::Begin {
                final_lsn: Lsn(final_lsn.0),
                xid,
                commit_time_us: pg(commit_time_micros),
            },
            ReplicationEvent::Commit {
                lsn,
                end_lsn,
                commit_time_micros,
            } => StreamEvent::Commit {
                commit_lsn: Lsn(lsn.0),
                end_lsn: Lsn(end_lsn.0),
                commit_time_us: pg(commit_time_micros),
            },
            ReplicationEvent::XLogData { wal_start, data, .. } => StreamEvent::Data {
                wal_start: Lsn(wal_start.0),
                data,
            },
            ReplicationEvent::KeepAlive { wal_end, .. } => StreamEvent::KeepAlive {
                wal_end: Lsn(wal_end.0),
            },
            ReplicationEvent::Message {
                transactional,
                lsn,
                prefix,
                content,
            } => StreamEvent::Message {
                transactional,
                lsn: Lsn(lsn.0),
                prefix,
                content,
            },
            ReplicationEvent::StoppedAt { .. } => return Ok(None),
        }))
    }

    fn confirm_flush(&mut self, lsn: Lsn) {
        if self.confirms_flush && lsn > self.confirmed {
            self.confirmed = lsn;
            if let Some(c) = &self.client {
                c.update_applied_lsn(pgwire_replication::Lsn(lsn.0));
            }
        }
    }

    async fn close(&mut self) -> Result<()> {
        if let Some(mut c) = self.client.take() {
            // One last status update carries the confirmed position.
            let _ = tokio::time::timeout(Duration::from_secs(5), c.shutdown()).await;
        }
        Ok(())
    }
}

/// What the server says about a slot.
#[derive(Debug, Clone)]
pub struct SlotInfo {
    /// Output plugin.
    pub plugin: String,
    /// Database it belongs to.
    pub database: Option<String>,
    /// PID of the process consuming it, when active.
    pub active_pid: Option<i32>,
    /// Confirmed flush position.
    pub confirmed_flush: Option<Lsn>,
    /// Oldest WAL position the slot keeps (decoding restarts there).
    pub restart_lsn: Option<Lsn>,
}

/// Reads a slot's state.
pub async fn slot_info(client: &Client, slot: &str) -> Result<Option<SlotInfo>> {
    let row = client
        .query_opt(
            "SELECT plugin::text, database::text, active_pid, confirmed_flush_lsn::text, restart_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .map_err(|e| PgError::sql("reading pg_replication_slots", e))?;
    Ok(row.map(|r| SlotInfo {
        plugin: r.get::<_, Option<String>>(0).unwrap_or_default(),
        database: r.get(1),
        active_pid: r.get(2),
        confirmed_flush: r.get::<_, Option<String>>(3).and_then(|s| Lsn::parse(&s)),
        restart_lsn: r.get::<_, Option<String>>(4).and_then(|s| Lsn::parse(&s)),
    }))
}

/// Advances a slot whose confirmed position is behind the stored offset to it
/// (`offset.mismatch.strategy` trust_offset and trust_greater_lsn), as Debezium seeks
/// it with `pg_replication_slot_advance`. Returns the position it reached;
/// `None` when the server lacks the function or the user the privilege (both logged,
/// as Debezium logs them). A refused position stops the start.
pub async fn advance_slot(client: &Client, slot: &str, to: Lsn) -> Result<Option<Lsn>> {
    tracing::info!(%slot, "Seeking to {to} on the replication slot with pg_replication_slot_advance");
    let target = to.to_string();
    let e = match client
        .query_one(
            "SELECT end_lsn::text FROM pg_replication_slot_advance($1, $2::text::pg_lsn)",
            &[&slot, &target],
        )
        .await
    {
        Ok(row) => return Ok(row.get::<_, Option<String>>(0).and_then(|s| Lsn::parse(&s))),
        Err(e) => e,
    };
    let message = server_message(&e);
    if ServerError::of(&e) == Some(ServerError::Privilege) {
        tracing::warn!("Unable to use pg_replication_slot_advance() function ({message}). The user likely lacks the REPLICATION attribute");
        return Ok(None);
    }
    match e.code() {
        Some(c) if *c == SqlState::UNDEFINED_FUNCTION => {
            tracing::info!("Postgres server doesn't support the command pg_replication_slot_advance(). Not seeking to last known offset.");
            Ok(None)
        }
        Some(c) if *c == SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE => Err(PgError::Setup(format!(
            "Cannot seek to the last known offset '{to}' on replication slot '{slot}'. Error from server: {message}"
        ))),
        _ => Err(PgError::sql(format!("advancing replication slot '{slot}' to {to}"), e)),
    }
}

/// Whether a new slot can be a failover slot: the server is PostgreSQL 17 or newer and
/// a primary (failover slots are created on the primary and synchronized to standbys).
pub async fn supports_failover_slots(client: &Client) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int >= 170000, pg_is_in_recovery()",
            &[],
        )
        .await
        .map_err(|e| PgError::sql("reading the server version and recovery state", e))?;
    let (recent, in_recovery): (bool, bool) = (row.get(0), row.get(1));
    if !recent {
        tracing::info!(
            "slot.failover=true, but failover slots need PostgreSQL 17 or newer: creating a regular slot"
        );
    } else if in_recovery {
        tracing::info!("slot.failover=true, but the server is a standby, where a failover slot cannot be created: creating a regular slot");
    }
    Ok(recent && !in_recovery)
}

/// Checks `wal_level = logical`.
pub async fn check_wal_level(client: &Client) -> Result<()> {
    let row = client
        .query_one("SELECT current_setting('wal_level')", &[])
        .await
        .map_err(|e| PgError::sql("reading wal_level", e))?;
    let level: String = row.get(0);
    if level != "logical" {
        return Err(PgError::Setup(format!(
            "Postgres server wal_level property must be 'logical' but is: '{level}'. Set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart the server"
        )));
    }
    Ok(())
}

/// The `WITH (...)` clause of a publication Ferry creates, as Debezium builds it:
/// `publish_via_partition_root = true` when `publish.via.partition.root` is set, then
/// `publish = '...'` (the operations `skipped.operations` does not skip, only when it is
/// set explicitly and skips something); empty when neither applies.
pub fn publication_with_clause(cfg: &PostgresConfig) -> String {
    let mut options = Vec::new();
    if cfg.publish_via_partition_root {
        options.push("publish_via_partition_root = true".to_string());
    }
    if let Some(publish) = &cfg.publication_publish {
        options.push(format!("publish = '{publish}'"));
    }
    if options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", options.join(", "))
    }
}

/// Makes sure the publication exists as `publication.autocreate.mode` asks.
/// `tables` are the captured tables (used by `filtered`).
pub async fn ensure_publication(
    client: &Client,
    cfg: &PostgresConfig,
    tables: &[crate::schema::TableId],
) -> Result<()> {
    let name = &cfg.publication_name;
    let all_tables: Option<bool> = client
        .query_opt(
            "SELECT puballtables FROM pg_publication WHERE pubname = $1",
            &[name],
        )
        .await
        .map_err(|e| PgError::sql("reading pg_publication", e))?
        .map(|r| r.get(0));
    let table_list = || {
        tables
            .iter()
            .map(|t| format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.table)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let with = publication_with_clause(cfg);
    let sql = match (cfg.publication_autocreate_mode, all_tables) {
        (AutocreateMode::Disabled, None) => {
            return Err(PgError::Setup(format!(
                "Publication '{name}' does not exist and publication.autocreate.mode is 'disabled'. Create it (CREATE PUBLICATION {name} FOR TABLE ...) or change publication.autocreate.mode"
            )))
        }
        (AutocreateMode::AllTables, None) => {
            format!("CREATE PUBLICATION {} FOR ALL TABLES{with}", quote_ident(name))
        }
        (AutocreateMode::NoTables, None) => format!("CREATE PUBLICATION {}{with}", quote_ident(name)),
        (AutocreateMode::Filtered, Some(true)) => {
            return Err(PgError::Setup(format!(
                "A logical publication for all tables named '{name}' for plugin 'pgoutput' and database '{}' is already active on the server and can not be altered. If you need to exclude some tables or include only specific subset, please recreate the publication with necessary configuration or let plugin recreate it by dropping existing publication. Otherwise please change the 'publication.autocreate.mode' property to 'all_tables'.",
                cfg.dbname
            )))
        }
        (AutocreateMode::Filtered, exists) => {
            if tables.is_empty() {
                return Err(PgError::Setup(format!(
                    "publication.autocreate.mode is 'filtered' but no table matches the include/exclude lists, so publication '{name}' would be empty"
                )));
            }
            if exists.is_some() {
                if !publication_update_required(client, name, tables).await {
                    tracing::info!(publication = %name, "Publication is already up to date with desired tables");
                    return Ok(());
                }
                // Debezium also appends its publish option here, which ALTER PUBLICATION
                // ... SET TABLE does not accept; the table list alone is set.
                format!("ALTER PUBLICATION {} SET TABLE {}", quote_ident(name), table_list())
            } else {
                format!("CREATE PUBLICATION {} FOR TABLE {}{with}", quote_ident(name), table_list())
            }
        }
        (_, Some(_)) => return Ok(()),
    };
    tracing::info!(publication = %name, %sql, "creating publication");
    client.batch_execute(&sql).await.map_err(|e| {
        if ServerError::of(&e) == Some(ServerError::Privilege) {
            PgError::Setup(format!(
                "Cannot create publication '{name}' ({}): the user '{}' lacks the privilege. Create the publication as a superuser (CREATE PUBLICATION {name} FOR ALL TABLES), or grant the user ownership of the captured tables and use publication.autocreate.mode=filtered",
                e.as_db_error().map(|d| d.message()).unwrap_or_default(),
                cfg.user
            ))
        } else {
            PgError::sql(format!("creating publication '{name}'"), e)
        }
    })?;
    Ok(())
}

/// Whether a `filtered` publication's tables differ from the captured ones (true when
/// they cannot be read, so the publication is set anyway, as Debezium does).
async fn publication_update_required(client: &Client, name: &str, tables: &[crate::schema::TableId]) -> bool {
    let rows = match client
        .query(
            "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1",
            &[&name],
        )
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(publication = %name, error = %e, "Unable to query pg_publication_tables; the publication will be updated to ensure synchronization");
            return true;
        }
    };
    let current: std::collections::BTreeSet<(String, String)> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let desired: std::collections::BTreeSet<(String, String)> = tables
        .iter()
        .map(|t| (t.schema.clone(), t.table.clone()))
        .collect();
    current != desired
}

/// What `replica.identity.autoset.values` did to one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaIdentityOutcome {
    /// `ALTER TABLE ... REPLICA IDENTITY ...` ran.
    Set(String),
    /// The table already had it.
    Unchanged(String),
    /// The change failed (logged; the connector goes on, as Debezium does).
    Failed(String),
}

/// Sets the replica identities `replica.identity.autoset.values` asks for on the captured
/// `tables`, as Debezium does at each start before the slot is used: a table already
/// with the identity is left alone; a table matched by several entries, a missing
/// privilege (42501, the user must own the table) or any other failure is logged as an
/// error and the connector goes on.
pub async fn apply_replica_identities(
    client: &Client,
    cfg: &PostgresConfig,
    tables: &[crate::schema::TableId],
) -> Vec<(crate::schema::TableId, ReplicaIdentityOutcome)> {
    let mut out = Vec::new();
    if cfg.replica_identity_rules.is_empty() {
        return out;
    }
    tracing::info!("Updating Replica Identity");
    for t in tables {
        let identity =
            match crate::config::replica_identity_for(&cfg.replica_identity_rules, &t.schema, &t.table) {
                Ok(Some(identity)) => identity,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(table = %t, "Unable to update Replica Identity for table {t}: {e}");
                    out.push((t.clone(), ReplicaIdentityOutcome::Failed(e)));
                    continue;
                }
            };
        let current = client
            .query_opt(
                "SELECT c.relreplident::text, \
                        (SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                          WHERE i.indrelid = c.oid AND i.indisreplident LIMIT 1) \
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                  WHERE n.nspname = $1 AND c.relname = $2",
                &[&t.schema, &t.table],
            )
            .await;
        let current = match current {
            Ok(Some(row)) => (row.get::<_, String>(0), row.get::<_, Option<String>>(1)),
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(table = %t, error = %e, "Cannot determine REPLICA IDENTITY information for table {t}");
                out.push((t.clone(), ReplicaIdentityOutcome::Failed(e.to_string())));
                continue;
            }
        };
        if identity.is_current(&current.0, current.1.as_deref()) {
            tracing::info!(table = %t, "Replica identity for table '{t}' is already {identity}");
            out.push((t.clone(), ReplicaIdentityOutcome::Unchanged(identity.to_string())));
            continue;
        }
        let sql = format!(
            "ALTER TABLE {}.{} REPLICA IDENTITY {}",
            quote_ident(&t.schema),
            quote_ident(&t.table),
            identity.clause()
        );
        match client.batch_execute(&sql).await {
            Ok(()) => {
                tracing::info!(table = %t, "Replica identity set to {identity} for table '{t}'");
                out.push((t.clone(), ReplicaIdentityOutcome::Set(identity.to_string())));
            }
            Err(e) => {
                let why = match ServerError::of(&e) {
                    Some(ServerError::Privilege) => format!(
                        "Replica identity could not be updated because of lack of privileges: {}. The user '{}' must own the table (ALTER TABLE needs ownership)",
                        e.as_db_error().map(|d| d.message()).unwrap_or_default(),
                        cfg.user
                    ),
                    _ => format!(
                        "Unexpected error while attempting to alter Replica Identity: {}",
                        server_message(&e)
                    ),
                };
                tracing::error!(table = %t, %sql, "{why}");
                out.push((t.clone(), ReplicaIdentityOutcome::Failed(why)));
            }
        }
    }
    out
}

/// Drops a replication slot, waiting briefly for its consumer to go away.
pub async fn drop_slot(client: &Client, slot: &str) -> Result<()> {
    for _ in 0..50 {
        match slot_info(client, slot).await? {
            None => return Ok(()),
            Some(s) if s.active_pid.is_some() => tokio::time::sleep(Duration::from_millis(100)).await,
            Some(_) => {
                client
                    .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
                    .await
                    .map_err(|e| PgError::sql("dropping the replication slot", e))?;
                return Ok(());
            }
        }
    }
    Err(PgError::Setup(format!(
        "replication slot '{slot}' stayed active; not dropped"
    )))
}

/// Quotes an SQL identifier.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &[(&str, &str)]) -> PostgresConfig {
        let mut m: ferry_core::ConfigMap = [
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "db"),
            ("topic.prefix", "srv"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        PostgresConfig::parse(&m).unwrap()
    }

    #[test]
    fn the_publication_options_combine_partition_root_and_publish_as_debezium() {
        assert_eq!(publication_with_clause(&cfg(&[])), "");
        assert_eq!(
            publication_with_clause(&cfg(&[("publish.via.partition.root", "true")])),
            " WITH (publish_via_partition_root = true)"
        );
        // skipped.operations counts only when given (its default 't' adds nothing).
        assert_eq!(
            publication_with_clause(&cfg(&[
                ("publish.via.partition.root", "true"),
                ("skipped.operations", "t")
            ])),
            " WITH (publish_via_partition_root = true, publish = 'insert,update,delete')"
        );
        assert_eq!(
            publication_with_clause(&cfg(&[("skipped.operations", "c,d")])),
            " WITH (publish = 'update,truncate')"
        );
        assert_eq!(
            publication_with_clause(&cfg(&[("skipped.operations", "none")])),
            ""
        );
    }
}
