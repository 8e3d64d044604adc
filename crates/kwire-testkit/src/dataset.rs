//! A real dataset that nobody here wrote: the GitHub webhook example payloads of the npm
//! package `@octokit/webhooks-examples` (MIT licence, by the Octokit contributors), one
//! JSON document per line.
//!
//! The package is fetched with `npm pack` into the same cache as the Kafka jars, and its
//! `api.github.com/index.json` (a list of webhook events, each with example payloads) is
//! flattened into JSON lines: every example, serialized compactly, in the package's order.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::TestkitError;
use crate::process::{self, Program};

/// The npm package and version the dataset comes from.
pub const WEBHOOK_EXAMPLES_PACKAGE: &str = "@octokit/webhooks-examples@7.6.1";

const FILE_NAME: &str = "octokit-webhooks-examples-7.6.1.jsonl";

/// Path of the webhook examples as JSON lines, fetched with npm on first use and cached.
///
/// # Errors
///
/// [`TestkitError::NpmNotFound`] without npm, [`TestkitError::ToolFailed`] when npm or tar
/// fail, [`TestkitError::UnexpectedOutput`] when the package does not hold what it should.
pub fn webhook_examples() -> Result<PathBuf, TestkitError> {
    static FETCHING: Mutex<()> = Mutex::new(());
    let _guard = FETCHING.lock().unwrap_or_else(|p| p.into_inner());

    let dir = crate::fetch::cache_root()?.join("datasets");
    let path = dir.join(FILE_NAME);
    if path.is_file() {
        return Ok(path);
    }
    fs::create_dir_all(&dir)
        .map_err(|e| TestkitError::io(format!("create {}", dir.display()), e))?;
    let work = tempfile::Builder::new()
        .prefix("webhooks-")
        .tempdir_in(&dir)
        .map_err(|e| {
            TestkitError::io(
                format!("create a temporary directory in {}", dir.display()),
                e,
            )
        })?;
    let npm = process::find_on_path("npm").ok_or(TestkitError::NpmNotFound)?;
    let pack = Program::new("npm pack", npm)
        .args(["pack", "--silent", WEBHOOK_EXAMPLES_PACKAGE])
        .current_dir(work.path());
    check(process::run(&pack, Duration::from_secs(300))?, "npm pack")?;
    let tarball = find_tarball(work.path())?;
    let untar = Program::new("tar", "tar")
        .arg("xzf")
        .arg(&tarball)
        .current_dir(work.path());
    check(process::run(&untar, Duration::from_secs(120))?, "tar")?;

    let index = work.path().join("package/api.github.com/index.json");
    let text =
        fs::read(&index).map_err(|e| TestkitError::io(format!("read {}", index.display()), e))?;
    let lines = flatten(&text)?;
    let partial = work.path().join(FILE_NAME);
    fs::write(&partial, lines)
        .map_err(|e| TestkitError::io(format!("write {}", partial.display()), e))?;
    fs::rename(&partial, &path)
        .map_err(|e| TestkitError::io(format!("move the dataset to {}", path.display()), e))?;
    Ok(path)
}

fn check(finished: process::Finished, tool: &str) -> Result<(), TestkitError> {
    if finished.status.success() {
        return Ok(());
    }
    Err(TestkitError::ToolFailed {
        tool: tool.to_owned(),
        status: process::describe_status(finished.status),
        output: finished.tail(20),
    })
}

fn find_tarball(dir: &Path) -> Result<PathBuf, TestkitError> {
    let entries =
        fs::read_dir(dir).map_err(|e| TestkitError::io(format!("list {}", dir.display()), e))?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or_else(|| TestkitError::UnexpectedOutput {
            tool: "npm pack".to_owned(),
            reason: "no .tgz file was written".to_owned(),
            line: dir.display().to_string(),
        })
}

/// Turns the package index (`[{name, examples: [...]}, ...]`) into JSON lines.
fn flatten(index: &[u8]) -> Result<String, TestkitError> {
    let unexpected = |reason: &str| TestkitError::UnexpectedOutput {
        tool: "@octokit/webhooks-examples".to_owned(),
        reason: reason.to_owned(),
        line: "api.github.com/index.json".to_owned(),
    };
    let events: Vec<serde_json::Value> =
        serde_json::from_slice(index).map_err(|e| unexpected(&format!("not a JSON array: {e}")))?;
    let mut out = String::new();
    for event in &events {
        let examples = event
            .get("examples")
            .and_then(|e| e.as_array())
            .ok_or_else(|| unexpected("an event has no examples array"))?;
        for example in examples {
            out.push_str(&example.to_string());
            out.push('\n');
        }
    }
    if out.is_empty() {
        return Err(unexpected("no examples"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_flattens_to_one_compact_line_per_example() {
        let index =
            br#"[{"name":"a","examples":[{"x": 1},{"y":[1, 2]}]},{"name":"b","examples":[]}]"#;
        assert_eq!(flatten(index).unwrap(), "{\"x\":1}\n{\"y\":[1,2]}\n");
        assert!(flatten(b"[{\"name\":\"a\"}]").is_err());
    }
}
