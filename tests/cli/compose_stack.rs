//! The compose stack (compose/): the file parses, every file it mounts or builds from exists,
//! images are pinned, Prometheus scrapes Couplet's metrics port, Grafana's provisioning points
//! at the dashboards and the data source they use, and `promtool check config` accepts the
//! Prometheus configuration.
//!
//! YAML is read with Python's PyYAML (`apt-get install python3-yaml`); promtool comes with
//! Debian's `prometheus` package. Both are installed by CI; the test fails without them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn compose_dir() -> PathBuf {
    root().join("compose")
}

/// Parses a YAML file into JSON with PyYAML.
fn yaml(path: &Path) -> Value {
    let script = "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
    let out = ["python3", "/usr/bin/python3"]
        .iter()
        .filter_map(|py| Command::new(py).arg("-c").arg(script).arg(path).output().ok())
        .find(|o| o.status.success())
        .unwrap_or_else(|| {
            panic!(
                "cannot parse {} with python3 + PyYAML: install it with `apt-get install -y python3-yaml` \
                 (or `pip install pyyaml`), and check the file is valid YAML",
                path.display()
            )
        });
    serde_json::from_slice(&out.stdout).expect("PyYAML's output as JSON")
}

fn compose() -> Value {
    yaml(&compose_dir().join("compose.yaml"))
}

fn services(c: &Value) -> &serde_json::Map<String, Value> {
    c["services"].as_object().expect("services")
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn compose_has_the_four_services_with_pinned_images() {
    let c = compose();
    let s = services(&c);
    for name in ["kafka", "couplet", "prometheus", "grafana"] {
        assert!(s.contains_key(name), "service {name} is missing");
    }
    for (name, svc) in s {
        let Some(image) = svc["image"].as_str() else {
            panic!("service {name} has no image");
        };
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        assert!(
            !tag.is_empty() && tag != "latest" && tag.chars().any(|c| c.is_ascii_digit()),
            "service {name}: image {image} is not pinned to a version"
        );
    }
    assert!(
        s["kafka"]["image"]
            .as_str()
            .unwrap()
            .starts_with("apache/kafka:"),
        "Kafka runs from the official image"
    );
    let env = &s["kafka"]["environment"];
    assert!(
        env["KAFKA_PROCESS_ROLES"]
            .as_str()
            .is_some_and(|r| r.contains("controller")),
        "Kafka runs in KRaft mode"
    );
}

#[test]
fn every_mounted_or_built_file_exists() {
    let c = compose();
    let dir = compose_dir();
    let mut checked = 0;
    for (name, svc) in services(&c) {
        for v in svc["volumes"].as_array().cloned().unwrap_or_default() {
            let src = match &v {
                Value::String(s) => s.split(':').next().unwrap_or("").to_string(),
                Value::Object(o) => o
                    .get("source")
                    .and_then(|s| s.as_str())
                    .unwrap_or("")
                    .to_string(),
                _ => String::new(),
            };
            if src.starts_with('.') || src.starts_with('/') {
                let p = dir.join(&src);
                assert!(
                    p.exists(),
                    "service {name} mounts {src}, which does not exist"
                );
                checked += 1;
            } else {
                assert!(
                    c["volumes"].get(&src).is_some(),
                    "service {name} mounts the named volume {src}, which is not declared"
                );
            }
        }
        if let Some(b) = svc.get("build") {
            let ctx = dir.join(b["context"].as_str().unwrap_or("."));
            assert!(ctx.is_dir(), "service {name}: build context missing");
            let file = ctx.join(b["dockerfile"].as_str().unwrap_or("Dockerfile"));
            assert!(file.is_file(), "service {name}: {} missing", file.display());
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|l| l.starts_with("FROM ")) {
                let image = line.split_whitespace().nth(1).unwrap_or("");
                assert!(
                    image.contains(':') && !image.ends_with(":latest"),
                    "{}: {line} is not pinned",
                    file.display()
                );
            }
            for line in text
                .lines()
                .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
            {
                let parts: Vec<&str> = line.split_whitespace().collect();
                for src in &parts[1..parts.len() - 1] {
                    assert!(
                        ctx.join(src).exists(),
                        "{line}: {src} is not in the build context"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "expected bind mounts and a build, found {checked}"
    );
}

#[test]
fn prometheus_scrapes_couplets_metrics_port_and_grafana_reads_prometheus() {
    let c = compose();
    let s = services(&c);
    // Couplet's metrics port, from its command line (or a published port).
    let cmd = strings(&s["couplet"]["command"]);
    let listen = cmd
        .iter()
        .position(|a| a == "--metrics-listen")
        .and_then(|i| cmd.get(i + 1))
        .expect("the couplet service passes --metrics-listen");
    let port = listen.rsplit(':').next().unwrap().to_string();
    let published = strings(&s["couplet"]["ports"]);
    assert!(
        published.iter().any(|p| p.ends_with(&format!(":{port}"))),
        "the couplet service publishes its metrics port {port}"
    );
    // Prometheus scrapes over the compose network: the listener binds the container's
    // interfaces, said explicitly; the host sees the port on its loopback only.
    assert!(listen.starts_with("0.0.0.0:"), "{listen}");
    assert!(
        published.iter().all(|p| p.starts_with("127.0.0.1:")),
        "{published:?}"
    );

    let prom = yaml(&compose_dir().join("prometheus.yml"));
    let targets: Vec<String> = prom["scrape_configs"]
        .as_array()
        .expect("scrape_configs")
        .iter()
        .flat_map(|j| j["static_configs"].as_array().cloned().unwrap_or_default())
        .flat_map(|sc| strings(&sc["targets"]))
        .collect();
    assert!(
        targets.contains(&format!("couplet:{port}")),
        "Prometheus scrapes {targets:?}, not couplet:{port}"
    );

    // Grafana: the data source is the compose Prometheus and has the uid the dashboards use.
    let ds = yaml(&compose_dir().join("grafana/provisioning/datasources/prometheus.yaml"));
    let ds = &ds["datasources"][0];
    assert_eq!(ds["url"], "http://prometheus:9090");
    let uid = ds["uid"].as_str().expect("data source uid");
    for entry in std::fs::read_dir(root().join("dashboards")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let d: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            for panel in d["panels"].as_array().unwrap() {
                assert_eq!(
                    panel["datasource"]["uid"],
                    uid,
                    "{}: panel {} uses another data source",
                    p.display(),
                    panel["title"]
                );
            }
        }
    }
    // Grafana: the dashboards provider reads where ../dashboards is mounted.
    let prov = yaml(&compose_dir().join("grafana/provisioning/dashboards/couplet.yaml"));
    let path = prov["providers"][0]["options"]["path"].as_str().unwrap();
    let mounts = strings(&s["grafana"]["volumes"]);
    assert!(
        mounts
            .iter()
            .any(|m| m.starts_with("../dashboards:") && m.split(':').nth(1) == Some(path)),
        "Grafana mounts ../dashboards at {path}: {mounts:?}"
    );
}

#[test]
fn promtool_accepts_the_compose_prometheus_config() {
    let promtool = ["promtool", "/usr/bin/promtool"]
        .iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .unwrap_or_else(|| {
            panic!("promtool is missing: `apt-get update && apt-get install -y prometheus`")
        });
    let out = Command::new(promtool)
        .args(["check", "config"])
        .arg(compose_dir().join("prometheus.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check config failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
