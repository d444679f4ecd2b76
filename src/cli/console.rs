//! Starting the operator console with `couplet run` and the demo: from `[console]`, on the
//! HTTP listener, attached to the engine once it runs.

use std::net::SocketAddr;

use crate::config::Config;
use crate::console::Console;
use crate::pipeline::Engine;

/// The console `[console]` asks for (None: off), after checking the listener it would be
/// served on.
pub fn from_config(cfg: &Config) -> anyhow::Result<Option<Console>> {
    let Some(token) = cfg.console.token()? else {
        return Ok(None);
    };
    if let Some(addr) = crate::console::config::listen_addr(cfg.metrics.listen, true) {
        cfg.console.check_listen(addr)?;
    }
    Ok(Some(Console::new(&token)))
}

/// Points the console at the running engine and says where it is.
pub fn attach(console: &Console, engine: &Engine, addr: SocketAddr) -> anyhow::Result<()> {
    console.attach(engine.parts(), engine.captures())?;
    tracing::info!(url = %format!("http://{addr}/console"), "Serving the operator console.");
    Ok(())
}

/// The variable the demo reads the console's token from.
pub const DEMO_TOKEN_ENV: &str = "COUPLET_CONSOLE_TOKEN";

/// The demo's listener (`--metrics-listen`): metrics, and the console when
/// [`DEMO_TOKEN_ENV`] holds a token. Prints where they are (never the token).
pub async fn demo_listener(
    addr: SocketAddr,
) -> anyhow::Result<(crate::metrics_server::MetricsServer, Option<Console>)> {
    let section = crate::console::ConsoleSection {
        token_env: std::env::var_os(DEMO_TOKEN_ENV).map(|_| DEMO_TOKEN_ENV.to_string()),
        allow_remote: false,
    };
    let console = match section.token()? {
        Some(token) => {
            section.check_listen(addr)?;
            Some(Console::new(&token))
        }
        None => None,
    };
    let s = crate::metrics_server::MetricsServer::start_with_routes(
        addr,
        None,
        console.clone().map(crate::console::routes::router),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
    println!(
        "Metrics at http://{0}/metrics (also /healthz, /readyz).",
        s.local_addr()
    );
    match &console {
        Some(_) => println!(
            "Operator console at http://{0}/console (log in with the token in {DEMO_TOKEN_ENV}).",
            s.local_addr()
        ),
        None => println!(
            "Operator console off: export {DEMO_TOKEN_ENV}=<a token of 16+ characters> to serve it at http://{0}/console.",
            s.local_addr()
        ),
    }
    Ok((s, console))
}
