//! External processes that cannot outlive us and cannot hang us.
//!
//! Every JVM (broker, Kafka tools, Maven) runs under a tiny `sh` supervisor whose stdin
//! is a pipe that only this process holds open. A watcher inside the supervisor waits for
//! end-of-file on that pipe and then `kill -9`s the program. The pipe closes when we close
//! it on purpose (drop or timeout) and also when this process dies in any way, including
//! panics that abort, `SIGKILL`, and tests whose statics are never dropped. So no JVM is
//! left behind, without any `unsafe` signal handling.
//!
//! The supervisor runs in its own process group, so a Ctrl-C in the terminal stops the test
//! binary (which then closes the pipe) instead of killing `sh` and orphaning the JVM.
//!
//! The first line the supervisor writes on its stdout is the program's pid: the program is
//! started as `sh -c 'echo $$; exec "$@"'`, so that pid is the program itself after `exec`.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::TestkitError;

/// The supervisor. `$1...` is the program and its arguments.
///
/// * `PATH` gets the standard directories appended, so that `cat` and `rm` are found
///   whatever `PATH` the caller runs with.
/// * fd 3 keeps our pipe for the watcher: a background job's stdin is `/dev/null` in a
///   non-interactive shell unless redirected explicitly.
/// * `KWIRE_PROGRAM_OUT`, when set, receives the program's stdout and stderr.
/// * The watcher's own output goes to `/dev/null`, so that our pipes reach end-of-file as
///   soon as the program ends.
/// * After the program exits the watcher is stopped, so it never kills a recycled pid.
/// * `KWIRE_CLEANUP_DIR`, when set, is removed once the program is dead and our end of the
///   pipe is closed: a broker's temp dir goes away even when the broker lives in a `static`
///   that is never dropped. Until then it stays, so a crashed program's logs can be read.
const SUPERVISOR: &str = r#"PATH="$PATH:/usr/bin:/bin"
exec 3<&0
sh -c 'echo "$$"; if [ -n "$KWIRE_PROGRAM_OUT" ]; then exec >>"$KWIRE_PROGRAM_OUT" 2>&1; fi; exec "$@"' sh "$@" </dev/null &
pid=$!
( cat <&3; kill -9 "$pid" ) >/dev/null 2>&1 &
watcher=$!
wait "$pid"
status=$?
kill "$watcher" 2>/dev/null
if [ -n "$KWIRE_CLEANUP_DIR" ]; then
  ( cat <&3; rm -rf "$KWIRE_CLEANUP_DIR" ) >/dev/null 2>&1 &
fi
exit "$status""#;

/// How long a supervised program may take to die after we ask for it.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How often a waiting loop looks at the child again.
const POLL: Duration = Duration::from_millis(25);

/// A program to run under supervision.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    /// Human-readable name for errors, e.g. "Kafka's TopicCommand".
    pub(crate) name: String,
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
}

