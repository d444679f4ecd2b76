//! Config files with each kind of mistake (the chaos suite's bad input): every one is refused
//! with an error naming the setting, never a panic, and nothing starts.

use crate::cli_support::Cli;

/// Writes `text` as the config and runs `couplet check` on it.
async fn check(cli: &Cli, text: &str) -> crate::cli_support::Run {
    std::fs::write(&cli.config, text).expect("config written");
    cli.run(&["check"], true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_config_mistake_is_named_never_a_panic() {
    let cli = Cli::start(3).await;
    let good = std::fs::read_to_string(&cli.config).expect("config");
    let dv_url = good
        .lines()
        .find(|l| l.starts_with("url = "))
        .expect("the [dataverse] url line (the first url)")
        .to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "an unknown key",
            good.replace("[capture]\n", "[capture]\ncolour = \"blue\"\n"),
            "colour",
        ),
        (
            "a wrong type",
            good.replace("poll_interval_ms = 500", "poll_interval_ms = \"fast\""),
            "poll_interval_ms",
        ),
        (
            "a missing required key",
            good.replacen(&format!("{dv_url}\n"), "", 1),
            "url",
        ),
        (
            "a URL that is not one",
            good.replacen(&dv_url, "url = \"dataverse.example\"", 1),
            "url",
        ),
        (
            "a system that does not exist",
            format!("{good}\n[erp]\nsystem = \"sap-r3\"\n"),
            "sap-r3",
        ),
        (
            "a number out of range",
            format!("{good}\n[bus]\npartitions = 0\n"),
            "bus.partitions",
        ),
        (
            "a TOML syntax error",
            good.replace("[capture]", "[capture"),
            "line",
        ),
        (
            "a quote left open",
            good.replace(
                "poll_interval_ms = 500",
                "poll_interval_ms = 500\nname = \"O'Brien",
            ),
            "line",
        ),
    ];
    for (what, text, named) in &cases {
        assert_ne!(text, &good, "{what}: the mistake was not made");
        let r = check(&cli, text).await;
        assert!(!r.err.contains("panicked"), "{what}: {}", r.err);
        assert!(
            r.code != 0 && r.code != 101,
            "{what}: exit {} ({})",
            r.code,
            r.err
        );
        assert!(
            r.err.contains(named),
            "{what}: the error does not name '{named}': {}",
            r.err
        );
    }

    // A config file that is not there.
    let r = cli
        .run(&["check", "--config", "/nonexistent/couplet.toml"], false)
        .await;
    assert!(r.code != 0 && r.code != 101, "{}", r.err);
    assert!(r.err.contains("/nonexistent/couplet.toml"), "{}", r.err);
}
