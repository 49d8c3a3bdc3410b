//! The controller's running jobs, by name (UI thread): one job of a name at a time, every job's
//! events handed to its handler in one place each frame, a panicked job reported like a failure.

use std::sync::Arc;

use super::FabulaApp;
use crate::jobs::{self, JobContext, JobHandle, Poll, Waker};

/// Why a job did not start: a sentence for the status bar.
#[derive(Debug, thiserror::Error)]
pub(super) enum NotStarted {
    #[error("{0} is already under way.")]
    Running(String),
    #[error("A background task could not be started: {0}")]
    Thread(#[from] std::io::Error),
}

trait Running {
    fn name(&self) -> &str;
    /// Hands what the job sent to its handler; true once the job has ended.
    fn deliver(&mut self, app: &mut FabulaApp) -> bool;
    /// Its end handler, once it has left the registry.
    fn end(&mut self, app: &mut FabulaApp);
    fn cancel(&self);
}

struct Job<E> {
    handle: JobHandle<E>,
    /// What the user knows the job as ("The backup"), for "already under way".
    label: String,
    on_event: EventHandler<E>,
    on_end: Box<dyn FnMut(&mut FabulaApp)>,
}

/// What runs on the UI thread for each event a job sends.
type EventHandler<E> = Box<dyn FnMut(&mut FabulaApp, E)>;

impl<E: 'static> Running for Job<E> {
    fn name(&self) -> &str {
        self.handle.name()
    }

    fn deliver(&mut self, app: &mut FabulaApp) -> bool {
        let (events, ended) = match self.handle.poll() {
            Poll::Events(events) => (events, false),
            Poll::Finished(events) => (events, true),
            Poll::Panicked { events, .. } => {
                app.state.error(format!(
                    "{} stopped unexpectedly; it can be tried again.",
                    self.label
                ));
                (events, true)
            }
        };
        for event in events {
            (self.on_event)(app, event);
        }
        ended
    }

    fn end(&mut self, app: &mut FabulaApp) {
        (self.on_end)(app);
    }

    fn cancel(&self) {
        self.handle.cancel();
    }
}

#[derive(Default)]
pub(super) struct Registry {
    running: Vec<Box<dyn Running>>,
    /// Names of the jobs whose events are being handed out right now (taken out of `running`).
    delivering: Vec<String>,
}

impl Registry {
    pub(super) fn is_running(&self, name: &str) -> bool {
        self.running.iter().any(|j| j.name() == name) || self.delivering.iter().any(|n| n == name)
    }

    pub(super) fn cancel(&self, name: &str) {
        for job in self.running.iter().filter(|j| j.name() == name) {
            job.cancel();
        }
    }

    /// Starts `work` on a job thread named `name`, unless one of that name is running. Its events
    /// go to `on_event` on the UI thread, then `on_end` once it has ended.
    pub(super) fn start<E, F>(
        &mut self,
        name: &str,
        label: &str,
        waker: Arc<dyn Waker>,
        work: F,
        on_event: impl FnMut(&mut FabulaApp, E) + 'static,
        on_end: impl FnMut(&mut FabulaApp) + 'static,
    ) -> Result<(), NotStarted>
    where
        E: Send + 'static,
        F: FnOnce(&JobContext<E>) + Send + 'static,
    {
        if self.is_running(name) {
            return Err(NotStarted::Running(label.to_owned()));
        }
        let handle = jobs::spawn(name, waker, work)?;
        self.running.push(Box::new(Job {
            handle,
            label: label.to_owned(),
            on_event: Box::new(on_event),
            on_end: Box::new(on_end),
        }));
        Ok(())
    }
}

impl FabulaApp {
    /// Hands every job's events to its handler; ended jobs leave the registry.
    pub(super) fn deliver_job_events(&mut self) {
        let running = std::mem::take(&mut self.jobs.running);
        self.jobs.delivering = running.iter().map(|j| j.name().to_owned()).collect();
        let (mut kept, mut ended) = (Vec::new(), Vec::new());
        for mut job in running {
            if job.deliver(self) {
                ended.push(job);
            } else {
                kept.push(job);
            }
        }
        self.jobs.delivering.clear();
        // Jobs a handler started meanwhile were registered in the emptied list.
        kept.append(&mut self.jobs.running);
        self.jobs.running = kept;
        // After they left the registry, so an end handler may start the same job again.
        for mut job in ended {
            job.end(self);
        }
    }

    /// Whether a job of this name is running (for tests and a clean exit).
    pub fn is_job_running(&self, name: &str) -> bool {
        self.jobs.is_running(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Launch;
    use crate::jobs::NoWaker;
    use crate::storage::{DataPaths, Store};

    fn app() -> (tempfile::TempDir, FabulaApp) {
        let dir = tempfile::tempdir().expect("tmp");
        let paths = DataPaths {
            dir: dir.path().join("data"),
        };
        paths.ensure().expect("data dir");
        let store = Store::open(&paths.database());
        (dir, FabulaApp::new(paths, store, Launch::default()))
    }

    fn until_ended(app: &mut FabulaApp, name: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while app.is_job_running(name) {
            assert!(std::time::Instant::now() < deadline, "{name} never ended");
            std::thread::sleep(std::time::Duration::from_millis(2));
            app.deliver_job_events();
        }
    }

    #[test]
    fn one_job_of_a_name_at_a_time_and_every_event_handled_then_the_end() {
        let (_dir, mut app) = app();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let work = move |cx: &JobContext<u32>| {
            cx.send(1);
            let _ = wait.recv();
            cx.send(2);
        };
        let seen = |app: &mut FabulaApp, n: u32| app.state.sync.results.push(format!("got {n}"));
        let ended = |app: &mut FabulaApp| app.state.sync.results.push("ended".into());
        app.jobs
            .start("t", "The test", Arc::new(NoWaker), work, seen, ended)
            .expect("started");
        let again = app.jobs.start(
            "t",
            "The test",
            Arc::new(NoWaker),
            |_: &JobContext<u32>| {},
            seen,
            ended,
        );
        assert!(
            matches!(&again, Err(NotStarted::Running(label)) if label == "The test"),
            "{again:?}"
        );
        assert_eq!(
            again.map_err(|e| e.to_string()).err().as_deref(),
            Some("The test is already under way.")
        );
        go.send(()).expect("go");
        until_ended(&mut app, "t");
        assert_eq!(app.state.sync.results, ["got 1", "got 2", "ended"]);
        // Ended, so the name is free again.
        app.jobs
            .start(
                "t",
                "The test",
                Arc::new(NoWaker),
                |_: &JobContext<u32>| {},
                seen,
                ended,
            )
            .expect("started again");
        until_ended(&mut app, "t");
    }

    #[test]
    fn a_job_that_panics_is_reported_and_still_ended() {
        let (_dir, mut app) = app();
        app.jobs
            .start(
                "boom",
                "The test job",
                Arc::new(NoWaker),
                |_: &JobContext<u32>| panic!("on purpose"),
                |_, _| {},
                |app: &mut FabulaApp| app.state.sync.results.push("ended".into()),
            )
            .expect("started");
        until_ended(&mut app, "boom");
        assert_eq!(app.state.sync.results, ["ended"]);
        let status = app.state.status.clone().expect("said");
        assert_eq!(status.kind, crate::state::StatusKind::Error);
        assert!(
            status.text.starts_with("The test job stopped unexpectedly"),
            "{}",
            status.text
        );
    }
}
