//! Ordinary (non-replication) sessions: connecting with TLS as configured, and the
//! catalog queries the task needs.

use tokio_postgres::{Client, NoTls};
use tracing::debug;

use crate::config::PostgresConfig;
use crate::error::{PgError, Result, ServerError};
use crate::schema::TableId;

/// A TLS failure (handshake, certificate, server without TLS): retrying will not help.
///
/// By text: tokio-postgres does not expose its error kinds, and its TLS failures
/// ("error performing TLS handshake", "server does not support TLS") carry no SQLSTATE.
fn is_tls_error(e: &tokio_postgres::Error) -> bool {
    e.to_string().contains("TLS")
}

/// `e: cause: cause...`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}

fn spawn_connection<F>(conn: F)
where
    F: std::future::Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            debug!(error = %e, "metadata connection ended");
        }
    });
}

/// A query session as the connector's settings describe it (TLS, options), after
/// `database.initial.statements` ran on it.
pub(crate) async fn connect_meta(cfg: &PostgresConfig) -> Result<Client> {
    let conn_str = cfg.connection_string();
    let connected = match crate::tls::client_config(cfg)? {
        None => tokio_postgres::connect(&conn_str, NoTls).await.map(|(c, conn)| {
            spawn_connection(conn);
            c
        }),
        Some(tls) => tokio_postgres::connect(&conn_str, crate::tls::MakeRustlsConnect::new(tls))
            .await
            .map(|(c, conn)| {
                spawn_connection(conn);
                c
            }),
    };
    let client = connected.map_err(|e| match e.as_db_error() {
        // pg_hba.conf refused the connection, e.g. `hostssl` / `clientcert` rules
        Some(db) if ServerError::classify(db.code()) == ServerError::Authorization => {
            PgError::Setup(format!(
                "connecting to {}:{}/{} ({}): {} ({})",
                cfg.hostname,
                cfg.port,
                cfg.dbname,
                crate::tls::describe(cfg),
                db.message(),
                db.code().code()
            ))
        }
        Some(_) => PgError::sql(
            format!("connecting to {}:{}/{}", cfg.hostname, cfg.port, cfg.dbname),
            e,
        ),
        None if is_tls_error(&e) => {
            let m = error_chain(&e);
            let msg = format!(
                "TLS to {}:{}/{} failed ({}): {m}{}",
                cfg.hostname,
                cfg.port,
                cfg.dbname,
                crate::tls::describe(cfg),
                crate::tls::hint(&m)
            );
            if crate::tls::is_config_failure(&m) {
                PgError::Setup(msg)
            } else {
                PgError::Transient(msg)
            }
        }
        None => PgError::Transient(format!(
            "cannot connect to {}:{}/{}: {}",
            cfg.hostname,
            cfg.port,
            cfg.dbname,
            error_chain(&e)
        )),
    })?;
    for statement in &cfg.initial_statements {
        client.batch_execute(statement).await.map_err(|e| {
            let detail = match e.as_db_error() {
                Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
                None => error_chain(&e),
            };
            PgError::Setup(format!(
                "database.initial.statements: '{statement}' failed on {}:{}/{}: {detail}",
                cfg.hostname, cfg.port, cfg.dbname
            ))
        })?;
    }
    Ok(client)
}

/// Debezium's `PostgresConnector.validateConnection`: connects as the task would (same
/// TLS settings and options), runs `SELECT version()` and reads the user's roles. Like
/// Debezium 3.6, a user without LOGIN and REPLICATION is only logged, not an error.
pub(crate) async fn check_connection(cfg: &PostgresConfig) -> Result<()> {
    let client = connect_meta(cfg).await?;
    let context = || {
        format!(
            "testing the connection to {}:{}/{}",
            cfg.hostname, cfg.port, cfg.dbname
        )
    };
    client
        .simple_query("SELECT version()")
        .await
        .map_err(|e| PgError::sql(context(), e))?;
    // Debezium also accepts membership of the AWS RDS replication roles.
    let roles = client
        .query_one(
            "SELECT r.rolcanlogin AND (r.rolreplication OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m \
             JOIN pg_catalog.pg_roles b ON m.roleid = b.oid WHERE m.member = r.oid \
             AND b.rolname IN ('rds_superuser', 'rdsadmin', 'rdsrepladmin', 'rds_replication'))) \
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await
        .map_err(|e| PgError::sql(context(), e))?;
    if !roles.get::<_, bool>(0) {
        tracing::error!(
            "Postgres roles LOGIN and REPLICATION are not assigned to user: {}",
            cfg.user
        );
    }
    Ok(())
}

pub(super) async fn captured_tables(client: &Client, cfg: &PostgresConfig) -> Result<Vec<(u32, TableId)>> {
    let rows = client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') ORDER BY n.nspname, c.relname",
            &[],
        )
        .await
        .map_err(|e| PgError::sql("listing tables", e))?;
    let mut tables: Vec<(u32, TableId)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<_, u32>(0),
                TableId {
                    schema: r.get(1),
                    table: r.get(2),
                },
            )
        })
        .filter(|(_, t)| cfg.filters.table_included(&t.schema, &t.table))
        .collect();
    // Debezium's order: by the first include-list pattern a table matches, then by name.
    tables.sort_by_cached_key(|(_, t)| {
        (
            cfg.filters.snapshot_rank(&t.schema, &t.table),
            format!("{}.{}", t.schema, t.table),
        )
    });
    Ok(tables)
}
