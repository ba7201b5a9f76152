//! `docker-compose.yml` and `nginx/nginx.conf` agree with `system_tests::deployment`, the facts
//! the loopback launcher uses: every role is a service with its environment, port and health
//! check, the engine shards are numbered right, nginx publishes 8080 and routes every Part 1
//! path to the role that owns it.
//!
//! The file is read as Debian's `docker-compose config` (1.29, no engine needed) resolves it, so
//! anchors, merges and `${VAR:-default}` are checked as compose applies them. A missing
//! `docker-compose` fails the test with the command that installs it.

mod nginx_conf;

use nginx_conf::{Directive, location_for};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use system_tests::binary::workspace_dir;
use system_tests::deployment::{
    self, ENGINE, GATEWAY_PORT, RATE_LIMITED_PATHS, ROUTED_ROLES, ROUTES, Role, SHARD_COUNT,
    engine_args, engine_name, engine_port,
};
use test_services::nginx::{GatewayConfig, TEMPLATE, render};

/// Every environment variable name deployment.rs knows.
const KNOWN_ENV: [&str; 13] = [
    deployment::env::LISTEN,
    deployment::env::MONGO_URL,
    deployment::env::MONGO_DB,
    deployment::env::REDIS_URL,
    deployment::env::REDIS_PREFIX,
    deployment::env::AMQP_URL,
    deployment::env::AMQP_PREFIX,
    deployment::env::JWT_SECRET,
    deployment::env::SHARDS,
    deployment::env::SHARD,
    deployment::env::DATA_DIR,
    deployment::env::BCRYPT_COST,
    deployment::env::TOKEN_TTL,
];

fn compose_file() -> PathBuf {
    workspace_dir().join("docker-compose.yml")
}

/// `docker-compose config` of the repo's file, parsed.
fn resolved_compose() -> Value {
    let file = compose_file();
    let output = Command::new("docker-compose")
        .arg("--file")
        .arg(&file)
        .arg("config")
        // The checked-in defaults, not whatever this shell exports.
        .env_remove(deployment::env::JWT_SECRET)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run docker-compose ({error}): install it with `scripts/infra/ensure` \
                 (Debian's docker-compose 1.29 validates without a Docker engine)"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "docker-compose config rejects {}:\n{stderr}",
        file.display()
    );
    assert!(
        !stderr.to_lowercase().contains("warn"),
        "docker-compose config warns:\n{stderr}"
    );
    serde_norway::from_str(&stdout)
        .unwrap_or_else(|error| panic!("docker-compose config output is not YAML: {error}"))
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    let service = &compose["services"][name];
    assert!(
        service.is_object(),
        "no service {name} in docker-compose.yml"
    );
    service
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| match item {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn env_of<'a>(service: &'a Value, name: &str) -> &'a str {
    service["environment"][name].as_str().unwrap_or_default()
}

/// Asserts what every exchange process needs: the image, the environment deployment.rs lists
/// for `role`, a listen port, a health check on it, and the backing services healthy first.
fn assert_exchange_process(compose: &Value, name: &str, role: Role, port: u16) {
    let service = service(compose, name);
    assert_eq!(service["image"], "exchange:local", "{name}: image");
    assert!(
        service["build"].is_object(),
        "{name}: built from the Dockerfile"
    );
    let environment = service["environment"]
        .as_object()
        .unwrap_or_else(|| panic!("{name}: no environment"));
    for variable in role.env {
        assert!(
            environment.contains_key(*variable),
            "{name}: missing {variable}"
        );
    }
    for variable in environment.keys() {
        assert!(
            KNOWN_ENV.contains(&variable.as_str()),
            "{name}: {variable} is not a setting of deployment.rs"
        );
    }
    assert_eq!(
        env_of(service, deployment::env::LISTEN),
        format!("0.0.0.0:{port}"),
        "{name}: listen"
    );
    let health = strings(&service["healthcheck"]["test"]).join(" ");
    assert!(
        health.contains(&format!("127.0.0.1:{port}/health")),
        "{name}: healthcheck {health:?}"
    );
    let backing: &[&str] = match role.name {
        "auth" => &["mongo"],
        "engine" => &["rabbitmq"],
        _ => &["mongo", "redis", "rabbitmq"],
    };
    for dependency in backing {
        assert_eq!(
            service["depends_on"][dependency]["condition"], "service_healthy",
            "{name} waits for {dependency}"
        );
    }
}

