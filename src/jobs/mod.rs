//! The only place threads start: named worker threads that report events over a channel,
//! wake the UI through the `Waker` seam, and stop when their cancel flag is raised.
// The home of thread starts, which clippy.toml keeps out of every other module.
#![allow(clippy::disallowed_methods)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// How engine code tells the UI that something arrived, without naming egui.
pub trait Waker: Send + Sync {
    fn wake(&self);
}

/// A waker for headless runs (CLI, tests) where nobody needs waking.
pub struct NoWaker;

impl Waker for NoWaker {
    fn wake(&self) {}
}

type CancelHook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct CancelInner {
    flag: AtomicBool,
    hooks: Mutex<Vec<CancelHook>>,
}

/// A cancel flag that can also act at once: blocking work (a socket read) registers a hook that
/// interrupts it, so cancelling does not wait for the next byte or a timeout.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<CancelInner>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        let hooks =
            std::mem::take(&mut *self.0.hooks.lock().unwrap_or_else(PoisonError::into_inner));
        for hook in hooks {
            hook();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    /// Runs `hook` when the token is cancelled, or right away if it already is.
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        let mut hooks = self.0.hooks.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock: `cancel` takes the hooks under it too, so none is missed.
        if self.is_cancelled() {
            drop(hooks);
            hook();
        } else {
            hooks.push(Box::new(hook));
        }
    }
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CancelToken(cancelled: {})", self.is_cancelled())
    }
}

/// What a job's closure gets: a way to report and a way to notice cancellation.
pub struct JobContext<E> {
    events: Sender<E>,
    cancel: CancelToken,
    waker: Arc<dyn Waker>,
}

impl<E> JobContext<E> {
    /// Sends an event and wakes the UI. Returns false once nobody listens any more.
    pub fn send(&self, event: E) -> bool {
        let delivered = self.events.send(event).is_ok();
        self.waker.wake();
        delivered
    }

