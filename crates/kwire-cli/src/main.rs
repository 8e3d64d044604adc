//! `kwire`: produce JSON lines to Kafka, inspect a cluster, run a demo against a local broker,
//! and show protocol bytes as JSON (`decode`) or write them from JSON (`encode`).
#![forbid(unsafe_code)]

/// Prints a line on stdout through [`write_stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

mod demo;
mod inspect;
mod produce;
mod wire;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use kwire_producer::{Acks, LeastBytes, Partitioner, Producer, ProducerConfig, RoundRobin};

/// A command's failure: one sentence for stderr.
#[derive(Debug)]
pub struct Failure {
    message: String,
}

impl Failure {
    /// A failure that stops the command.
    pub fn fatal(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
        }
    }
}

#[derive(Parser)]
#[command(
    name = "kwire",
    version,
    about = "A Kafka producer written from the wire protocol up"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum AcksArg {
    /// Every in-sync replica (acks=-1).
    All,
    /// The leader only (acks=1).
    Leader,
    /// No acknowledgement (acks=0); offsets are reported as -1.
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum PartitionerArg {
    /// The partition given the fewest key+value bytes so far (ties to the lowest id).
    LeastBytes,
    /// Partitions in turn.
    RoundRobin,
}

#[derive(clap::Args)]
struct ProduceArgs {
    /// Broker to bootstrap from, host:port (repeat for several).
    #[arg(long, short = 'b', required = true)]
    bootstrap: Vec<String>,
    /// Topic to produce to (it must exist).
    #[arg(long, short = 't')]
    topic: String,
    /// JSON lines to send; `-` or nothing for standard input.
    file: Option<PathBuf>,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Acknowledgement level.
    #[arg(long, value_enum, default_value = "all")]
    acks: AcksArg,
    /// How to choose partitions.
    #[arg(long, value_enum, default_value = "least-bytes")]
    partitioner: PartitionerArg,
    /// How long a batch may wait for more records, in ms.
    #[arg(long, default_value_t = 5)]
    linger_ms: u64,
    /// Batch size in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    batch_size: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Send each line of a file (or stdin) as one JSON record, then summarise.
    Produce(ProduceArgs),
    /// Show the brokers and topics of a cluster.
    Metadata {
        /// Broker to bootstrap from, host:port.
        #[arg(long, short = 'b', required = true)]
        bootstrap: Vec<String>,
        /// Topics to show (all when none is given).
        #[arg(long, short = 't')]
        topic: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the API versions a broker serves and the ones kwire would use.
    ApiVersions {
        /// Broker to ask, host:port.
        #[arg(long, short = 'b')]
        bootstrap: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start a throwaway local Kafka broker, produce the GitHub webhook examples to a
    /// 6-partition topic, and show how LeastBytes spread them.
    Demo {
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show protocol bytes (a request, a response, record batches) as JSON.
    Decode {
        #[command(subcommand)]
        what: wire::DecodeCommand,
    },
    /// Turn the JSON that `decode` prints back into the same bytes.
    Encode {
        #[command(subcommand)]
        what: wire::EncodeCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kwire: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli.command));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("kwire: {}", f.message);
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Produce(args) => run_produce(args).await,
        Command::Metadata {
            bootstrap,
            topic,
            json,
        } => inspect::metadata(&bootstrap, &topic, json).await,
        Command::ApiVersions { bootstrap, json } => inspect::api_versions(&bootstrap, json).await,
        Command::Demo { json } => demo::run(json).await,
        Command::Decode { what } => wire::decode(what),
        Command::Encode { what } => wire::encode(what),
    }
}

async fn run_produce(args: ProduceArgs) -> Result<ExitCode, Failure> {
    let input = produce::Input::from_arg(args.file);
    if let produce::Input::File(path) = &input {
        // Check before connecting, so a typo fails at once and says so.
        std::fs::metadata(path)
            .map_err(|e| Failure::fatal(format!("cannot open `{}`: {e}", path.display())))?;
    }
    let mut config = ProducerConfig::new(args.bootstrap);
    config.acks = match args.acks {
        AcksArg::All => Acks::All,
        AcksArg::Leader => Acks::Leader,
        AcksArg::None => Acks::None,
    };
    config.linger = Duration::from_millis(args.linger_ms);
    config.batch_size = args.batch_size;
    let partitioner: Arc<dyn Partitioner> = match args.partitioner {
        PartitionerArg::LeastBytes => Arc::new(LeastBytes::new()),
        PartitionerArg::RoundRobin => Arc::new(RoundRobin::new()),
    };
    let producer = Producer::with_partitioner(config, partitioner)
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let summary = produce::produce(&producer, &args.topic, &input).await?;
    print_summary(&summary, args.json)?;
    Ok(exit_code(&summary))
}

/// Prints a produce summary as text or JSON.
pub fn print_summary(summary: &produce::Summary, json: bool) -> Result<(), Failure> {
    if json {
        let text = serde_json::to_string(summary).expect("a summary always serializes");
        out!("{text}")
    } else {
        write_stdout(summary.to_text().as_bytes())
    }
}

/// Writes to standard output. A closed stdout (`kwire … | head`) is not an error: the rest
/// of the output is simply not wanted.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::fatal(format!(
            "cannot write to standard output: {e}"
        ))),
        _ => Ok(()),
    }
}

/// 0 when every line was valid and delivered, else 1.
pub fn exit_code(summary: &produce::Summary) -> ExitCode {
    if summary.rejected > 0 || summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
