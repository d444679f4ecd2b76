//! The operator console in a real browser: `couplet run` against the sandbox with a console
//! token, driven through headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs) by WebDriver (`fantoccini`): log in, see a record fail, fix its cause,
//! Retry it and see it written; Skip another; uncouple a pair, find one of its records by its
//! natural key, Couple it again and Sync Now. Screenshots go to `docs/console/*.png` (the README shows them).
//!
//! Fails without Chromium or its driver, naming the packages (set CHROMIUM / CHROMEDRIVER to
//! use others).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::cli_support::{Cli, fields};
use super::common::instances::Instance;

const TOKEN: &str = "console-browser-test-token-42";
const TOKEN_ENV: &str = "COUPLET_TEST_CONSOLE_TOKEN";

/// A program from `var`, else from the PATH; fails naming the Debian packages.
fn find(var: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "{} not found: the console's browser test needs headless Chromium and its WebDriver. \
         Install them with `apt-get install -y chromium chromium-driver` (.ci/run does), or set \
         {var}=/path/to/{}",
        names[0], names[0]
    );
}

/// A child process killed when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver and a headless Chromium session.
async fn browser() -> (Kid, Client) {
    let chromium = find(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let driver = find("CHROMEDRIVER", &["chromedriver"]);
    let port = free_port();
    let kid = Kid(Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display())));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--hide-scrollbars"]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                eprintln!("waiting for chromedriver: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("no WebDriver session from {}: {e}", driver.display()),
        }
    };
    (kid, client)
}

/// Waits until `check` holds, up to `secs`.
async fn wait_for<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn shot(c: &Client, name: &str) {
    // The README's screenshots are refreshed on request only, so that a test run leaves the
    // checkout as it was: `COUPLET_UPDATE_SCREENSHOTS=1 cargo test --test cli console_browser`.
    let dir = if std::env::var_os("COUPLET_UPDATE_SCREENSHOTS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/console")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Clicks the element `css`.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Types `text` into the element `css`.
async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// The element `css` once it is on the page; fails with the page's URL and source.
async fn wait_el(c: &Client, css: &str) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(e) => e,
        Err(e) => panic!(
            "no {css} ({e}) on {}:\n{}",
            c.current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default(),
            c.source().await.unwrap_or_default()
        ),
    }
}

