//! Downloading the Apache Kafka jars from Maven Central, once, into a user cache.
//!
//! The jars come from Maven Central rather than the binary tarball because Maven is the one
//! download path every machine of this project has. The Maven POMs lack the SLF4J binding
//! that the tarball ships, so the POM below adds `log4j-slf4j-impl` (Kafka logs through
//! SLF4J 1.7); without it the broker would log nothing at all.
//!
//! Layout: `<cache>/kafka-4.4.0/lib/*.jar` and `<cache>/kafka-4.4.0/tools-log4j2.properties`.
//! A download goes into a fresh `.download-*` directory next to `lib` and is renamed into
//! place, so a `lib` directory that exists is complete, and several processes may race
//! without harm (the loser's copy is thrown away).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::process::{self, Program};
use crate::{jvm, TestkitError, KAFKA_VERSION};

/// Log4j 2 version, matching what the Kafka 4.4 binary distribution ships.
const LOG4J_VERSION: &str = "2.25.3";

/// The Maven plugin that copies the resolved jars, pinned for reproducibility.
const COPY_DEPENDENCIES: &str =
    "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies";

/// How long Maven may take; a cold download is ~55 MB.
const MAVEN_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Abandoned downloads older than this are removed.
const STALE_DOWNLOAD: Duration = Duration::from_secs(60 * 60);

/// Log configuration for short-lived tools: warnings to stderr, so stdout is data only.
const TOOLS_LOG4J2: &str = "\
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
";

/// Where the Kafka jars and the shared tool configuration live.
#[derive(Debug, Clone)]
pub(crate) struct KafkaHome {
    /// Directory holding every jar (use `lib/*` as the classpath).
    pub(crate) lib: PathBuf,
    /// Log4j 2 configuration for tool JVMs.
    pub(crate) tools_log_config: PathBuf,
}

/// Path of the directory holding all Apache Kafka 4.4.0 jars, downloading them on first use.
///
/// The cache lives outside the source tree: `$KWIRE_KAFKA_CACHE` if set, else
/// `$XDG_CACHE_HOME/kwire`, else `~/.cache/kwire`; the jars are in its `kafka-4.4.0/lib`.
/// Checks first that `java` 17+ is on `PATH`, and, when a download is needed, that `mvn` is.
/// Safe to call from several threads and processes at once.
///
/// # Errors
///
/// [`TestkitError::JavaNotFound`], [`TestkitError::JavaTooOld`],
/// [`TestkitError::MavenNotFound`], [`TestkitError::MavenFailed`] and
/// [`TestkitError::Timeout`] (after 15 minutes), or an I/O error on the cache.
pub fn kafka_jars() -> Result<PathBuf, TestkitError> {
    kafka_home().map(|home| home.lib)
}

/// [`kafka_jars`] plus the tool log configuration.
pub(crate) fn kafka_home() -> Result<KafkaHome, TestkitError> {
    // One download per process even when many tests ask at once.
    static FETCHING: Mutex<()> = Mutex::new(());

    jvm::java()?;
    let dir = cache_root()?.join(format!("kafka-{KAFKA_VERSION}"));
    let lib = dir.join("lib");
    let tools_log_config = dir.join("tools-log4j2.properties");

    let _guard = FETCHING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !is_complete(&lib) {
        download(&dir, &lib)?;
    }
    if fs::read_to_string(&tools_log_config).ok().as_deref() != Some(TOOLS_LOG4J2) {
        write_atomically(&tools_log_config, TOOLS_LOG4J2)?;
    }
    Ok(KafkaHome {
        lib,
        tools_log_config,
    })
}

/// The cache root chosen from the environment.
pub(crate) fn cache_root() -> Result<PathBuf, TestkitError> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("KWIRE_KAFKA_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("kwire"));
    }
    match non_empty("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("kwire")),
        None => Err(TestkitError::NoCacheDir),
    }
}

/// Whether `lib` holds a finished download (it only ever appears by rename).
fn is_complete(lib: &Path) -> bool {
    [
        format!("kafka_2.13-{KAFKA_VERSION}.jar"),
        format!("kafka-tools-{KAFKA_VERSION}.jar"),
        format!("log4j-slf4j-impl-{LOG4J_VERSION}.jar"),
    ]
    .iter()
    .all(|jar| lib.join(jar).is_file())
}

/// Runs Maven into a private directory under `dir` and renames its result to `lib`.
fn download(dir: &Path, lib: &Path) -> Result<(), TestkitError> {
    let mvn = process::find_on_path("mvn").ok_or(TestkitError::MavenNotFound)?;
    fs::create_dir_all(dir)
        .map_err(|e| TestkitError::io(format!("create {}", dir.display()), e))?;
    remove_stale_downloads(dir);

    let work = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(dir)
        .map_err(|e| TestkitError::io(format!("create a directory in {}", dir.display()), e))?;
    let pom = work.path().join("pom.xml");
    fs::write(&pom, pom_xml())
        .map_err(|e| TestkitError::io(format!("write {}", pom.display()), e))?;
    let fresh = work.path().join("lib");

    let mut output_dir = std::ffi::OsString::from("-DoutputDirectory=");
    output_dir.push(&fresh);
    let program = Program::new("Maven", mvn)
        .args(["-B", "-q", "-Dstyle.color=never", "-f"])
        .arg(&pom)
        .arg(COPY_DEPENDENCIES)
        .arg(output_dir)
        .arg("-DincludeScope=runtime")
        .current_dir(work.path());
    let finished = process::run(&program, MAVEN_TIMEOUT)?;
    if !finished.status.success() || !is_complete(&fresh) {
        return Err(TestkitError::MavenFailed {
            dir: dir.to_owned(),
            status: process::describe_status(finished.status),
            output: finished.tail(30),
        });
    }

    match fs::rename(&fresh, lib) {
        Ok(()) => Ok(()),
        // Another process finished first; its copy is as good as ours.
        Err(_) if is_complete(lib) => Ok(()),
        Err(e) => Err(TestkitError::io(
            format!("move {} to {}", fresh.display(), lib.display()),
            e,
        )),
    }
}

/// Deletes `.download-*` directories left by processes that died mid-download.
fn remove_stale_downloads(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_download = entry
            .file_name()
            .to_string_lossy()
            .starts_with(".download-");
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok());
        if is_download && age.is_some_and(|age| age > STALE_DOWNLOAD) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes `contents` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, contents: &str) -> Result<(), TestkitError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut file, contents.as_bytes())?;
        // Readable by all, like the jars, in case the cache is shared.
        file.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))?;
        file.persist(path)?;
        Ok(())
    };
    write().map_err(|e| TestkitError::io(format!("write {}", path.display()), e))
}

/// A POM whose runtime dependencies are exactly the jars a broker and its tools need.
fn pom_xml() -> String {
    format!(
        r#"<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kwire</groupId><artifactId>kafka-broker-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"#,
        kafka = KAFKA_VERSION,
        log4j = LOG4J_VERSION,
    )
}
