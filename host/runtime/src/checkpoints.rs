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

use crate::RuntimeError;

/// The default number of lines between two checkpoints.
pub const DEFAULT_EVERY: u64 = 1000;
/// The default number of seconds between two checkpoints (when lines were appended).
pub const DEFAULT_INTERVAL: u64 = 300;

/// What to sign, with which key, and where to write it.
#[derive(Debug)]
pub struct Job {
    /// The project whose log is checkpointed.
    pub project: Project,
    /// The checkpoint key.
    pub key: SigningKey,
    /// The origin line.
    pub origin: String,
    /// Writers whose seals the log must carry before it is signed.
    pub writers: Option<Writers>,
    /// A file (replaced atomically) or an existing directory.
    pub output: PathBuf,
    /// Lines between checkpoints.
    pub every: u64,
    /// Time between checkpoints.
    pub interval: Duration,
}

/// What the flags ask of the checkpoint job; the configuration fills in the rest.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    /// The checkpoint key [default: `audit.signing_key`].
    pub key: Option<PathBuf>,
    /// Where checkpoints go [default: `audit.checkpoints.output`, else `.tollgate/checkpoint`].
    pub output: Option<PathBuf>,
    /// Lines between checkpoints [default: `audit.checkpoints.every`, else 1000].
    pub every: Option<u64>,
    /// Seconds between checkpoints [default: `audit.checkpoints.interval`, else 300].
    pub interval: Option<u64>,
}

impl Job {
    /// The job `schedule` and the project's configuration ask for; none without a key given or
    /// configured (`audit.signing_key` or `audit.checkpoints`).
    pub fn of_project(
        project: &Project,
        schedule: &Schedule,
    ) -> Result<Option<Self>, RuntimeError> {
        let configured = project.config.checkpoints.clone();
        if schedule.key.is_none() && project.config.signing_key.is_none() && configured.is_none() {
            return Ok(None);
        }
        let configured = configured.unwrap_or_default();
        let key = project.signing_key(schedule.key.as_deref())?;
        let origin = project
            .config
            .origin
            .clone()
            .unwrap_or_else(|| key.name().to_owned());
        let output = schedule.output.clone().unwrap_or_else(|| {
            project.state_file(
                configured.output.as_deref(),
                tollgate_decision_log::config::DEFAULT_CHECKPOINT,
            )
        });
        let writers = Writers::of_project(project, &[], None)?;
        Ok(Some(Self {
            project: project.clone(),
            key,
            origin,
            writers,
            output,
            every: schedule.every.or(configured.every).unwrap_or(DEFAULT_EVERY),
            interval: Duration::from_secs(
                schedule
                    .interval
                    .or(configured.interval)
                    .unwrap_or(DEFAULT_INTERVAL)
                    .max(1),
            ),
        }))
    }
}

#[derive(Debug, Default)]
struct State {
    appended: u64,
    stopping: bool,
}

/// The checkpoint thread's handle: told of appends, stopped at shutdown.
#[derive(Debug)]
pub struct Checkpointer {
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
    pub fn start(job: Job) -> Arc<Self> {
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
                    Err(error) => eprintln!(
                        "tollgate serve: no checkpoint written: {}",
                        crate::error_chain(&error)
                    ),
                }
            }
            if stopping {
                return;
            }
        }
    }

    /// Writes a last checkpoint and stops the thread.
    pub fn stop(&self) {
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
fn write_checkpoint(job: &Job) -> Result<Option<(u64, PathBuf)>, RuntimeError> {
    let log = job.project.audit_log();
    if !log.exists()? {
        return Ok(None);
    }
    let verification = log.verify_sealed(None, job.writers.as_ref())?;
    if let Some(problem) = verification.problems.first() {
        return Err(RuntimeError::FailsVerification {
            location: log.location(),
            problem: problem.to_string(),
        });
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

fn write(path: &Path, note: &str) -> Result<(), RuntimeError> {
    tollgate_durable::write(path, note.as_bytes(), Access::Shared).map_err(|source| {
        RuntimeError::Write {
            what: "the checkpoint",
            path: path.to_path_buf(),
            source,
        }
    })
}
