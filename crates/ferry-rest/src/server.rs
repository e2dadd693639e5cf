//! The REST server as Kafka Connect runs it: every `listeners` entry (HTTP or HTTPS),
//! the admin endpoints where `admin.listeners` puts them, and the filters Connect
//! installs (basic authentication, CORS, response headers) around the API.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::AuthLayerState;
use crate::server_config::{AdminListeners, Listener, RestServerConfig, Scheme};
use crate::tls::{TlsListener, TlsSettings};
use crate::{Herder, RestError, RestOptions};

/// A listener that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {listener} ({key}): {source}")]
pub struct BindError {
    /// The listener.
    pub listener: String,
    /// `listeners` or `admin.listeners`.
    pub key: &'static str,
    /// Why.
    #[source]
    pub source: io::Error,
}

struct Bound {
    listener: Listener,
    tcp: TcpListener,
    admin: bool,
}

/// The REST server with its sockets open, not yet serving.
pub struct RestServer {
    config: RestServerConfig,
    bound: Vec<Bound>,
}

/// One open listener: its URL with the port actually bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundAddress {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The local address.
    pub addr: SocketAddr,
    /// Whether it serves the admin endpoints only.
    pub admin: bool,
}

impl RestServer {
    /// Opens every listener (a port in use is an error here, at start-up).
    pub async fn bind(config: RestServerConfig) -> Result<RestServer, BindError> {
        let mut wanted: Vec<(Listener, bool)> = config.listeners.iter().map(|l| (l.clone(), false)).collect();
        if let AdminListeners::Separate(admin) = &config.admin_listeners {
            wanted.extend(admin.iter().map(|l| (l.clone(), true)));
        }
        let mut bound = Vec::with_capacity(wanted.len());
        for (listener, admin) in wanted {
            let key = if admin { "admin.listeners" } else { "listeners" };
            let tcp = TcpListener::bind((listener.bind_host(), listener.port))
                .await
                .map_err(|source| BindError {
                    listener: listener.to_string(),
                    key,
                    source,
                })?;
            bound.push(Bound { listener, tcp, admin });
        }
        Ok(RestServer { config, bound })
    }

    /// The open listeners.
    pub fn addresses(&self) -> Vec<BoundAddress> {
        self.bound
            .iter()
            .filter_map(|b| {
                Some(BoundAddress {
                    scheme: b.listener.scheme,
                    addr: b.tcp.local_addr().ok()?,
                    admin: b.admin,
                })
            })
            .collect()
    }

    /// Serves `herder` on every listener until [`RunningServer::stop`].
    pub fn serve(self, herder: Arc<dyn Herder>, options: RestOptions) -> io::Result<RunningServer> {
        let main = main_app(herder.clone(), options.clone(), &self.config);
        let admin = admin_app(herder, options);
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for b in self.bound {
            let app = if b.admin { admin.clone() } else { main.clone() };
            let tls = match (b.listener.scheme, b.admin) {
                (Scheme::Http, _) => None,
                (Scheme::Https, false) => self.config.tls.clone(),
                (Scheme::Https, true) => self.config.admin_tls.clone(),
            };
            let signal = wait_for_stop(stopped.clone());
            let url = b.listener.to_string();
            match tls {
                None => {
                    tasks.spawn(async move { axum::serve(b.tcp, app).with_graceful_shutdown(signal).await });
                }
                Some(TlsSettings { config, .. }) => {
                    let listener = TlsListener::new(b.tcp, config)?;
                    tasks.spawn(
                        async move { axum::serve(listener, app).with_graceful_shutdown(signal).await },
                    );
                }
            }
            tracing::info!(listener = %url, admin = b.admin, "REST listener open");
        }
        Ok(RunningServer { stop, tasks })
    }
}

