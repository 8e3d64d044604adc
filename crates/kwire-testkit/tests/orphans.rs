//! No broker JVM outlives the test process that started it, however that process ends.
//!
//! Each test runs the `kwire-testkit-orphan-child` binary of this crate as a child.
//! The child starts the shared broker (held in a `static`, so never dropped), reports its
//! pid, and then dies in the way under test. The parent checks that the JVM and its temp
//! dir disappear.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the JVM may take to disappear once its owner is gone.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(15);

/// Starts the helper in a child process; returns it with the broker's pid and temp dir.
fn start_helper(mode: &str) -> (Child, u32, PathBuf) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kwire-testkit-orphan-child"))
        .arg(mode)
        .env_remove(kwire_testkit::BOOTSTRAP_ENV)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("BROKER ") {
            let (pid, dir) = rest.split_once(' ').unwrap();
            return (child, pid.parse().unwrap(), PathBuf::from(dir));
        }
    }
    panic!(
        "the helper ended without starting a broker: {:?}",
        child.wait()
    );
}

/// Waits until neither the JVM nor its directory exists.
fn assert_cleaned_up(pid: u32, dir: &Path) {
    let proc_entry = PathBuf::from(format!("/proc/{pid}"));
    let deadline = Instant::now() + CLEANUP_TIMEOUT;
    while (proc_entry.exists() || dir.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !proc_entry.exists(),
        "broker JVM {pid} outlived its test process"
    );
    assert!(!dir.exists(), "{} outlived its test process", dir.display());
}

#[test]
fn the_broker_dies_when_the_test_process_is_killed() {
    let (mut child, pid, dir) = start_helper("sleep");
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert!(dir.exists());

    child.kill().unwrap(); // SIGKILL: no destructor, no atexit handler runs.
    child.wait().unwrap();
    assert_cleaned_up(pid, &dir);
}

#[test]
fn the_broker_dies_when_a_test_panics() {
    let (mut child, pid, dir) = start_helper("panic");
    let status = child.wait().unwrap();
    assert!(!status.success(), "the helper should have failed");
    assert_cleaned_up(pid, &dir);
}
