//! Automatic signed checkpoints of `tollgate serve`: a thread that verifies the log and writes a
//! signed checkpoint after every N appended lines or T seconds (when lines were appended), and a
//! last one at shutdown, so `tollgate audit verify --checkpoint` always has a recent one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tollgate_decision_log::{Checkpoint, Project, SigningKey, Writers};
use tollgate_durable::Access;
use tollgate_recorder::AppendObserver;

/// The default number of lines between two checkpoints.
pub(crate) const DEFAULT_EVERY: u64 = 1000;
/// The default number of seconds between two checkpoints (when lines were appended).
pub(crate) const DEFAULT_INTERVAL: u64 = 300;

/// What to sign, with which key, and where to write it.
#[derive(Debug)]
pub(crate) struct Job {
    /// The project whose log is checkpointed.
    pub(crate) project: Project,
    /// The checkpoint key.
    pub(crate) key: SigningKey,
    /// The origin line.
    pub(crate) origin: String,
    /// Writers whose seals the log must carry before it is signed.
    pub(crate) writers: Option<Writers>,
    /// A file (replaced atomically) or an existing directory.
    pub(crate) output: PathBuf,
    /// Lines between checkpoints.
    pub(crate) every: u64,
    /// Time between checkpoints.
    pub(crate) interval: Duration,
}

#[derive(Debug, Default)]
struct State {
    appended: u64,
    stopping: bool,
}

/// The checkpoint thread's handle: told of appends, stopped at shutdown.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    state: Mutex<State>,
    wake: Condvar,
    every: u64,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl AppendObserver for Checkpointer {
    fn appended(&self, lines: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.appended += lines as u64;
        if state.appended >= self.every {
            self.wake.notify_one();
        }
    }
}

impl Checkpointer {
    /// Starts the checkpoint thread.
    pub(crate) fn start(job: Job) -> Arc<Self> {
        let checkpointer = Arc::new(Self {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            every: job.every.max(1),
            thread: Mutex::new(None),
        });
        let worker = Arc::clone(&checkpointer);
        let thread = std::thread::spawn(move || worker.run(&job));
        *checkpointer
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(thread);
        checkpointer
    }

    fn run(&self, job: &Job) {
        let mut written_once = false;
        loop {
            let (appended, stopping) = {
                let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                let (mut state, _) = self
                    .wake
                    .wait_timeout_while(state, job.interval, |s| {
                        !s.stopping && s.appended < self.every
                    })
                    .unwrap_or_else(PoisonError::into_inner);
                (std::mem::take(&mut state.appended), state.stopping)
            };
            if appended > 0 || !written_once {
                match write_checkpoint(job) {
                    Ok(Some((size, path))) => {
                        written_once = true;
                        eprintln!(
                            "tollgate serve: wrote a checkpoint of {size} records to `{}`",
                            path.display()
                        );
                    }
                    Ok(None) => {}
                    Err(message) => eprintln!("tollgate serve: no checkpoint written: {message}"),
                }
            }
            if stopping {
                return;
            }
        }
    }

    /// Writes a last checkpoint and stops the thread.
    pub(crate) fn stop(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stopping = true;
        self.wake.notify_one();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            eprintln!("tollgate serve: the checkpoint thread failed");
        }
    }
}

/// Verifies the log (with its writers' seals) and writes a signed checkpoint of it; none while
/// the log does not exist. Returns the size and the file written.
fn write_checkpoint(job: &Job) -> Result<Option<(u64, PathBuf)>, String> {
    let log = job.project.audit_log();
    if !log.exists().map_err(|e| e.to_string())? {
        return Ok(None);
    }
    let verification = log
        .verify_sealed(None, job.writers.as_ref())
        .map_err(|e| e.to_string())?;
    if let Some(problem) = verification.problems.first() {
        return Err(format!(
            "the audit log `{}` fails verification ({problem}); run `tollgate audit verify`",
            log.location()
        ));
    }
    let note = job.key.sign(&Checkpoint {
        origin: job.origin.clone(),
        size: verification.size(),
        root: verification.root,
    });
    let path = if job.output.is_dir() {
        let history = job
            .output
            .join(format!("checkpoint-{:012}", verification.size()));
        write(&history, &note)?;
        job.output.join("latest")
    } else {
        job.output.clone()
    };
    write(&path, &note)?;
    Ok(Some((verification.size(), path)))
}

fn write(path: &Path, note: &str) -> Result<(), String> {
    tollgate_durable::write(path, note.as_bytes(), Access::Shared)
        .map_err(|e| format!("cannot write the checkpoint `{}`: {e}", path.display()))
}