    /// A callback that sends events from code that wants a `Fn` (e.g. a download's progress hook).
    pub fn progress_sender(&self) -> impl Fn(E) + Send + Sync + 'static
    where
        E: Send + 'static,
    {
        let events = self.events.clone();
        let waker = self.waker.clone();
        move |event| {
            let _ = events.send(event);
            waker.wake();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The job's cancel token, for blocking work that must be interrupted promptly.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }
}

impl<E> Clone for JobContext<E> {
    /// Another sender of the same job's events, for helper threads the job starts (`detach`).
    fn clone(&self) -> Self {
        Self {
            events: self.events.clone(),
            cancel: self.cancel.clone(),
            waker: self.waker.clone(),
        }
    }
}

/// A named thread nobody waits for: a job's helper that reports through a cloned `JobContext` and
/// ends by itself (a sync request being answered, say).
pub fn detach(name: &str, work: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("fabula-{name}"))
        .spawn(work)
        .map(drop)
}

/// Runs `beside` on a second thread while `here` runs on this one, and returns both results: for a
/// producer and a consumer joined by a bounded channel (a story parsed here while it is stored
/// there). `beside` must end once `here` has (its channel closes then). Without a second thread
/// `here` does not run and the error is returned.
pub fn alongside<A: Send, B>(
    name: &str,
    beside: impl FnOnce() -> A + Send,
    here: impl FnOnce() -> B,
) -> std::io::Result<(A, B)> {
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name(format!("fabula-{name}"))
            .spawn_scoped(scope, beside)?;
        let mine = here();
        match other.join() {
            Ok(theirs) => Ok((theirs, mine)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The controller's end of a running job.
pub struct JobHandle<E> {
    name: String,
    events: Receiver<E>,
    cancel: CancelToken,
    thread: Option<JoinHandle<()>>,
}

/// What `JobHandle::poll` found.
#[derive(Debug, PartialEq)]
pub enum Poll<E> {
    Events(Vec<E>),
    /// The thread ended; the events it sent last are included.
    Finished(Vec<E>),
    /// The thread panicked: the job's work did not complete.
    Panicked {
        name: String,
        events: Vec<E>,
    },
}

impl<E> JobHandle<E> {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits for the thread to leave the job's closure (cancel first, or this may wait long).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Takes every event sent so far without waiting.
    pub fn poll(&mut self) -> Poll<E> {
        let mut events = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(e) => events.push(e),
                Err(TryRecvError::Empty) => return Poll::Events(events),
                Err(TryRecvError::Disconnected) => break,
            }
        }
        // The sender is gone, so the thread has left the job's closure; joining is immediate.
        match self.thread.take().map(JoinHandle::join) {
            Some(Err(_)) => Poll::Panicked {
                name: self.name.clone(),
                events,
            },
            _ => Poll::Finished(events),
        }
    }
}

/// Starts `work` on a new named thread.
pub fn spawn<E, F>(name: &str, waker: Arc<dyn Waker>, work: F) -> std::io::Result<JobHandle<E>>
where
    E: Send + 'static,
    F: FnOnce(&JobContext<E>) + Send + 'static,
{
    let (tx, rx) = channel();
    let cancel = CancelToken::new();
    let context = JobContext {
        events: tx,
        cancel: cancel.clone(),
        waker: waker.clone(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("fabula-{name}"))
        .spawn(move || {
            work(&context);
            // Dropping the context closes the channel; wake the UI so it sees the end promptly.
            drop(context.events);
            context.waker.wake();
        })?;
    Ok(JobHandle {
        name: name.to_owned(),
        events: rx,
        cancel,
        thread: Some(thread),
    })
}

/// A named thread that calls `tick` every `period` until the value is dropped; dropping it stops
/// the thread and waits for a tick in progress, so nothing it does outlives its owner.
pub struct Periodic {
    stop: Arc<(Mutex<bool>, std::sync::Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Periodic {
    pub fn start(
        name: &str,
        period: std::time::Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fabula-{name}"))
            .spawn(move || {
                let (lock, wake) = &*signal;
                let mut stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
                loop {
                    let (guard, _) = wake
                        .wait_timeout(stopped, period)
                        .unwrap_or_else(PoisonError::into_inner);
                    stopped = guard;
                    if *stopped {
                        return;
                    }
                    drop(stopped);
                    tick();
                    stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    struct CountingWaker(AtomicUsize);
    impl Waker for CountingWaker {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn wait_until_done<E: std::fmt::Debug>(job: &mut JobHandle<E>) -> (Vec<E>, Poll<E>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        loop {
            match job.poll() {
                Poll::Events(mut e) => seen.append(&mut e),
                end => return (seen, end),
            }
            assert!(Instant::now() < deadline, "job did not finish");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn events_arrive_in_order_and_each_wakes_the_ui() {
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut job = spawn("count", waker.clone(), |cx| {
            for i in 0..5 {
                cx.send(i);
            }
        })
        .expect("spawn");
        let (mut seen, end) = wait_until_done(&mut job);
        match end {
            Poll::Finished(mut rest) => seen.append(&mut rest),
            other => panic!("unexpected end {other:?}"),
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
        assert!(
            waker.0.load(Ordering::SeqCst) >= 6,
            "five events and the end wake the UI"
        );
    }

    #[test]
    fn cancel_is_seen_by_the_job() {
        let mut job = spawn("loop", Arc::new(NoWaker), |cx: &JobContext<u32>| {
            let start = Instant::now();
            while !cx.is_cancelled() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(1));
            }
            cx.send(u32::from(cx.is_cancelled()));
        })
        .expect("spawn");
        job.cancel();
        let (mut seen, end) = wait_until_done(&mut job);
        if let Poll::Finished(mut rest) = end {
            seen.append(&mut rest);
        }
        assert_eq!(seen, vec![1], "the loop stopped because of the flag");
    }

    #[test]
    fn hooks_run_once_on_cancel_and_at_once_when_late() {
        let token = CancelToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        token.on_cancel(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        token.cancel();
        token.cancel();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "a hook runs once");
        let r = runs.clone();
        token.on_cancel(move || {
            r.fetch_add(10, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 11, "a late hook runs at once");
    }

    #[test]
    fn a_panicking_job_is_reported_not_propagated() {
        let mut job = spawn("boom", Arc::new(NoWaker), |cx: &JobContext<&str>| {
            cx.send("before");
            panic!("deliberate test panic");
        })
        .expect("spawn");
        let (seen, end) = wait_until_done(&mut job);
        match end {
            Poll::Panicked { name, events } => {
                assert_eq!(name, "boom");
                assert_eq!([seen, events].concat(), vec!["before"]);
            }
            other => panic!("expected a panic report, got {other:?}"),
        }
    }
}
