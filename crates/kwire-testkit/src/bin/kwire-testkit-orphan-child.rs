//! A child process for the testkit's own orphan tests (`tests/orphans.rs`): it starts the
//! shared broker (held in a `static`, so never dropped), prints its pid and temp dir, then
//! ends the way the test asks: `panic` panics, `sleep` waits to be killed.

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let broker = kwire_testkit::shared()
        .broker()
        .expect("an owned broker, not KWIRE_BOOTSTRAP");
    let dir = broker
        .log_path()
        .parent()
        .and_then(|p| p.parent())
        .expect("the log lives two levels below the broker's directory");
    println!("BROKER {} {}", broker.pid(), dir.display());
    match mode.as_str() {
        "panic" => panic!("deliberate panic with the shared broker running"),
        "sleep" => std::thread::sleep(std::time::Duration::from_secs(120)),
        other => {
            eprintln!("usage: kwire-testkit-orphan-child panic|sleep (got {other:?})");
            std::process::exit(2);
        }
    }
}
