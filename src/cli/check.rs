//! `couplet check`: the connection test of both systems of the configured pair. Each
//! connector authenticates and reads something small (Dataverse `WhoAmI`, Business Central's
//! companies), and says what it saw or what to fix.

use std::path::Path;

use super::build;
use crate::config::Config;
use crate::event::Side;

/// Tests the connection to the CRM and the ERP of `config`; true when both answered.
pub async fn run(config: &Path) -> anyhow::Result<bool> {
    let cfg = Config::load(config)?;
    let targets = build::targets(&cfg)?;
    let mut ok = true;
    for side in [Side::Crm, Side::Erp] {
        let t = targets.side(side);
        match t.connector().test_connection().await {
            Ok(seen) => println!("ok     {side} {}: {seen}", t.system()),
            Err(e) => {
                ok = false;
                println!("error  {side} {}: {e}", t.system());
            }
        }
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use crate::event::Side;
    use crate::sandbox::{Sandbox, SandboxConfig};

    #[tokio::test]
    async fn both_sandbox_systems_answer_and_a_wrong_company_is_named() {
        let sb = Sandbox::start(SandboxConfig {
            records: 1,
            ..Default::default()
        })
        .await
        .expect("sandbox");
        let dir = tempfile::tempdir().expect("dir");
        let text = crate::cli::build::sandbox_config_text(&sb, dir.path());
        let file = dir.path().join("couplet.toml");
        std::fs::write(&file, &text).expect("write");
        assert!(super::run(&file).await.expect("check"));

        let targets =
            crate::cli::build::targets(&crate::config::Config::load(&file).expect("config"))
                .expect("targets");
        let seen = targets
            .side(Side::Crm)
            .connector()
            .test_connection()
            .await
            .expect("dataverse answers");
        assert!(seen.contains("signed in as user"), "{seen}");

        let wrong = text.replace(&sb.bc_company_id(), "00000000-0000-0000-0000-00000000abcd");
        std::fs::write(&file, wrong).expect("write");
        assert!(!super::run(&file).await.expect("check"));
        let cfg = crate::config::Config::load(&file).expect("config");
        let e = crate::cli::build::targets(&cfg)
            .expect("targets")
            .erp
            .connector()
            .test_connection()
            .await
            .expect_err("no such company");
        let text = e.to_string();
        assert!(text.contains("bc.company_id"), "{text}");
        sb.shutdown().await;
    }
}