async fn wait_for_stop(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

/// The server while it serves.
pub struct RunningServer {
    stop: watch::Sender<bool>,
    tasks: JoinSet<io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish and waits for every listener.
    pub async fn stop(mut self) -> io::Result<()> {
        let _ = self.stop.send(true);
        let mut result = Ok(());
        while let Some(done) = self.tasks.join_next().await {
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(e) => result = Err(io::Error::other(e)),
            }
        }
        result
    }
}

fn is_admin_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// 404 for `/admin/*` on the main listeners when `admin.listeners` is set.
async fn hide_admin(req: Request, next: Next) -> Response {
    if is_admin_path(req.uri().path()) {
        return RestError::plain(StatusCode::NOT_FOUND).into_response();
    }
    next.run(req).await
}

/// 404 for everything but `/admin/*` on the admin listeners.
async fn only_admin(req: Request, next: Next) -> Response {
    if !is_admin_path(req.uri().path()) {
        return RestError::plain(StatusCode::NOT_FOUND).into_response();
    }
    next.run(req).await
}

/// `OPTIONS` on a served path, as Jersey answers it: 200, `Allow` listing the path's
/// methods (with HEAD for GET, and OPTIONS) in Java `HashSet` order, the same list as a
/// text body. Other paths go on to the router (404).
async fn jersey_options(
    axum::extract::State(routes): axum::extract::State<Arc<Vec<(&'static str, &'static str)>>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != axum::http::Method::OPTIONS {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let mut methods: Vec<&str> = Vec::new();
    for (m, template) in routes.iter() {
        if crate::auth::matches_a_route(&axum::http::Method::GET, path, &[("GET", template)]) {
            if *m == "GET" && !methods.contains(&"HEAD") {
                methods.push("HEAD");
            }
            if !methods.contains(m) {
                methods.push(m);
            }
        }
    }
    if methods.is_empty() {
        return next.run(req).await;
    }
    methods.push("OPTIONS");
    let ordered: Vec<&str> = ferry_core::java::collections::hashmap_iteration_order(
        methods.into_iter().map(|m| (m, ())).collect(),
    )
    .into_iter()
    .map(|(m, _)| m)
    .collect();
    let mut resp = ordered.join(", ").into_response();
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain"),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&ordered.join(",")) {
        h.insert(axum::http::header::ALLOW, v);
    }
    resp
}

/// The main listeners' application: the API and `/ui`, with Connect's filters.
pub fn main_app(herder: Arc<dyn Herder>, options: RestOptions, config: &RestServerConfig) -> Router {
    let mut app = crate::router_with(herder, options);
    let admin_here = config.admin_listeners == AdminListeners::Main;
    let routes: Arc<Vec<(&'static str, &'static str)>> = Arc::new(
        crate::routes()
            .into_iter()
            .filter(|(_, p)| admin_here || !is_admin_path(p))
            .collect(),
    );
    app = app.layer(from_fn_with_state(routes.clone(), jersey_options));
    if !admin_here {
        app = app.layer(from_fn(hide_admin));
    }
    if let Some(auth) = &config.basic_auth {
        let state = AuthLayerState {
            auth: auth.clone(),
            routes,
        };
        app = app.layer(from_fn_with_state(state, crate::auth::require_basic_auth));
    }
    if !config.headers.is_empty() {
        app = app.layer(from_fn_with_state(
            Arc::new(config.headers.clone()),
            crate::headers::apply,
        ));
    }
    if let Some(cors) = &config.cors {
        app = app.layer(from_fn_with_state(cors.clone(), crate::cors::apply));
    }
    app
}

/// The admin listeners' application: `/admin/*` only, without the REST extensions
/// (Connect registers them on the main resources only).
pub fn admin_app(herder: Arc<dyn Herder>, options: RestOptions) -> Router {
    let routes: Arc<Vec<(&'static str, &'static str)>> = Arc::new(
        crate::routes()
            .into_iter()
            .filter(|(_, p)| is_admin_path(p))
            .collect(),
    );
    crate::router_with(herder, options)
        .layer(from_fn_with_state(routes, jersey_options))
        .layer(from_fn(only_admin))
}
