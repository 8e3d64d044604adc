//! Finding a usable `java` and building JVM command lines for Kafka's classes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::{self, Program};
use crate::TestkitError;

/// The oldest Java that Kafka 4.x brokers run on.
const MIN_JAVA: u32 = 17;

/// How long `java -version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(30);

/// Flags for short-lived tool JVMs: small heap, fast start, no GC threads to spare.
const TOOL_FLAGS: &[&str] = &[
    "-Xmx256m",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Djava.awt.headless=true",
];

/// Absolute path of a `java` from `PATH` that is 17 or newer; checked once per process.
pub(crate) fn java() -> Result<PathBuf, TestkitError> {
    static JAVA: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = JAVA.get() {
        return Ok(path.clone());
    }
    let path = check_java()?;
    Ok(JAVA.get_or_init(|| path).clone())
}

/// Finds `java` on `PATH` and checks that `java -version` reports 17 or newer.
fn check_java() -> Result<PathBuf, TestkitError> {
    let path = process::find_on_path("java").ok_or(TestkitError::JavaNotFound)?;
    let program = Program::new("`java -version`", &path).arg("-version");
    let finished = process::run(&program, VERSION_TIMEOUT)?;

    // `java -version` writes to stderr; look at both streams to be safe.
    let mut text = String::from_utf8_lossy(&finished.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&finished.stdout));
    match parse_java_version(&text) {
        Some((major, _)) if major >= MIN_JAVA => Ok(path),
        Some((_, version)) => Err(TestkitError::JavaTooOld {
            path,
            found: version,
        }),
        None => Err(TestkitError::JavaTooOld {
            path,
            found: process::tail_lines(&text, 3),
        }),
    }
}

/// Reads the major version from `java -version` output, e.g. `openjdk version "17.0.15"`.
///
/// Handles the old `1.8.0_292` scheme and suffixes such as `21-ea`.
fn parse_java_version(output: &str) -> Option<(u32, String)> {
    let line = output.lines().find(|l| l.contains(" version \""))?;
    let version = line.split('"').nth(1)?.to_owned();
    let mut parts = version.split(['.', '-', '+', '_']);
    let first: u32 = parts.next()?.parse().ok()?;
    let major = if first == 1 {
        parts.next()?.parse().ok()?
    } else {
        first
    };
    Some((major, version))
}

/// A `java` command line running `main_class` from the jars in `lib`.
///
/// `jvm_flags` come first (heap, GC); the classpath is `lib/*`, which the JVM expands
/// itself. Output is forced to UTF-8 so that keys and headers reach us byte for byte
/// whatever the locale is.
pub(crate) fn java_program<I, S>(
    name: &str,
    lib: &Path,
    log_config: &Path,
    jvm_flags: I,
    main_class: &str,
) -> Result<Program, TestkitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let java = java()?;
    let mut log_flag = std::ffi::OsString::from("-Dlog4j2.configurationFile=");
    log_flag.push(log_config);
    Ok(Program::new(name, java)
        .env("LC_ALL", "C.UTF-8")
        .args(jvm_flags)
        .args(["-Dfile.encoding=UTF-8", "-Dstdout.encoding=UTF-8"])
        .arg(log_flag)
        .arg("-cp")
        .arg(lib.join("*"))
        .arg(main_class))
}

/// A short-lived Kafka tool JVM (`-Xmx256m`, fast start) logging warnings to stderr.
pub(crate) fn tool_program(
    name: &str,
    home: &crate::fetch::KafkaHome,
    main_class: &str,
) -> Result<Program, TestkitError> {
    java_program(
        name,
        &home.lib,
        &home.tools_log_config,
        TOOL_FLAGS,
        main_class,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_are_read_in_both_schemes() {
        let modern = "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment";
        assert_eq!(parse_java_version(modern), Some((17, "17.0.15".into())));
        let old = "java version \"1.8.0_292\"\nJava(TM) SE Runtime Environment";
        assert_eq!(parse_java_version(old).map(|v| v.0), Some(8));
        let early = "openjdk version \"21-ea\" 2023-09-19";
        assert_eq!(parse_java_version(early).map(|v| v.0), Some(21));
        assert_eq!(parse_java_version("no java here"), None);
    }

    #[test]
    fn the_java_on_this_machine_is_usable() {
        java().unwrap();
    }
}
