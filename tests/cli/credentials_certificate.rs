//! An Entra app signing in with a certificate instead of a client secret, through the binary
//! against the sandbox (whose app registration lists the test certificate
//! `tests/fixtures/certs/app.crt`): stored with `couplet credentials set --certificate-file
//! --private-key-file` and tested with `couplet credentials test`, or given in the config
//! (`certificate_file`, `private_key_file`) and checked with `couplet check`; another app's
//! certificate fails naming the stored set and the command to fix it; a key that is not the
//! certificate's is refused when stored.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use couplet::sandbox::SandboxConfig;

use crate::cli_support::{Cli, couplet};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/certs")
        .join(name)
        .display()
        .to_string()
}

async fn cli() -> Cli {
    Cli::start_with(SandboxConfig {
        records: 1,
        seed: 7,
        client_certificates: vec![std::fs::read_to_string(fixture("app.crt")).unwrap()],
        ..Default::default()
    })
    .await
}

/// The sandbox config with `[auth.bc]` replaced by `table` (Dataverse keeps the shared
/// `[auth]` with its secret).
fn config_with(cli: &Cli, file: &str, table: &str) -> PathBuf {
    let text = std::fs::read_to_string(&cli.config).unwrap();
    let start = text.find("[dataverse]").unwrap();
    let text = format!("{}{table}\n\n{}", &text[..start], &text[start..]);
    let path = cli.dir.path().join(file);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_certificate_signs_in_and_a_wrong_one_names_the_fix() {
    let cli = cli().await;
    let c = cli.sb.credentials();
    let key_file = cli.dir.path().join("store.key");
    let config = config_with(
        &cli,
        "stored.toml",
        &format!(
            "[credentials]\nkey_file = \"{}\"\n\n[auth.bc]\ncredential = \"bc-cert\"",
            key_file.display()
        ),
    );
    let cfg = config.to_str().unwrap();
    let authority = cli.sb.entra_authority();
    let set = |cert: String, key: String| {
        let (tenant, client, authority) =
            (c.tenant_id.clone(), c.client_id.clone(), authority.clone());
        async move {
            couplet(
                &[
                    "credentials",
                    "set",
                    "bc-cert",
                    "--tenant-id",
                    &tenant,
                    "--client-id",
                    &client,
                    "--authority",
                    &authority,
                    "--certificate-file",
                    &cert,
                    "--private-key-file",
                    &key,
                    "--config",
                    cfg,
                ],
                &[],
            )
            .await
        }
    };

    let r = set(fixture("app.crt"), fixture("app.key")).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.err.contains("Certificate x5t#S256 "), "{r:?}");
    let r = couplet(&["credentials", "test", "bc-cert", "--config", cfg], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains("ok     bc (auth.bc.credential)"), "{r:?}");
    let r = couplet(&["credentials", "list", "--config", cfg], &[]).await;
    let line = r
        .out
        .lines()
        .find(|l| l.starts_with("bc-cert"))
        .unwrap_or_default();
    assert!(line.contains("with certificate x5t#S256 "), "{r:?}");
    assert!(!r.out.contains("PRIVATE KEY") && !r.err.contains("PRIVATE KEY"));
    let raw = std::fs::read(cli.data().join("credentials.enc")).unwrap();
    assert!(
        !String::from_utf8_lossy(&raw).contains("PRIVATE KEY"),
        "the key is encrypted"
    );

    // Another app's certificate: Entra refuses it; the error names the set and the command.
    let r = set(fixture("other.crt"), fixture("other.key")).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = couplet(&["credentials", "test", "bc-cert", "--config", cfg], &[]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.out.contains("AADSTS700027"), "{r:?}");
    assert!(
        r.out
            .contains("couplet credentials set bc-cert --certificate-file"),
        "{r:?}"
    );

    // A key that is not the certificate's is not stored.
    let r = set(fixture("app.crt"), fixture("other.key")).await;
    assert_ne!(r.code, 0, "{r:?}");
    assert!(
        r.err.contains("--private-key-file") && r.err.contains("does not belong"),
        "{r:?}"
    );
    cli.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_given_in_the_config_signs_in() {
    let cli = cli().await;
    let c = cli.sb.credentials();
    let table = |key: &str| {
        format!(
            "[auth.bc]\nauthority = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\ncertificate_file = \"{}\"\nprivate_key_file = \"{}\"",
            cli.sb.entra_authority(),
            c.tenant_id,
            c.client_id,
            fixture("app.crt"),
            fixture(key)
        )
    };
    let config = config_with(&cli, "inline.toml", &table("app.key"));
    let r = couplet(&["check", "--config", config.to_str().unwrap()], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let config = config_with(&cli, "mismatch.toml", &table("other.key"));
    let r = couplet(&["check", "--config", config.to_str().unwrap()], &[]).await;
    assert_ne!(r.code, 0, "{r:?}");
    assert!(
        r.err.contains("auth.bc.private_key_file") && r.err.contains("does not belong"),
        "{r:?}"
    );
    cli.sb.shutdown().await;
}
