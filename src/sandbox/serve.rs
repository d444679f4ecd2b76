//! Serving one emulator: axum over hyper, one task per connection, and the means for a request
//! to end its connection without an answer (an injected connection reset), which
//! `axum::serve` does not give.

use std::sync::Arc;

use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;

/// The connection a request came on, in the request's extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Connection {
    close: Arc<Notify>,
}

impl Connection {
    /// Closes the connection at once, whatever is in flight on it: the client reads an end of
    /// stream where it waits for an answer (or the rest of one).
    pub fn close(&self) {
        self.close.notify_one();
    }
}

/// Serves `app` on `listener` until `stop` fires; each connection on its own task, dropped
/// (closed) when a request on it calls [`Connection::close`]. Open connections are closed on
/// stop.
pub(crate) async fn serve(
    name: &'static str,
    listener: TcpListener,
    app: Router,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            a = listener.accept() => a,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                tracing::warn!(server = name, error = %e, "sandbox: cannot accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let conn = Connection::default();
        let service = TowerToHyperService::new(app.clone().layer(Extension(conn.clone())));
        connections.spawn(async move {
            let builder = Builder::new(TokioExecutor::new());
            let served = builder.serve_connection(TokioIo::new(tcp), service);
            tokio::select! {
                r = served => {
                    if let Err(e) = r {
                        tracing::debug!(server = name, error = %e, "sandbox: connection ended with an error");
                    }
                }
                _ = conn.close.notified() => {
                    tracing::debug!(server = name, "sandbox: connection closed by an injected fault");
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
}