#[test]
fn docker_compose_config_accepts_the_file_and_it_matches_the_deployment() {
    let compose = resolved_compose();

    for role in ROUTED_ROLES {
        assert_exchange_process(&compose, role.name, role, role.default_port);
        let service = service(&compose, role.name);
        assert_eq!(
            strings(&service["command"]),
            [role.name],
            "{}: command",
            role.name
        );
        // Scalable: nothing that pins one container.
        assert!(service.get("container_name").is_none(), "{}", role.name);
        assert!(service.get("ports").is_none(), "{}: host ports", role.name);
    }
    for role in [deployment::PORTFOLIO, deployment::ORDER] {
        let shards = env_of(service(&compose, role.name), deployment::env::SHARDS);
        assert_eq!(shards, SHARD_COUNT.to_string(), "{}: shards", role.name);
    }

    let engines: Vec<&String> = compose["services"]
        .as_object()
        .map(|services| {
            services
                .keys()
                .filter(|name| name.starts_with(ENGINE.name))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        engines.len(),
        usize::try_from(SHARD_COUNT).unwrap_or(0),
        "{engines:?}"
    );
    for shard in 0..SHARD_COUNT {
        let name = engine_name(shard);
        assert_exchange_process(&compose, &name, ENGINE, engine_port(shard));
        let service = service(&compose, &name);
        assert_eq!(
            strings(&service["command"]),
            engine_args(shard, SHARD_COUNT)
        );
        let data_dir = env_of(service, deployment::env::DATA_DIR);
        let volumes = strings(&service["volumes"]);
        assert!(
            volumes
                .iter()
                .any(|volume| volume.starts_with(&format!("{name}-data:{data_dir}"))),
            "{name}: its own volume at {data_dir}: {volumes:?}"
        );
    }

    let secrets: Vec<&str> = ROUTED_ROLES
        .iter()
        .map(|role| role.name.to_string())
        .chain((0..SHARD_COUNT).map(engine_name))
        .map(|name| env_of(service(&compose, &name), deployment::env::JWT_SECRET))
        .collect();
    assert!(!secrets[0].is_empty(), "a default JWT secret");
    assert!(
        secrets.iter().all(|secret| *secret == secrets[0]),
        "one secret"
    );
}

#[test]
fn the_backing_services_are_mongo_as_a_replica_set_redis_and_rabbitmq_with_its_ui() {
    let compose = resolved_compose();
    let mongo = service(&compose, "mongo");
    assert!(
        mongo["image"]
            .as_str()
            .unwrap_or_default()
            .starts_with("mongo:7")
    );
    let command = strings(&mongo["command"]).join(" ");
    assert!(command.contains("--replSet rs0"), "{command}");
    let init = service(&compose, "mongo-init");
    assert!(strings(&init["command"]).join(" ").contains("rs.initiate("));
    assert!(
        init["healthcheck"].is_object(),
        "mongo-init is health checked"
    );
    let rabbitmq = service(&compose, "rabbitmq");
    assert_eq!(rabbitmq["image"], "rabbitmq:3-management");
    for name in ["mongo", "redis", "rabbitmq"] {
        assert!(
            service(&compose, name)["healthcheck"].is_object(),
            "{name}: healthcheck"
        );
    }
    for volume in ["mongo-data", "rabbitmq-data"] {
        assert!(compose["volumes"].get(volume).is_some(), "volume {volume}");
    }
}

#[test]
fn nginx_publishes_the_gateway_port_and_waits_for_every_role() {
    let compose = resolved_compose();
    let nginx = service(&compose, "nginx");
    let published = nginx["ports"].as_array().is_some_and(|ports| {
        ports.iter().any(|port| match port {
            Value::String(short) => short.ends_with(&format!("{GATEWAY_PORT}:{GATEWAY_PORT}")),
            long => {
                long["published"].to_string().trim_matches('"') == GATEWAY_PORT.to_string()
                    && long["target"].to_string().trim_matches('"') == GATEWAY_PORT.to_string()
            }
        })
    });
    assert!(
        published,
        "nginx publishes {GATEWAY_PORT}: {}",
        nginx["ports"]
    );
    let mounts = strings(&nginx["volumes"]);
    assert!(
        mounts
            .iter()
            .any(|mount| mount.ends_with("nginx/nginx.conf:/etc/nginx/nginx.conf:ro")),
        "{mounts:?}"
    );
    let waits_for: Vec<String> = ROUTED_ROLES
        .iter()
        .map(|role| role.name.to_string())
        .chain((0..SHARD_COUNT).map(engine_name))
        .collect();
    for name in waits_for {
        assert_eq!(
            nginx["depends_on"][&name]["condition"], "service_healthy",
            "{name}"
        );
    }
}

/// The template's values for the compose services (what `scripts/infra/nginx render-compose`
/// passes to envsubst).
fn compose_gateway() -> GatewayConfig {
    let replica = |role: Role| vec![format!("{}:{}", role.name, role.default_port)];
    GatewayConfig {
        listen: GATEWAY_PORT.to_string(),
        auth: replica(deployment::AUTH),
        portfolio: replica(deployment::PORTFOLIO),
        order: replica(deployment::ORDER),
        feed: Vec::new(),
        pid_file: "/var/run/nginx.pid".into(),
        error_log: "/dev/stderr".into(),
        access_log: "/dev/stdout".into(),
        temp_dir: "/var/cache/nginx".into(),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

#[test]
fn nginx_conf_is_the_template_rendered_for_the_compose_services() {
    let expected = render(TEMPLATE, &compose_gateway()).unwrap_or_else(|error| panic!("{error}"));
    let actual = read(&workspace_dir().join("nginx/nginx.conf"));
    assert!(
        actual == expected,
        "nginx/nginx.conf is stale: run `scripts/infra/nginx render-compose`"
    );
}

#[test]
fn nginx_conf_routes_every_api_path_to_the_role_that_owns_it() {
    let root = nginx_conf::parse(&read(&workspace_dir().join("nginx/nginx.conf")));
    let http = root
        .children("http")
        .next()
        .unwrap_or_else(|| panic!("no http block"));
    let server = http
        .children("server")
        .next()
        .unwrap_or_else(|| panic!("no server block"));
    assert_eq!(
        server.child_args("listen").and_then(<[String]>::first),
        Some(&GATEWAY_PORT.to_string())
    );
    let upstream = |name: &str| -> &Directive {
        http.children("upstream")
            .find(|upstream| upstream.args == [name])
            .unwrap_or_else(|| panic!("no upstream {name}"))
    };
    for role in ROUTED_ROLES {
        let block = upstream(role.name);
        let servers: Vec<&str> = block
            .children("server")
            .filter_map(|server| server.args.first().map(String::as_str))
            .collect();
        assert_eq!(
            servers,
            [format!("{}:{}", role.name, role.default_port)],
            "upstream {}",
            role.name
        );
        assert!(
            block.child_args("keepalive").is_some(),
            "{} keepalive",
            role.name
        );
    }
    for (path, role) in ROUTES {
        let location =
            location_for(server, path).unwrap_or_else(|| panic!("no location serves {path}"));
        assert_eq!(
            location.child_args("proxy_pass"),
            Some(&[format!("http://{}", role.name)][..]),
            "{path} goes to {}",
            role.name
        );
        let limited = location.child_args("limit_req").is_some();
        assert_eq!(
            limited,
            RATE_LIMITED_PATHS.contains(&path),
            "{path}: limit_req"
        );
    }
    let fallback =
        location_for(server, "/no/such/path").unwrap_or_else(|| panic!("no fallback location"));
    assert_eq!(
        fallback.child_args("return"),
        Some(&["404".to_string()][..])
    );
}

/// The course's load run holds 20k client connections at once; each proxied one also needs an
/// upstream connection, and every connection a file descriptor.
const COURSE_CLIENT_CONNECTIONS: u64 = 20_000;

#[test]
fn nginx_takes_the_course_load_runs_connection_count() {
    let root = nginx_conf::parse(&read(&workspace_dir().join("nginx/nginx.conf")));
    let number = |args: Option<&[String]>, what: &str| -> u64 {
        args.and_then(<[String]>::first)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no numeric {what} in nginx/nginx.conf"))
    };
    let events = root
        .children("events")
        .next()
        .unwrap_or_else(|| panic!("no events block"));
    let connections = number(
        events.child_args("worker_connections"),
        "worker_connections",
    );
    assert!(
        connections >= COURSE_CLIENT_CONNECTIONS,
        "worker_connections {connections} < {COURSE_CLIENT_CONNECTIONS}"
    );
    let files = number(
        root.child_args("worker_rlimit_nofile"),
        "worker_rlimit_nofile",
    );
    assert!(
        files >= connections,
        "worker_rlimit_nofile {files} < worker_connections {connections}"
    );
}
