//! What every lead-to-cash story of `couplet demo` does around its hops: an engine on the
//! story's sandbox, the initial synchronisation, the hops, then the check that everything
//! settled with nothing failed or parked, and the summary line.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use futures::future::BoxFuture;

use crate::pipeline::Engine;
use crate::sandbox::Sandbox;
use crate::store::Store;

/// How long one hop may take before the story fails (the initial synchronisation may take
/// five times as long).
pub const HOP_TIMEOUT: Duration = Duration::from_secs(60);

/// What a story's hops give: how many there were and the slowest.
pub type Played = anyhow::Result<(usize, Duration)>;

/// Runs `play` on an engine built from `cfg` against `sb`, after the initial synchronisation;
/// returns whether every hop happened and nothing failed or stayed parked. Stops the engine
/// and the sandbox.
pub async fn run(
    sb: Sandbox,
    cfg: crate::config::Config,
    play: impl for<'a> FnOnce(&'a Sandbox, &'a Store) -> BoxFuture<'a, Played>,
) -> anyhow::Result<bool> {
    let parts = super::build::connect_parts(&cfg).await?;
    let store = parts.store.clone();
    let started = Instant::now();
    let mut engine = Engine::start(parts).await?;
    let result = match engine.wait_idle(HOP_TIMEOUT * 5).await? {
        false => Err(anyhow!("the initial synchronisation did not settle")),
        true => {
            println!(
                "  catalogue synchronised in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            play(&sb, &store).await
        }
    };
    // Every write of the story done, nothing failed or left parked on the way.
    let result = match result {
        Ok(hops) if engine.wait_idle(HOP_TIMEOUT).await? => {
            let (errors, parked) = (store.errors()?, store.parked()?);
            if errors.is_empty() && parked.is_empty() {
                Ok(hops)
            } else {
                Err(anyhow!(
                    "{} error(s) and {} parked change(s) after the story",
                    errors.len(),
                    parked.len()
                ))
            }
        }
        Ok(_) => Err(anyhow!("the engine did not settle after the story")),
        Err(e) => Err(e),
    };
    let ok = match result {
        Ok((n, slowest)) => {
            println!("  {n} hops, slowest {} ms.", slowest.as_millis());
            true
        }
        Err(e) => {
            println!("  FAILED: {e:#}");
            for err in store.errors()? {
                println!("    error {}: {}", err.record, err.reason);
            }
            false
        }
    };
    engine.shutdown().await?;
    sb.shutdown().await;
    Ok(ok)
}
