//! `couplet credentials set|list|test|rotate` through the binary against the sandbox: each
//! system signs in with its own stored set, the store and its key are private and hold no
//! secret in clear, a wrong secret fails the test naming the cause, rotation re-encrypts, a
//! looser key file is refused; the data files Couplet creates are 0600 in 0700 directories;
//! `couplet sandbox` prints a config without the secret that runs as printed.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::cli_support::{Cli, couplet};

const SECRET_VAR: &str = "COUPLET_TEST_SANDBOX_SECRET";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
}

/// Every directory under `root` (itself included) is 0700 and every file 0600.
fn assert_private_tree(root: &Path) {
    let mut seen = 0;
    let mut todo = vec![root.to_path_buf()];
    while let Some(p) = todo.pop() {
        let m = mode(&p);
        if p.is_dir() {
            assert_eq!(m, 0o700, "{} is {m:o}", p.display());
            todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(m, 0o600, "{} is {m:o}", p.display());
            seen += 1;
        }
    }
    assert!(seen > 0, "no file under {}", root.display());
}

/// The sandbox config with `[auth]` replaced by one stored set per system and a key file.
fn stored_config(cli: &Cli, key_file: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&cli.config).unwrap();
    let start = text.find("[auth]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    let text = format!(
        "{}[credentials]\nkey_file = \"{}\"\n\n[auth.dataverse]\ncredential = \"sandbox-dv\"\n\n[auth.bc]\ncredential = \"sandbox-bc\"\n{}",
        &text[..start],
        key_file.display(),
        &text[end..]
    );
    let file = cli.dir.path().join("stored.toml");
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_list_test_rotate_against_the_sandbox() {
    let cli = Cli::start(1).await;
    let c = cli.sb.credentials();
    let key_file = cli.dir.path().join("keys/store.key");
    let config = stored_config(&cli, &key_file);
    let cfg = config.to_str().unwrap();
    let authority = cli.sb.entra_authority();
    let set = |name: &'static str, secret: String| {
        let (tenant, client, authority) =
            (c.tenant_id.clone(), c.client_id.clone(), authority.clone());
        async move {
            let args = [
                "credentials",
                "set",
                name,
                "--tenant-id",
                &tenant,
                "--client-id",
                &client,
                "--authority",
                &authority,
                "--secret-env",
                SECRET_VAR,
                "--config",
                cfg,
            ];
            couplet(&args, &[(SECRET_VAR, &secret)]).await
        }
    };

    // Before anything is stored, the config cannot connect, and says which credential.
    let r = couplet(&["credentials", "test", "--config", cfg], &[]).await;
    assert_ne!(r.code, 0, "{r:?}");

    let r = set("sandbox-dv", c.client_secret.clone()).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains("Stored credential 'sandbox-dv'"), "{r:?}");
    assert!(r.err.contains("Created key file"), "{r:?}");
    // A wrong secret for Business Central: stored, and its test fails naming the cause.
    let r = set("sandbox-bc", "not-the-secret".into()).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = couplet(&["credentials", "test", "sandbox-bc", "--config", cfg], &[]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.out.contains("error  bc (auth.bc.credential)"), "{r:?}");
    assert!(r.out.contains("AADSTS7000215"), "{r:?}");
    assert!(
        !r.out.contains("dataverse"),
        "only the systems using sandbox-bc: {r:?}"
    );
    // Replacing the set replaces the secret.
    let r = set("sandbox-bc", c.client_secret.clone()).await;
    assert!(r.out.contains("Replaced credential 'sandbox-bc'"), "{r:?}");

    let r = couplet(&["credentials", "test", "--config", cfg], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.out
            .contains("ok     dataverse (auth.dataverse.credential)"),
        "{r:?}"
    );
    assert!(r.out.contains("ok     bc (auth.bc.credential)"), "{r:?}");
    let r = couplet(&["check", "--config", cfg], &[]).await;
    assert_eq!(
        r.code, 0,
        "the engine's own connection test uses the stored sets: {r:?}"
    );

    let r = couplet(&["credentials", "list", "--config", cfg], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.out.contains(&c.client_secret) && !r.err.contains(&c.client_secret));
    let line = |name: &str| {
        r.out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("sandbox-dv").contains("entra") && line("sandbox-dv").contains("dataverse"),
        "{r:?}"
    );
    assert!(
        line("sandbox-bc").contains(" bc ") && line("sandbox-bc").contains(&c.client_id),
        "{r:?}"
    );

    // On disk: the store and the key are 0600 in 0700 directories, nothing in clear.
    let store = cli.data().join("credentials.enc");
    let raw = std::fs::read_to_string(&store).unwrap();
    for clear in [c.client_secret.as_str(), c.client_id.as_str(), "sandbox-bc"] {
        assert!(!raw.contains(clear), "{clear} in clear");
    }
    assert_eq!((mode(&store), mode(&key_file)), (0o600, 0o600));
    assert_eq!(
        (mode(&cli.data()), mode(key_file.parent().unwrap())),
        (0o700, 0o700)
    );

    // Rotation: a new key replaces the key file's; the store opens with it only.
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let r = couplet(&["credentials", "rotate", "--config", cfg], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains("Re-encrypted 2 credential(s)"), "{r:?}");
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), old_key);
    assert_eq!(mode(&key_file), 0o600);
    let r = couplet(&["credentials", "test", "--config", cfg], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let old = cli.dir.path().join("old.key");
    std::fs::write(&old, &old_key).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = couplet(
        &[
            "credentials",
            "list",
            "--config",
            cfg,
            "--key-file",
            old.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.err.contains("encrypted under key"), "{r:?}");

    // A key file others can read is refused, naming it and the chmod.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = couplet(&["credentials", "list", "--config", cfg], &[]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.err.contains(&format!("chmod 600 {}", key_file.display())),
        "{r:?}"
    );
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    // A config others can read, with an inline secret: both warned about, by name.
    std::fs::set_permissions(&cli.config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = couplet(&["status", "--config", cli.config.to_str().unwrap()], &[]).await;
    assert!(r.err.contains("auth.client_secret"), "{r:?}");
    assert!(
        r.err
            .contains(&format!("chmod 600 {}", cli.config.display())),
        "{r:?}"
    );

    // A full synchronisation with the stored sets writes the log and the projection.
    let r = couplet(&["full-sync", "--config", cfg], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(cli.data().join("projection").is_dir() && cli.data().join("log").is_dir());

    // What Couplet wrote in the data directory (the projection, the store) is private.
    assert_private_tree(&cli.data());
    cli.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_prints_a_config_without_its_secret_that_runs_as_printed() {
    let port = 20_000 + (std::process::id() % 2_000) as u16 * 4;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args(["sandbox", "--records", "1", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("couplet sandbox runs");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut config = String::new();
    let mut export = None;
    let read = async {
        while let Some(l) = out.next_line().await.unwrap() {
            config.push_str(&l);
            config.push('\n');
            if l.starts_with("poll_interval_ms") {
                break;
            }
        }
        while let Some(l) = err.next_line().await.unwrap() {
            if let Some(rest) = l.trim().strip_prefix("export ") {
                export = Some(rest.to_string());
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the sandbox prints its config");
    let export = export.expect("an export line on stderr");
    let (var, value) = export.split_once('=').unwrap();
    let value = value.trim_matches('\'');
    assert!(
        !config.contains(value),
        "the secret is not in the config:\n{config}"
    );
    assert!(
        config.contains(&format!("client_secret_env = \"{var}\"")),
        "{config}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.toml");
    std::fs::write(
        &file,
        config.replace(
            "couplet-data",
            &dir.path().join("data").display().to_string(),
        ),
    )
    .unwrap();
    let r = couplet(
        &["check", "--config", file.to_str().unwrap()],
        &[(var, value)],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.out.contains("ok     crm dataverse") || r.out.contains("ok"),
        "{r:?}"
    );
    child.kill().await.expect("the sandbox stops");
}
