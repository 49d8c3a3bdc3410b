//! `fabula sync serve | list | pull | push`: LAN sync without a window.

use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;

use super::exchange::{ConflictArg, import_stream};
use crate::domain::{Peer, StoryId};
use crate::jobs::NoWaker;
use crate::storage::{DataPaths, Store};
use crate::sync::{ServerEvent, ServerOptions, SyncServer, client};

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Serve this library to other devices until Ctrl+C; prints the pairing JSON (the QR payload).
    Serve {
        /// The address to listen on (default: this machine's LAN address).
        #[arg(long)]
        bind: Option<IpAddr>,
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// A token to require (default: a fresh random one).
        #[arg(long)]
        token: Option<String>,
    },
    /// List a peer's stories, tab-separated.
    List {
        #[arg(long = "from", value_name = "HOST:PORT")]
        from: String,
        #[arg(long)]
        token: String,
    },
    /// Copy stories from a peer into this library.
    Pull {
        #[arg(long = "from", value_name = "HOST:PORT")]
        from: String,
        #[arg(long)]
        token: String,
        #[arg(long, value_enum)]
        on_conflict: Option<ConflictArg>,
        #[arg(required = true)]
        stories: Vec<String>,
    },
    /// Send stories from this library to a peer.
    Push {
        #[arg(long = "to", value_name = "HOST:PORT")]
        to: String,
        #[arg(long)]
        token: String,
        #[arg(required = true)]
        stories: Vec<String>,
    },
}

/// The address other devices on the network can reach: the one the default route leaves from.
pub fn lan_address() -> Option<IpAddr> {
    // No packet is sent: connecting a UDP socket only asks the OS which interface it would use.
    let socket = std::net::UdpSocket::bind(("0.0.0.0", 0)).ok()?;
    socket.connect(("192.0.2.1", 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

pub fn sync(
    store: &mut Store,
    paths: &DataPaths,
    command: SyncCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        SyncCommand::Serve { bind, port, token } => {
            let bind = bind
                .or_else(lan_address)
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
            let mut options = ServerOptions::new(bind, paths.database());
            options.port = port;
            options.token = token;
            let mut server = SyncServer::start(options, Arc::new(NoWaker))?;
            println!("{}", serde_json::to_string(&server.pairing)?);
            eprintln!(
                "Serving {} on {} until Ctrl+C.",
                paths.database().display(),
                server.addr
            );
            let stop = stop_requested();
            loop {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(server);
                    eprintln!("Stopped; the library is saved.");
                    return Ok(ExitCode::SUCCESS);
                }
                for event in server.poll() {
                    match event {
                        ServerEvent::Listed { peer } => eprintln!("{peer} listed the stories"),
                        ServerEvent::Pulled { peer, title } => eprintln!("{peer} pulled “{title}”"),
                        ServerEvent::Pushed {
                            peer,
                            title,
                            replaced,
                        } => eprintln!(
                            "{peer} pushed “{title}”{}",
                            if replaced {
                                " (the previous copy is in the Trash)"
                            } else {
                                ""
                            }
                        ),
                        ServerEvent::Refused { peer, reason } => eprintln!("{peer}: {reason}"),
                        ServerEvent::Stopped { reason } => anyhow::bail!(reason),
                    }
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        SyncCommand::List { from, token } => {
            let peer = Peer::parse(&from, &token)?;
            for s in client::list(&peer)? {
                println!(
                    "{}\t{}\t{}\t{} entries",
                    s.id,
                    s.title,
                    s.genre.unwrap_or_default(),
                    s.entry_count
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SyncCommand::Pull {
            from,
            token,
            on_conflict,
            stories,
        } => {
            let peer = Peer::parse(&from, &token)?;
            Ok(each_story(&stories, |id| {
                let imported = client::pull_into(&peer, id, 0, &mut |story| {
                    import_stream(store, story, on_conflict, "The story sent", true)
                })??;
                eprintln!("pulled “{}”", imported.title);
                println!("{}", imported.story);
                Ok(())
            }))
        }
        SyncCommand::Push { to, token, stories } => {
            let peer = Peer::parse(&to, &token)?;
            Ok(each_story(&stories, |id| {
                let message = client::push(&peer, store, &StoryId::from(id))?;
                eprintln!("{message}");
                Ok(())
            }))
        }
    }
}

/// Runs `one` for each story with "[i/n] id: " before it; a failure is reported and the rest go on.
fn each_story(stories: &[String], mut one: impl FnMut(&str) -> anyhow::Result<()>) -> ExitCode {
    let mut failed = false;
    for (i, id) in stories.iter().enumerate() {
        eprint!("[{}/{}] {id}: ", i + 1, stories.len());
        if let Err(e) = one(id) {
            eprintln!("{e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Raised by SIGINT or SIGTERM. Registering a handler also undoes the "ignore SIGINT" that a shell
/// gives a program it starts in the background, so `kill -INT` stops the server there too.
pub(super) fn stop_requested() -> Arc<std::sync::atomic::AtomicBool> {
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, flag.clone()) {
            log::warn!("sync: Ctrl+C will end the server abruptly: {e}");
        }
    }
    flag
}
