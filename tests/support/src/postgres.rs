//! A PostgreSQL server for the decision log's tests: [`Server`] is a real PostgreSQL server — the one
//! the machine runs on 127.0.0.1:5432 (trust authentication, role `postgres`), or a temporary one
//! started with `initdb`/`pg_ctl` on a free port (as the `postgres` user when run as root: `initdb`
//! refuses root) — and [`Database`] is a database of a test's own, dropped at the end. Statements
//! run through `psql`. Both offer TLS with Debian's self-signed certificate ([`SNAKEOIL_CERT`],
//! for `localhost`) when the machine has it. Failures panic.

#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test support: a failure to set up must stop the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Debian's self-signed certificate (`CN=localhost`, `DNS:localhost`), the TLS certificate of the
/// machine's server and of the private servers.
pub const SNAKEOIL_CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

/// Its key (readable by root and the `ssl-cert` group).
const SNAKEOIL_KEY: &str = "/etc/ssl/private/ssl-cert-snakeoil.key";

/// A running PostgreSQL server.
pub struct Server {
    port: u16,
    private: Option<Private>,
}

/// A server this process started, stopped when dropped.
struct Private {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    /// Whether it offers TLS (with the snakeoil certificate).
    ssl: bool,
}

/// The directory of the newest installed PostgreSQL's server programs.
fn server_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!("no PostgreSQL server programs in /usr/lib/postgresql: run `bash tests/setup`")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a server program, as `postgres` when this process is root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn check(output: std::io::Result<Output>, what: &str) -> Output {
    let output = output.unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Server {
    /// The machine's server on 127.0.0.1:5432 when it answers, else a temporary one.
    pub fn shared_or_private() -> Self {
        let shared = Self {
            port: 5432,
            private: None,
        };
        if shared.answers() {
            shared
        } else {
            Self::private()
        }
    }

    /// A temporary server of this test's own (it can be stopped and restarted).
    pub fn private() -> Self {
        Self::private_with(false)
    }

    /// A temporary server that refuses connections without TLS (`hostssl` only in
    /// `pg_hba.conf`), or `None` where the snakeoil certificate cannot be used.
    pub fn private_tls_only() -> Option<Self> {
        let server = Self::private_with(true);
        server
            .private
            .as_ref()
            .is_some_and(|p| p.ssl)
            .then_some(server)
    }

    fn private_with(tls_only: bool) -> Self {
        let bin = server_bin();
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        if is_root() {
            check(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(dir.path())
                    .output(),
                "chown",
            );
        }
        check(
            as_server_user(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
                .output(),
            "initdb",
        );
        let ssl = install_snakeoil(&data);
        if ssl && tls_only {
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            )
            .expect("write pg_hba.conf");
        }
        let server = Self {
            port: free_port(),
            private: Some(Private {
                _dir: dir,
                data,
                bin,
                ssl,
            }),
        };
        server.start();
        server
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether it offers TLS with the snakeoil certificate ([`SNAKEOIL_CERT`]).
    pub fn offers_snakeoil_tls(&self) -> bool {
        match &self.private {
            Some(private) => private.ssl,
            None => {
                self.sql("postgres", "SHOW ssl") == "on"
                    && self.sql("postgres", "SHOW ssl_cert_file") == SNAKEOIL_CERT
            }
        }
    }

    /// Whether it accepts connections.
    pub fn answers(&self) -> bool {
        Command::new("psql")
            .args(self.psql_args("postgres"))
            .args(["-c", "SELECT 1"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn psql_args(&self, database: &str) -> Vec<String> {
        vec![
            "-X".into(),
            "-q".into(),
            "-t".into(),
            "-A".into(),
            "-v".into(),
            "ON_ERROR_STOP=1".into(),
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            self.port.to_string(),
            "-U".into(),
            "postgres".into(),
            "-d".into(),
            database.into(),
        ]
    }

    /// Runs SQL in `database` as the superuser and returns its output.
    pub fn sql(&self, database: &str, sql: &str) -> String {
        let output = check(
            Command::new("psql")
                .args(self.psql_args(database))
                .args(["-c", sql])
                .output(),
            &format!("psql `{sql}`"),
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn owned(&self) -> &Private {
        self.private
            .as_ref()
            .expect("only a private server can be stopped and started")
    }

    /// Starts a private server and waits until it answers.
    pub fn start(&self) {
        let private = self.owned();
        let socket_dir = private.data.parent().expect("data has a parent");
        check(
            as_server_user(&private.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&private.data)
                .arg("-l")
                .arg(socket_dir.join("server.log"))
                .arg("-o")
                .arg(format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c ssl={}",
                    self.port,
                    socket_dir.display(),
                    if private.ssl { "on" } else { "off" }
                ))
                .args(["-w", "-t", "60", "start"])
                .output(),
            "pg_ctl start",
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.answers() {
            assert!(Instant::now() < deadline, "the server did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops a private server (fast shutdown: open connections are closed).
    pub fn stop(&self) {
        let private = self.owned();
        check(
            as_server_user(&private.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&private.data)
                .args(["-m", "fast", "-w", "stop"])
                .output(),
            "pg_ctl stop",
        );
    }
}

/// Copies the snakeoil certificate and key into a new data directory as `server.crt` and
/// `server.key` (the server's defaults); whether it could.
fn install_snakeoil(data: &Path) -> bool {
    let (Ok(certificate), Ok(key)) = (std::fs::read(SNAKEOIL_CERT), std::fs::read(SNAKEOIL_KEY))
    else {
        return false;
    };
    let key_file = data.join("server.key");
    let written = std::fs::write(data.join("server.crt"), certificate).is_ok()
        && std::fs::write(&key_file, key).is_ok();
    if !written {
        return false;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let _ = std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600));
    if is_root() {
        check(
            Command::new("chown")
                .args(["postgres:postgres", "server.crt", "server.key"])
                .current_dir(data)
                .output(),
            "chown the certificate",
        );
    }
    true
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(private) = &self.private {
            let _ = as_server_user(&private.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&private.data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

/// A database of a test's own on a server, dropped when this is dropped.
pub struct Database<'a> {
    server: &'a Server,
    name: String,
}

impl<'a> Database<'a> {
    /// Creates an empty database with a fresh name.
    pub fn create(server: &'a Server) -> Self {
        let name = format!("tollgate_test_{}", uuid::Uuid::new_v4().simple());
        server.sql("postgres", &format!("CREATE DATABASE {name}"));
        Self { server, name }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to connect as the superuser.
    pub fn url(&self) -> String {
        self.url_as("postgres")
    }

    /// The URL to connect as the superuser to `host` (`127.0.0.1` or `localhost`, both this
    /// server) with a query (`sslmode=…&…`).
    pub fn url_to(&self, host: &str, query: &str) -> String {
        format!(
            "postgres://postgres@{host}:{}/{}?{query}",
            self.server.port, self.name
        )
    }

    /// The URL to connect as `role` (trust authentication: no password).
    pub fn url_as(&self, role: &str) -> String {
        format!(
            "postgres://{role}@127.0.0.1:{}/{}?sslmode=disable",
            self.server.port, self.name
        )
    }

    /// Runs SQL in this database as the superuser.
    pub fn sql(&self, sql: &str) -> String {
        self.server.sql(&self.name, sql)
    }
}

impl Drop for Database<'_> {
    fn drop(&mut self) {
        if self.server.answers() {
            let _ = Command::new("psql")
                .args(self.server.psql_args("postgres"))
                .args([
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                ])
                .output();
        }
    }
}
