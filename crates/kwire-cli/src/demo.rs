//! `kwire demo`: a throwaway local broker, a real dataset, and the LeastBytes spread.

use std::process::ExitCode;

use kwire_producer::{Producer, ProducerConfig};

use crate::produce::{self, Input};
use crate::Failure;

const TOPIC: &str = "webhooks";
const PARTITIONS: u32 = 6;

/// Runs the demo and prints the summary.
pub async fn run(as_json: bool) -> Result<ExitCode, Failure> {
    eprintln!(
        "demo: fetching the GitHub webhook examples and Apache Kafka {} (cached after the first run)",
        kwire_testkit::KAFKA_VERSION
    );
    let dataset = blocking(kwire_testkit::webhook_examples).await?;
    eprintln!("demo: starting a throwaway Kafka broker on 127.0.0.1");
    let cluster = blocking(kwire_testkit::Cluster::start).await?;
    eprintln!(
        "demo: broker up at {}; creating topic `{TOPIC}` with {PARTITIONS} partitions",
        cluster.bootstrap()
    );
    let cluster = std::sync::Arc::new(cluster);
    {
        let c = cluster.clone();
        blocking(move || c.create_topic(TOPIC, PARTITIONS)).await?;
    }
    let producer = Producer::connect(ProducerConfig::new([cluster.bootstrap()]))
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
    eprintln!(
        "demo: producing {} with the LeastBytes partitioner",
        dataset.display()
    );
    let summary = produce::produce(&producer, TOPIC, &Input::File(dataset.clone())).await?;
    drop(producer);
    crate::print_summary(&summary, as_json)?;
    if !as_json {
        let largest = largest_line(&dataset).unwrap_or(0);
        let most = summary
            .partitions
            .iter()
            .map(|p| p.bytes)
            .max()
            .unwrap_or(0);
        let least = summary
            .partitions
            .iter()
            .map(|p| p.bytes)
            .min()
            .unwrap_or(0);
        out!(
            "LeastBytes gave each record to the partition with the fewest bytes so far: the fullest \
             and emptiest partitions differ by {} bytes, less than the largest record ({largest} bytes).",
            most - least
        )?;
    }
    eprintln!("demo: stopping the broker");
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .map_err(|e| Failure::fatal(format!("stopping the broker failed: {e}")))?;
    Ok(crate::exit_code(&summary))
}

fn largest_line(path: &std::path::Path) -> Option<u64> {
    let text = std::fs::read(path).ok()?;
    text.split(|b| *b == b'\n').map(|l| l.len() as u64).max()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, kwire_testkit::TestkitError> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::fatal(format!("demo step failed: {e}")))?
        .map_err(|e| Failure::fatal(e.to_string()))
}