impl Program {
    /// A program (absolute path or name on `PATH`) with no arguments yet.
    pub(crate) fn new(name: impl Into<String>, program: impl AsRef<OsStr>) -> Program {
        Program {
            name: name.into(),
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// Appends one argument.
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Program {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends several arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Program
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets one environment variable for the program.
    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Program {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the program in `dir`.
    pub(crate) fn current_dir(mut self, dir: &Path) -> Program {
        self.cwd = Some(dir.to_owned());
        self
    }
}

/// Where the program's stdout and stderr go.
pub(crate) enum Output<'a> {
    /// Both are piped back to us.
    Piped,
    /// Both are appended to this file.
    File(&'a Path),
}

/// A running supervised program; killed when dropped.
#[derive(Debug)]
pub(crate) struct Supervised {
    child: Child,
    /// Our end of the supervisor's stdin; dropping it kills the program.
    lifeline: Option<ChildStdin>,
    pid: u32,
    status: Option<ExitStatus>,
}

/// The pipes of a [`Supervised`] started with [`Output::Piped`].
pub(crate) struct Pipes {
    /// The program's stdout, after the pid line.
    pub(crate) stdout: BufReader<ChildStdout>,
    /// The program's stderr.
    pub(crate) stderr: std::process::ChildStderr,
}

impl Supervised {
    /// Starts `program` under the supervisor.
    pub(crate) fn spawn(
        program: &Program,
        output: Output<'_>,
    ) -> Result<(Supervised, Option<Pipes>), TestkitError> {
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("kwire-supervisor")
            .arg(&program.program)
            .args(&program.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0)
            // Only what this call sets may steer the supervisor, never an inherited value.
            .env_remove("KWIRE_PROGRAM_OUT")
            .env_remove("KWIRE_CLEANUP_DIR");
        for (key, value) in &program.env {
            command.env(key, value);
        }
        if let Some(dir) = &program.cwd {
            command.current_dir(dir);
        }
        match output {
            Output::Piped => {
                command.stderr(Stdio::piped());
            }
            Output::File(path) => {
                let file = File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| TestkitError::io(format!("open {}", path.display()), e))?;
                command.stderr(file).env("KWIRE_PROGRAM_OUT", path);
            }
        }

        let mut child = command
            .spawn()
            .map_err(|e| TestkitError::io(format!("start /bin/sh for {}", program.name), e))?;
        let lifeline = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let stderr = child.stderr.take();

        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let pid = match read.ok().and_then(|_| line.trim().parse::<u32>().ok()) {
            Some(pid) => pid,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TestkitError::io(
                    format!("start {}", program.name),
                    io::Error::other(format!("supervisor printed {line:?} instead of a pid")),
                ));
            }
        };

        let supervised = Supervised {
            child,
            lifeline,
            pid,
            status: None,
        };
        let pipes = stderr.map(|stderr| Pipes { stdout, stderr });
        Ok((supervised, pipes))
    }

    /// The pid of the program itself (the JVM), not of the supervisor.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The program's exit status if it has ended.
    pub(crate) fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits until the program ends or `deadline` passes; `None` means still running.
    pub(crate) fn wait_until(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.try_status() {
                return Some(status);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            thread::sleep(POLL.min(deadline - now));
        }
    }

    /// Kills the program and waits for it to be gone.
    ///
    /// Closing the lifeline makes the supervisor `kill -9` the program. Should that fail
    /// to happen within a grace period, both are killed directly.
    pub(crate) fn stop(&mut self) {
        drop(self.lifeline.take());
        if self.try_status().is_some() {
            return;
        }
        if self.wait_until(Instant::now() + STOP_GRACE).is_some() {
            return;
        }

        // The shell's built-in `kill`: a `kill` binary is not installed everywhere.
        let _ = Command::new("/bin/sh")
            .args(["-c", "kill -9 \"$1\"", "sh"])
            .arg(self.pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        self.status = self.child.wait().ok();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a finished program printed.
pub(crate) struct Finished {
    /// Its exit status.
    pub(crate) status: ExitStatus,
    /// Everything on stdout (after the supervisor's pid line).
    pub(crate) stdout: Vec<u8>,
    /// Everything on stderr.
    pub(crate) stderr: Vec<u8>,
}

impl Finished {
    /// The last `lines` lines of stdout followed by stderr, for error messages.
    pub(crate) fn tail(&self, lines: usize) -> String {
        let mut all = String::from_utf8_lossy(&self.stdout).into_owned();
        all.push_str(&String::from_utf8_lossy(&self.stderr));
        tail_lines(&all, lines)
    }
}

/// Reads a pipe to its end on a helper thread so that the child never blocks on it.
pub(crate) fn drain<R: Read + Send + 'static>(mut pipe: R) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs `program` to completion with piped output, killing it after `timeout`.
///
/// A non-zero exit is not an error here; callers decide what it means.
pub(crate) fn run(program: &Program, timeout: Duration) -> Result<Finished, TestkitError> {
    let (mut child, pipes) = Supervised::spawn(program, Output::Piped)?;
    let pipes = pipes.expect("output is piped");
    let stdout = drain(pipes.stdout);
    let stderr = drain(pipes.stderr);

    let status = child.wait_until(Instant::now() + timeout);
    child.stop();
    let finished = Finished {
        status: status.or(child.status).unwrap_or_else(killed_status),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    match status {
        Some(_) => Ok(finished),
        None => Err(TestkitError::Timeout {
            what: program.name.clone(),
            timeout,
            output: finished.tail(30),
        }),
    }
}

/// An exit status for a child whose real status could not be read.
fn killed_status() -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    ExitStatus::from_raw(9)
}

/// Describes an exit status in words for error messages.
pub(crate) fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(137), _) => "killed with SIGKILL".to_owned(),
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "unknown exit status".to_owned(),
    }
}

/// The last `lines` non-empty lines of `text`.
pub(crate) fn tail_lines(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = kept.len().saturating_sub(lines);
    kept[start..].join("\n")
}

/// Finds an executable called `name` in the directories of `PATH`.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_non_empty_lines() {
        assert_eq!(tail_lines("a\n\nb\nc\n\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
    }

    #[test]
    fn run_returns_output_and_status() {
        let program = Program::new("sh", "/bin/sh").args(["-c", "echo out; echo err >&2; exit 3"]);
        let finished = run(&program, Duration::from_secs(10)).unwrap();
        assert_eq!(finished.stdout, b"out\n");
        assert_eq!(finished.stderr, b"err\n");
        assert_eq!(finished.status.code(), Some(3));
    }

    #[test]
    fn run_kills_a_program_that_overruns() {
        let program = Program::new("a sleeper", "sleep").arg("30");
        let started = Instant::now();
        let err = run(&program, Duration::from_millis(300)).err().unwrap();
        assert!(matches!(err, TestkitError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn the_pid_is_the_program_itself() {
        let program = Program::new("a sleeper", "sleep").arg("30");
        let (mut child, _pipes) = Supervised::spawn(&program, Output::Piped).unwrap();
        // The pid is printed just before `exec`, so the program may take a moment to appear.
        let cmdline_path = format!("/proc/{}/cmdline", child.pid());
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut cmdline = std::fs::read(&cmdline_path).unwrap();
        while !cmdline.starts_with(b"sleep\0") && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
            cmdline = std::fs::read(&cmdline_path).unwrap();
        }
        assert!(cmdline.starts_with(b"sleep\0"), "{cmdline:?}");
        child.stop();
        assert!(!Path::new(&format!("/proc/{}", child.pid())).exists());
    }
}