/// The text of the first flash message on the page.
async fn flash(c: &Client) -> String {
    wait_el(c, "p.flash").await.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_retries_an_error_and_couples_a_record_in_the_browser() {
    let (_driver, b) = browser().await;
    let cli = Cli::start(3).await;
    let port = free_port();
    let mut text = std::fs::read_to_string(&cli.config).unwrap();
    text = text.replace("poll_interval_ms = 500", "poll_interval_ms = 200");
    text.push_str(&format!(
        "\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n[console]\ntoken_env = \"{TOKEN_ENV}\"\n"
    ));
    std::fs::write(&cli.config, text).unwrap();
    let log = cli.dir.path().join("run.log");
    // The child gets the token through its own environment.
    let mut run = Instance(
        Command::new(env!("CARGO_BIN_EXE_couplet"))
            .args(["run", "--config"])
            .arg(&cli.config)
            .env("RUST_LOG", "warn,couplet=info")
            .env(TOKEN_ENV, TOKEN)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("couplet runs"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    // Every capture has completed a pass (the initial synchronisation is under way).
    wait_for(120, "couplet run to be ready", || {
        let r = http.get(format!("{base}/readyz")).send();
        async move { r.await.is_ok_and(|r| r.status().as_u16() == 200) }
    })
    .await;
    run.assert_running("couplet run", &log);

    // A Business Central customer in a currency Dataverse does not have: it fails.
    cli.sb
        .insert_row(
            couplet::systems::BC,
            "currencies",
            fields(json!({"code": "NOK", "displayName": "Norwegian Krone"})),
        )
        .unwrap();
    let failing = cli
        .sb
        .insert_row(
            couplet::systems::BC,
            "customers",
            fields(
                json!({"displayName": "Fjord Shipping AS", "country": "NO", "currencyCode": "NOK"}),
            ),
        )
        .unwrap();
    let key = format!("bc/customers/{failing}");
    // And a Dataverse account whose name is too long for Business Central (100 characters).
    let long_name = format!("Contoso {}", "Very Long Name ".repeat(8))
        .trim()
        .to_string();
    let too_long = cli
        .sb
        .insert_row(
            couplet::systems::DATAVERSE,
            "accounts",
            fields(json!({"name": long_name, "customertypecode": 3, "statecode": 0})),
        )
        .unwrap();
    let long_key = format!("dataverse/accounts/{too_long}");
    wait_for(60, "the customer and the account to fail", || {
        let r = http
            .get(format!("{base}/console/errors"))
            .bearer_auth(TOKEN)
            .send();
        let keys = [key.clone(), long_key.clone()];
        async move {
            match r.await {
                Ok(r) => {
                    let page = r.text().await.unwrap_or_default();
                    keys.iter().all(|k| page.contains(k))
                }
                Err(_) => false,
            }
        }
    })
    .await;

    // Log in.
    b.goto(&format!("{base}/console")).await.unwrap();
    assert!(
        b.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/login")
    );
    type_into(&b, "input[name=token]", TOKEN).await;
    click(&b, "form.login button").await;
    wait_el(&b, "table#mappings").await;
    let overview = b.source().await.unwrap();
    assert!(overview.contains("CUSTOMER"), "{overview}");
    shot(&b, "overview").await;

    // The errors list names the record, the field and the message, with the diff.
    b.goto(&format!("{base}/console/errors")).await.unwrap();
    let row = b
        .find(Locator::Css(&format!("tr[data-record='{key}']")))
        .await
        .unwrap();
    let row_text = row.text().await.unwrap();
    assert!(row_text.contains("currencyCode"), "{row_text}");
    assert!(row_text.contains("'NOK'"), "{row_text}");
    // The failing change is the record's first: its fields fold into one line naming the
    // field at fault.
    assert!(row_text.contains("first version"), "{row_text}");
    assert!(row_text.contains("currencyCode = NOK"), "{row_text}");
    shot(&b, "errors").await;

    // Fix the cause (the currency in Dataverse), then Retry: the customer is written.
    cli.sb
        .insert_row(
            couplet::systems::DATAVERSE,
            "transactioncurrencies",
            fields(
                json!({"isocurrencycode": "NOK", "currencyname": "Norwegian Krone",
                          "currencysymbol": "kr", "exchangerate": 10.5, "statecode": 0}),
            ),
        )
        .unwrap();
    row.find(Locator::Css("button[value=retry]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let said = flash(&b).await;
    assert!(
        said.contains("Retried:") && said.contains("created"),
        "{said}"
    );
    let account = cli
        .sb
        .rows(couplet::systems::DATAVERSE, "accounts")
        .into_iter()
        .find(|a| a.get("name").and_then(|n| n.as_str()) == Some("Fjord Shipping AS"))
        .expect("the retried customer is an account in Dataverse");
    let account_id = account["accountid"].as_str().unwrap().to_string();
    assert!(said.contains(&account_id), "{said}");
    assert!(
        b.find(Locator::Css(&format!("tr[data-record='{key}']")))
            .await
            .is_err(),
        "the retried record is off the errors list"
    );
    shot(&b, "retried").await;

    // Skip the account: off the list, and the skip is on its trail.
    let long_row = b
        .find(Locator::Css(&format!("tr[data-record='{long_key}']")))
        .await
        .unwrap();
    let long_text = long_row.text().await.unwrap();
    assert!(long_text.contains("displayName"), "{long_text}");
    long_row
        .find(Locator::Css("button[value=skip]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.accept_alert().await.unwrap();
    let said = flash(&b).await;
    assert!(
        said.contains("Skipped") && said.contains(&long_key),
        "{said}"
    );
    assert!(
        b.find(Locator::Css(&format!("tr[data-record='{long_key}']")))
            .await
            .is_err(),
        "the skipped record is off the errors list"
    );
    b.goto(&format!(
        "{base}/console/record?mapping=CUSTOMER&key={}",
        urlencoding::encode(&long_key)
    ))
    .await
    .unwrap();
    let trail = wait_el(&b, "table#trail").await.text().await.unwrap();
    assert!(trail.contains("skipped in the console"), "{trail}");

    // Uncouple the pair from the record's page.
    b.goto(&format!(
        "{base}/console/record?mapping=CUSTOMER&key={}",
        urlencoding::encode(&key)
    ))
    .await
    .unwrap();
    click(&b, "button[value=uncouple]").await;
    b.accept_alert().await.unwrap();
    let said = flash(&b).await;
    assert!(said.contains("Uncoupled"), "{said}");

    // Find the customer by its number (its natural key) and Couple it with the account.
    let number = cli.text(couplet::systems::BC, "customers", &failing, "number");
    assert!(!number.is_empty());
    b.goto(&format!("{base}/console/couplings")).await.unwrap();
    let q = b
        .find(Locator::Css("form#search input[name=q]"))
        .await
        .unwrap();
    q.send_keys(&number).await.unwrap();
    click(&b, "form#search button").await;
    let found = wait_el(&b, &format!("tr[data-record='{key}']")).await;
    let found_text = found.text().await.unwrap();
    assert!(
        found_text.contains("natural key") && found_text.contains("not coupled"),
        "{found_text}"
    );
    found
        .find(Locator::Css("input[name=other]"))
        .await
        .unwrap()
        .send_keys(&account_id)
        .await
        .unwrap();
    shot(&b, "couple").await;
    found
        .find(Locator::Css("button[value=couple]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let said = flash(&b).await;
    assert!(
        said.contains("Coupled") && said.contains(&account_id),
        "{said}"
    );
    let coupled_to = b
        .find(Locator::Css("#coupled-to"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(coupled_to, format!("dataverse/accounts/{account_id}"));
    // The trail: the failed change, the retry's change and write with its field diff, the
    // uncoupling and the coupling.
    // (The audit stage indexes the coupling's outcome a moment after it is on the log.)
    let needles = [
        "failed",
        "created",
        "uncoupled",
        "coupled by hand (operator console)",
        "first version",
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let trail = b
            .find(Locator::Css("table#trail"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let missing: Vec<&str> = needles
            .iter()
            .copied()
            .filter(|n| !trail.contains(n))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing:?} not in the trail:\n{trail}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.refresh().await.unwrap();
    }
    shot(&b, "record").await;

    // Sync Now writes the customer over the account, forced.
    click(&b, "button[value=sync-now]").await;
    let said = flash(&b).await;
    assert!(
        said.contains("Synchronised:") && said.contains("updated") && said.contains(&account_id),
        "{said}"
    );

    // The actions are counted.
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for action in ["retry", "skip", "uncouple", "couple", "sync_now"] {
        let line = format!("couplet_console_actions_total{{action=\"{action}\",outcome=\"ok\"}} 1");
        assert!(metrics.contains(&line), "{line} not in /metrics");
    }
    // The token is never logged.
    run.assert_running("couplet run", &log);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains(TOKEN), "the token is in the log");
    b.close().await.unwrap();
}
