//! Every Grafana panel's PromQL, evaluated by a real Prometheus scraping a running
//! `couplet demo --keep-running`: each expression must be valid and return at least one series.
//! Also checks `/healthz`, `/readyz` and that panels use only metrics Couplet exports.
//!
//! Needs Debian's `prometheus` package (`apt-get install prometheus`); fails without it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kills the children when the test ends, also on panic.
struct Children(Vec<(&'static str, Child)>);

impl Drop for Children {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn find_prometheus() -> PathBuf {
    if let Ok(p) = std::env::var("PROMETHEUS") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the dashboard test needs a real Prometheus: install Debian's package with \
                 `apt-get update && apt-get install -y prometheus` (or set PROMETHEUS=/path/to/prometheus)"
            )
        })
}

/// A `label_values(metric, label)` variable query, as `(metric, label)`.
fn label_values(q: &str) -> Option<(String, String)> {
    let inner = q.trim().strip_prefix("label_values(")?.strip_suffix(')')?;
    let (metric, label) = inner.rsplit_once(',')?;
    Some((metric.trim().to_string(), label.trim().to_string()))
}

/// Grafana's built-in interval variables, as a test with a 1 s scrape interval needs them.
fn substitute_builtins(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("${__rate_interval}", "1m")
        .replace("$__interval", "15s")
        .replace("${__interval}", "15s")
        .replace("$__range", "5m")
        .replace("${__range}", "5m")
}

async fn query(http: &reqwest::Client, prom: &str, expr: &str) -> Result<Vec<Value>, String> {
    let resp = http
        .get(format!("{prom}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("answer is not JSON: {e}"))?;
    if body["status"] != "success" {
        return Err(format!(
            "{}: {}",
            body["errorType"].as_str().unwrap_or("error"),
            body["error"].as_str().unwrap_or("?")
        ));
    }
    Ok(body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// Metric family names in a Prometheus text exposition.
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// `couplet_*` names an expression uses, without histogram suffixes.
fn used_metrics(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = expr.as_bytes();
    let mut i = 0;
    while let Some(pos) = expr[i..].find("couplet_") {
        let start = i + pos;
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        let preceded = start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_');
        if !preceded {
            let name = &expr[start..end];
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            out.insert(base.to_string());
        }
        i = end.max(start + 1);
    }
    out
}

fn dashboards() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("dashboards/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable dashboard");
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 2,
        "expected the overview and systems dashboards"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_panel_returns_series_from_a_real_prometheus() {
    let prometheus = find_prometheus();
    let tmp = tempfile::tempdir().unwrap();
    let (metrics_port, prom_port) = (free_port(), free_port());
    let mut kids = Children(Vec::new());

    let demo_log = std::fs::File::create(tmp.path().join("demo.stderr")).unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args(["demo", "--records", "50", "--edits", "10", "--keep-running"])
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{metrics_port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(demo_log)
        .spawn()
        .expect("couplet starts");
    let stdout = demo.stdout.take().unwrap();
    kids.0.push(("couplet demo", demo));
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let config = tmp.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: couplet\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .unwrap();
    let prom_log = std::fs::File::create(tmp.path().join("prometheus.log")).unwrap();
    let prom = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            tmp.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(prom_log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", prometheus.display()));
    kids.0.push(("prometheus", prom));
    let log_tail = |name: &str| {
        let t = std::fs::read_to_string(tmp.path().join(name)).unwrap_or_default();
        let lines: Vec<&str> = t.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    };

    // The demo's summary.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut out = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => {
                let done = l.starts_with("RESULT:");
                out.push(l);
                if done {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(e) => panic!(
                "the demo printed no RESULT line ({e:?}){}; stdout:\n{}\nstderr:\n{}",
                if log_tail("demo.stderr").contains("unexpected argument") {
                    " (the binary is older than this test: was it overwritten by a build of \
                     another branch sharing CARGO_TARGET_DIR?)"
                } else {
                    ""
                },
                out.join("\n"),
                log_tail("demo.stderr")
            ),
        }
    }
    assert!(
        out.last().unwrap().starts_with("RESULT: OK"),
        "the demo failed:\n{}",
        out.join("\n")
    );

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let couplet = format!("http://127.0.0.1:{metrics_port}");
    let prom = format!("http://127.0.0.1:{prom_port}");

    // Couplet's own endpoints.
    let h = http.get(format!("{couplet}/healthz")).send().await.unwrap();
    assert_eq!(h.status().as_u16(), 200);
    let r = http.get(format!("{couplet}/readyz")).send().await.unwrap();
    let code = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(code, 200, "/readyz: {body}");
    let names: Vec<&str> = body["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["bus", "dataverse", "bc"], "/readyz: {body}");
    let text = http
        .get(format!("{couplet}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let families = exported(&text);

    // Prometheus up and a few scrapes in.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = query(&http, &prom, "count_over_time(up{job=\"couplet\"}[1m])")
            .await
            .ok()
            .and_then(|r| r.first().cloned())
            .and_then(|s| s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()))
            .unwrap_or(0.0);
        let up = query(&http, &prom, "up{job=\"couplet\"} == 1")
            .await
            .is_ok_and(|r| !r.is_empty());
        if up && n >= 5.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape Couplet (up and 5 samples) within 60 s; its log:\n{}",
            log_tail("prometheus.log")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, d) in dashboards() {
        // Variables: each must have values; the first one is substituted.
        let mut vars: Vec<(String, String)> = Vec::new();
        for v in d["templating"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let name = v["name"].as_str().unwrap_or("").to_string();
            let q = v["query"]["query"]
                .as_str()
                .or(v["query"].as_str())
                .or(v["definition"].as_str())
                .unwrap_or("");
            let Some((metric, label)) = label_values(q) else {
                failures.push(format!(
                    "{file}: variable ${name}: only label_values(metric, label) is supported, got {q:?}"
                ));
                continue;
            };
            let values = query(&http, &prom, &format!("group by ({label}) ({metric})"))
                .await
                .unwrap_or_default();
            match values.first().and_then(|s| s["metric"][&label].as_str()) {
                Some(first) => vars.push((name, first.to_string())),
                None => failures.push(format!("{file}: variable ${name} ({q}) has no values")),
            }
        }
        for p in d["panels"].as_array().cloned().unwrap_or_default() {
            let title = p["title"].as_str().unwrap_or("?").to_string();
            let targets = p["targets"].as_array().cloned().unwrap_or_default();
            if targets.is_empty() && p["type"] != "row" {
                failures.push(format!("{file} / {title}: no query"));
            }
            for t in targets {
                let raw = t["expr"].as_str().unwrap_or("");
                let mut expr = substitute_builtins(raw);
                for (name, value) in &vars {
                    expr = expr
                        .replace(&format!("${{{name}}}"), value)
                        .replace(&format!("${name}"), value);
                }
                checked += 1;
                let what = format!("{file} / {title} / {expr}");
                if expr.contains('$') {
                    failures.push(format!("{what}: unknown variable"));
                    continue;
                }
                for m in used_metrics(&expr) {
                    if !families.contains(&m) {
                        failures.push(format!("{what}: {m} is not exported by Couplet"));
                    }
                }
                match query(&http, &prom, &expr).await {
                    Ok(r) if r.is_empty() => failures.push(format!("{what}: no series")),
                    Ok(_) => {}
                    Err(e) => failures.push(format!("{what}: {e}")),
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} panel queries found");
    assert!(
        failures.is_empty(),
        "{} of {checked} panel queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    drop(kids);
}
