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
    fn end(&self, app: &mut FabulaApp);
    fn cancel(&self);
}

struct Job<E> {
    handle: JobHandle<E>,
    /// What the user knows the job as ("The backup"), for "already under way".
    label: String,
    on_event: fn(&mut FabulaApp, E),
    on_end: fn(&mut FabulaApp),
}

impl<E> Running for Job<E> {
    fn name(&self) -> &str {
        self.handle.name()
    }

    fn deliver(&mut self, app: &mut FabulaApp) -> bool {
        let (events, ended) = match self.handle.poll() {
            Poll::Events(events) => (events, false),
            Poll::Finished(events) => (events, true),
            Poll::Panicked { events, .. } => {
                app.state.error(format!(
                    "{} stopped unexpectedly; nothing was lost, and it can be tried again.",
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

    fn end(&self, app: &mut FabulaApp) {
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
        on_event: fn(&mut FabulaApp, E),
        on_end: fn(&mut FabulaApp),
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
            on_event,
            on_end,
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
        for job in ended {
            job.end(self);
        }
    }

    /// Whether a job of this name is running (for tests and a clean exit).
    pub fn is_job_running(&self, name: &str) -> bool {
        self.jobs.is_running(name)
    }
}
