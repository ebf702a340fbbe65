//! Processes started by the tests that run the example binaries and the real peers:
//! loopback ports, temporary folders, a process stopped when its handle drops.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use scep::Certificate;

/// `target/<profile>/examples/NAME`, next to this test's own binary.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --examples` first",
        path.display()
    );
    path
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh folder under the system's temporary folder, named after `tag`.
pub fn tempdir(tag: &str) -> PathBuf {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("scep-interop-{tag}-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A process started for a test, stopped (SIGTERM, then waited for) when dropped.
pub struct Running {
    child: Child,
    what: String,
}

impl Running {
    /// Starts `cmd` and waits (up to `timeout`) for a stdout line containing `ready`.
    pub fn start(cmd: Command, ready: &str, what: &str, timeout: Duration) -> Self {
        Self::start_with_stderr(cmd, ready, what, timeout, Stdio::inherit())
    }

    /// [`Running::start`], its standard error to `log` (appended).
    pub fn start_logging(
        cmd: Command,
        ready: &str,
        what: &str,
        timeout: Duration,
        log: &Path,
    ) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        Self::start_with_stderr(cmd, ready, what, timeout, file.into())
    }

    fn start_with_stderr(
        mut cmd: Command,
        ready: &str,
        what: &str,
        timeout: Duration,
        stderr: Stdio,
    ) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let marker = ready.to_owned();
        let tag = what.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("[{tag}] {line}");
                if line.contains(&marker) {
                    let _ = tx.send(());
                }
            }
        });
        let running = Running {
            child,
            what: what.to_owned(),
        };
        rx.recv_timeout(timeout)
            .unwrap_or_else(|_| panic!("{what} did not print {ready:?} in {timeout:?}"));
        running
    }

    /// Kills it with SIGKILL (a crash: nothing of it runs any more) and waits for it.
    pub fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SIGTERM lets the peer scripts stop what they started.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.what);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to completion with a time limit; returns (status code, stdout).
pub fn run(cmd: Command, what: &str, timeout: Duration) -> (i32, String) {
    run_to(cmd, what, timeout, false)
}

/// [`run`], with the command's standard error appended to the output returned.
#[allow(dead_code)]
pub fn run_with_stderr(cmd: Command, what: &str, timeout: Duration) -> (i32, String) {
    run_to(cmd, what, timeout, true)
}

fn run_to(mut cmd: Command, what: &str, timeout: Duration, stderr: bool) -> (i32, String) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(if stderr {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(timeout) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(id.to_string())
                .status();
            panic!("{what} did not finish in {timeout:?}");
        }
    };
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    eprintln!("[{what}] exit {:?}\n{output}", out.status.code());
    (out.status.code().unwrap_or(-1), output)
}

/// The first certificate of a PEM file.
pub fn load_cert(path: &Path) -> Certificate {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Certificate::load_pem_chain(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .remove(0)
}
