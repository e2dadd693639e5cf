//! The router served over a real socket, the way the runtime serves it.

mod common;

use std::sync::Arc;

use common::TestHerder;
use ferry_rest::entities::State;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn raw_request(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn serves_http_over_tcp() {
    let herder = Arc::new(TestHerder::new().with_connector("c1", State::Running));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, ferry_rest::router(herder)).await.unwrap();
    });

    let resp = raw_request(
        addr,
        "GET /connectors HTTP/1.1\r\nHost: localhost:8083\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(
        resp.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{resp}"
    );
    assert!(resp.ends_with(r#"["c1"]"#), "{resp}");

    let body = r#"{"name":"c2","config":{"connector.class":"FileStreamSource","topic":"t"}}"#;
    let resp = raw_request(
        addr,
        &format!(
            "POST /connectors HTTP/1.1\r\nHost: localhost:8083\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 201 Created\r\n"), "{resp}");
    assert!(
        resp.to_ascii_lowercase()
            .contains("location: http://localhost:8083/connectors/c2"),
        "{resp}"
    );
    server.abort();
}
