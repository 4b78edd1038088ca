//! `amlip._amlip`: the Python binding of [`amlip::node`] (the `amlip` Python package re-exports
//! it; `amlip_py` is the AML-IP-shaped layer on top, in pure Python).
//!
//! Every blocking call releases the GIL and waits in short slices, checking for signals between
//! them, so Ctrl-C interrupts it. A Python job function runs on the node's worker threads with the
//! GIL held only for the call.
//!
//! A job function that raises fails its job: the node answers it with a failed solution whose
//! reason is the exception's type and message ([`RsComputing::try_run_jobs`]; the traceback goes
//! to the `amlip` logger). The main node offers the job again, preferring other computing nodes,
//! and after its last attempt reports it failed: `request_job_solution` raises [`JobFailed`], a
//! pipelined `Solution` has `failed` set.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use amlip::multiservice::{MsRequest, Status as RsStatus, TaskId};
use amlip::node::{
    ComputingNode as RsComputing, MainNode as RsMain, NodeError, NodeOptions,
    Solution as RsSolution, StatusNode as RsStatusNode,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTimeoutError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

create_exception!(
    _amlip,
    AmlipError,
    PyRuntimeError,
    "A node operation failed (DDS error, node shut down, ...)."
);

create_exception!(
    _amlip,
    JobFailed,
    AmlipError,
    "A job failed on every attempt: attributes task_id, server_id (the computing node of the \
     last attempt), attempts, reason (its exception type and message)."
);

/// How long a blocked call waits before it looks for signals (Ctrl-C) again.
const SLICE: Duration = Duration::from_millis(50);
/// How long a waiting caller polls for an answer before it blocks (the wake-up of a blocked
/// thread costs tens of microseconds; a zero-work job answers within this).
const SPIN: Duration = Duration::from_micros(300);
/// AML-IP's default domain.
const DEFAULT_DOMAIN: u32 = 166;
/// Longest the interpreter's exit waits for computing nodes to finish their jobs.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// What the interpreter's exit must stop: a thread still in a node when the interpreter
/// finalizes would be killed inside Rust code (the process aborts).
struct Live {
    /// (stop, busy) of every computing node.
    computing: Vec<(Weak<AtomicBool>, Weak<AtomicBool>)>,
    /// The solution routers of every main node (their callback thread is ended).
    routers: Vec<Weak<Router>>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    computing: Vec::new(),
    routers: Vec::new(),
});

/// Registered with `atexit` by the `amlip` package: stop every computing node, wait (up to
/// `EXIT_GRACE`) for their jobs in progress, and end the solution callback threads.
#[pyfunction]
fn _shutdown(py: Python<'_>) {
    let (computing, routers) = {
        let mut live = lock(&LIVE);
        live.computing.retain(|(s, _)| s.strong_count() > 0);
        live.routers.retain(|r| r.strong_count() > 0);
        (live.computing.clone(), live.routers.clone())
    };
    for r in routers.iter().filter_map(Weak::upgrade) {
        lock(&r.routes).callback = None;
    }
    let busy: Vec<Arc<AtomicBool>> = computing
        .iter()
        .filter_map(|(stop, busy)| {
            stop.upgrade()?.store(true, Ordering::Release);
            busy.upgrade()
        })
        .collect();
    py.allow_threads(move || {
        let deadline = now() + EXIT_GRACE;
        while busy.iter().any(|b| b.load(Ordering::Acquire)) && now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // The threads that were waiting return to Python code meanwhile.
        std::thread::sleep(SLICE);
    });
}

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn node_err(e: NodeError) -> PyErr {
    match e {
        NodeError::Timeout => PyTimeoutError::new_err("timed out"),
        NodeError::InvalidName(e) => PyValueError::new_err(format!("invalid node name: {e}")),
        e => {
            // The message with its causes (an OS error under a bind failure, ...).
            let mut msg = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                msg.push_str(": ");
                msg.push_str(&c.to_string());
                cause = c.source();
            }
            AmlipError::new_err(msg)
        }
    }
}

fn closed() -> PyErr {
    AmlipError::new_err("the node is closed")
}

fn options(domain: u32, interface: &str, multicast: bool) -> PyResult<NodeOptions> {
    let interface: Ipv4Addr = interface
        .parse()
        .map_err(|_| PyValueError::new_err(format!("not an IPv4 address: {interface:?}")))?;
    Ok(NodeOptions::default()
        .domain(domain)
        .interface(interface)
        .multicast(multicast))
}

/// The bytes of a job or solution: `bytes`, `bytearray`, `str` (UTF-8), or anything `bytes()`
/// accepts (a `memoryview`, an object with `__bytes__`).
fn to_bytes(v: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = v.downcast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = v.downcast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(s) = v.downcast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if v.is_none() {
        return Err(PyTypeError::new_err(
            "a job or solution must be bytes or str, not None",
        ));
    }
    let b = v.py().get_type::<PyBytes>().call1((v,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "a job or solution must be bytes or str, not {}",
            v.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    Ok(b.downcast::<PyBytes>()?.as_bytes().to_vec())
}

/// Log `err` with its traceback on the `amlip` logger.
fn log_exception(py: Python<'_>, msg: &str, err: &PyErr) {
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .getattr("getLogger")?
            .call1(("amlip",))?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("exc_info", err.clone_ref(py).into_value(py))?;
        logger.call_method("error", (msg,), Some(&kwargs))?;
        Ok(())
    })();
    if logged.is_err() {
        err.clone_ref(py).print(py);
    }
}

/// How long to wait before looking for signals again; `None` once `deadline` has passed.
fn next_slice(deadline: Option<Instant>) -> Option<Duration> {
    match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(now());
            (!left.is_zero()).then(|| left.min(SLICE))
        }
        None => Some(SLICE),
    }
}

/// Wait on `rx` until `deadline` (or forever), releasing the GIL, polling for `SPIN` first and
/// checking for signals every `SLICE`. `Ok(None)` on timeout.
fn wait<T: Send>(
    py: Python<'_>,
    rx: Receiver<T>,
    deadline: Option<Instant>,
) -> (PyResult<Option<T>>, Receiver<T>) {
    let (got, rx) = py.allow_threads(move || {
        let spin_until = now() + SPIN;
        loop {
            match rx.try_recv() {
                Ok(v) => return (Some(Ok(v)), rx),
                Err(mpsc::TryRecvError::Disconnected) => return (Some(Err(())), rx),
                Err(mpsc::TryRecvError::Empty) if now() < spin_until => std::thread::yield_now(),
                Err(mpsc::TryRecvError::Empty) => return (None, rx),
            }
        }
    });
    match got {
        Some(Ok(v)) => return (Ok(Some(v)), rx),
        Some(Err(())) => return (Err(closed()), rx),
        None => {}
    }
    let mut rx = rx;
    loop {
        let Some(slice) = next_slice(deadline) else {
            return (Ok(None), rx);
        };
        let (r, back) = py.allow_threads(move || (rx.recv_timeout(slice), rx));
        rx = back;
        match r {
            Ok(v) => return (Ok(Some(v)), rx),
            Err(RecvTimeoutError::Disconnected) => return (Err(closed()), rx),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    return (Err(e), rx);
                }
            }
        }
    }
}

fn deadline_of(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    match timeout {
        None => Ok(None),
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(now() + Duration::from_secs_f64(t))),
        Some(t) => Err(PyValueError::new_err(format!("bad timeout: {t}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// MainNode

/// A job's solution (from `MainNode.submit`).
#[pyclass(frozen, module = "amlip")]
struct Solution {
    /// The task id `submit` returned.
    #[pyo3(get)]
    task_id: u32,
    /// The computing node that solved it (`name.hh.hh.hh.hh`).
    #[pyo3(get)]
    server_id: String,
    solution: Vec<u8>,
    /// Seconds from submission (or re-issue after a lost computing node) to the solution.
    #[pyo3(get)]
    latency: f64,
    /// The job failed on its last attempt: `solution` is the reason (see `MainNode.max_attempts`).
    #[pyo3(get)]
    failed: bool,
    /// Attempts made (1 unless computing nodes failed the job before).
    #[pyo3(get)]
    attempts: u32,
}

#[pymethods]
impl Solution {
    /// The solution bytes.
    #[getter]
    fn solution<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.solution)
    }

    /// The failure reason (`ExcType: message`) of a failed job, else `None`.
    #[getter]
    fn reason(&self) -> Option<String> {
        self.failed
            .then(|| String::from_utf8_lossy(&self.solution).into_owned())
    }

    fn __repr__(&self) -> String {
        format!(
            "Solution(task_id={}, server_id={:?}, solution={:?}{})",
            self.task_id,
            self.server_id,
            String::from_utf8_lossy(&self.solution),
            if self.failed {
                format!(", failed=True, attempts={}", self.attempts)
            } else {
                String::new()
            }
        )
    }
}

impl From<RsSolution> for Solution {
    fn from(s: RsSolution) -> Self {
        Solution {
            task_id: s.task.0,
            server_id: s.server.to_string(),
            solution: s.solution,
            latency: s.latency.as_secs_f64(),
            failed: s.failed,
            attempts: s.attempts,
        }
    }
}

/// [`JobFailed`] for a failed solution, with its attributes.
fn job_failed(py: Python<'_>, s: RsSolution) -> PyErr {
    let (task, attempts, server) = (s.task.0, s.attempts, s.server.to_string());
    let reason = String::from_utf8_lossy(&s.solution).into_owned();
    let err = JobFailed::new_err(
        NodeError::JobFailed {
            server: s.server,
            attempts,
            reason: reason.clone(),
        }
        .to_string(),
    );
    let v = err.value(py);
    let set = v
        .setattr("task_id", task)
        .and_then(|()| v.setattr("server_id", server))
        .and_then(|()| v.setattr("attempts", attempts))
        .and_then(|()| v.setattr("reason", reason));
    match set {
        Ok(()) => err,
        Err(e) => e,
    }
}

/// Where the node's solutions go: a blocked `request_job_solution`, the callback thread, or the
/// queue `next_solution` reads.
struct Routes {
    waiters: HashMap<TaskId, Sender<RsSolution>>,
    /// `request_job_solution` calls between their submit and their waiter's registration: a
    /// solution that comes meanwhile without a waiter is kept in `early`.
    syncing: usize,
    early: Vec<RsSolution>,
    callback: Option<Sender<RsSolution>>,
    queue: Sender<RsSolution>,
}

impl Routes {
    fn route(&mut self, s: RsSolution) {
        if let Some(w) = self.waiters.remove(&s.task) {
            let _ = w.send(s);
        } else if self.syncing > 0 {
            self.early.push(s);
        } else if let Some(cb) = &self.callback {
            if let Err(mpsc::SendError(s)) = cb.send(s) {
                self.callback = None;
                let _ = self.queue.send(s);
            }
        } else {
            let _ = self.queue.send(s);
        }
    }
}

struct Router {
    routes: Mutex<Routes>,
    queue: Mutex<Option<Receiver<RsSolution>>>,
}

/// A main node: sends jobs to computing nodes and gets their solutions.
///
/// `MainNode(name, domain=166, interface="127.0.0.1", multicast=True, max_attempts=3)`: a job
/// whose function raises on a computing node is offered again (preferring other computing
/// nodes) up to `max_attempts` times in all, then reported failed.
#[pyclass(frozen, module = "amlip")]
struct MainNode {
    inner: Mutex<Option<Arc<RsMain>>>,
    router: Arc<Router>,
    id: String,
}

impl MainNode {
    fn node(&self) -> PyResult<Arc<RsMain>> {
        lock(&self.inner).clone().ok_or_else(closed)
    }
}

#[pymethods]
impl MainNode {
    #[new]
    #[pyo3(signature = (
        name, domain = DEFAULT_DOMAIN, interface = "127.0.0.1", multicast = true,
        max_attempts = None
    ))]
    fn new(
        py: Python<'_>,
        name: &str,
        domain: u32,
        interface: &str,
        multicast: bool,
        max_attempts: Option<u32>,
    ) -> PyResult<Self> {
        let opts = options(domain, interface, multicast)?;
        let name = name.to_owned();
        let node = py
            .allow_threads(move || RsMain::new(&name, opts))
            .map_err(node_err)?;
        if let Some(n) = max_attempts {
            node.set_max_attempts(n).map_err(node_err)?;
        }
        let (tx, rx) = mpsc::channel();
        let router = Arc::new(Router {
            routes: Mutex::new(Routes {
                waiters: HashMap::new(),
                syncing: 0,
                early: Vec::new(),
                callback: None,
                queue: tx,
            }),
            queue: Mutex::new(Some(rx)),
        });
        let r = Arc::clone(&router);
        node.on_solution(move |s| lock(&r.routes).route(s));
        lock(&LIVE).routers.push(Arc::downgrade(&router));
        Ok(MainNode {
            id: node.id().to_string(),
            inner: Mutex::new(Some(Arc::new(node))),
            router,
        })
    }

    /// This node's id (`name.hh.hh.hh.hh`).
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// Attempts per job before it is reported failed (default 3; kept within 1 to 100).
    fn set_max_attempts(&self, py: Python<'_>, attempts: u32) -> PyResult<()> {
        let node = self.node()?;
        py.allow_threads(move || node.set_max_attempts(attempts))
            .map_err(node_err)
    }

    /// Send a job (bytes or str) and wait for its solution; returns `(solution: bytes,
    /// server_id: str)`. Waits for a computing node to appear if there is none yet. With
    /// `timeout` (seconds), the job is cancelled and `TimeoutError` raised when it passes;
    /// Ctrl-C cancels it too. A job that failed on every attempt raises `JobFailed`.
    #[pyo3(signature = (job, timeout = None))]
    fn request_job_solution<'py>(
        &self,
        py: Python<'py>,
        job: &Bound<'py, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<(Bound<'py, PyBytes>, String)> {
        let job = to_bytes(job)?;
        let deadline = deadline_of(timeout)?;
        let node = self.node()?;
        let (tx, rx) = mpsc::channel();
        lock(&self.router.routes).syncing += 1;
        let submitted = {
            let node = Arc::clone(&node);
            py.allow_threads(move || node.submit(job))
        };
        let task = {
            let mut routes = lock(&self.router.routes);
            routes.syncing -= 1;
            let early = std::mem::take(&mut routes.early);
            let mut own = None;
            for s in early {
                if submitted.as_ref().is_ok_and(|t| *t == s.task) {
                    own = Some(s);
                } else if routes.syncing > 0 {
                    routes.early.push(s);
                } else {
                    routes.route(s);
                }
            }
            let task = submitted.map_err(node_err)?;
            match own {
                Some(s) => {
                    let _ = tx.send(s);
                }
                None => {
                    routes.waiters.insert(task, tx);
                }
            }
            task
        };
        let (r, rx) = wait(py, rx, deadline);
        let got = match r {
            Ok(Some(s)) => Some(s),
            r => {
                lock(&self.router.routes).waiters.remove(&task);
                py.allow_threads(|| node.cancel(task));
                // The solution may have raced the cancel.
                match rx.try_recv() {
                    Ok(s) => Some(s),
                    Err(_) => {
                        r?;
                        return Err(PyTimeoutError::new_err(format!(
                            "no solution for task {task} in time; job cancelled"
                        )));
                    }
                }
            }
        };
        let s = got.ok_or_else(closed)?;
        if s.failed {
            return Err(job_failed(py, s));
        }
        Ok((PyBytes::new(py, &s.solution), s.server.to_string()))
    }

    /// Send a job without waiting; returns its task id. Its solution goes to the `on_solution`
    /// callback, or else to `next_solution` / `solutions()`.
    fn submit(&self, py: Python<'_>, job: &Bound<'_, PyAny>) -> PyResult<u32> {
        let job = to_bytes(job)?;
        let node = self.node()?;
        let t = py
            .allow_threads(move || node.submit(job))
            .map_err(node_err)?;
        Ok(t.0)
    }

    /// The next solution of a submitted job (a `Solution`), waiting up to `timeout` seconds
    /// (forever by default); `TimeoutError` if none came.
    #[pyo3(signature = (timeout = None))]
    fn next_solution(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Solution> {
        let deadline = deadline_of(timeout)?;
        let rx = lock(&self.router.queue)
            .take()
            .ok_or_else(|| AmlipError::new_err("another thread is reading the solutions"))?;
        let (r, rx) = wait(py, rx, deadline);
        *lock(&self.router.queue) = Some(rx);
        match r? {
            Some(s) => Ok(s.into()),
            None => Err(PyTimeoutError::new_err("no solution in time")),
        }
    }

    /// An iterator over the solutions of submitted jobs (blocks for each; Ctrl-C stops it).
    fn solutions(slf: Py<Self>) -> Solutions {
        Solutions { node: slf }
    }

    /// Call `callback(solution: Solution)` for every solution of a submitted job, on a thread
    /// of the node's (`None`: back to `next_solution`). An exception in it is logged.
    #[pyo3(signature = (callback))]
    fn on_solution(&self, callback: Option<PyObject>) -> PyResult<()> {
        let Some(cb) = callback else {
            lock(&self.router.routes).callback = None;
            return Ok(());
        };
        let (tx, rx) = mpsc::channel::<RsSolution>();
        std::thread::Builder::new()
            .name("amlip-py-solutions".into())
            .spawn(move || {
                while let Ok(s) = rx.recv() {
                    Python::with_gil(|py| {
                        let s = match Py::new(py, Solution::from(s)) {
                            Ok(s) => s,
                            Err(e) => return log_exception(py, "solution not delivered", &e),
                        };
                        if let Err(e) = cb.call1(py, (s,)) {
                            log_exception(py, "the solution callback raised", &e);
                        }
                    });
                }
            })
            .map_err(|e| AmlipError::new_err(format!("no callback thread: {e}")))?;
        lock(&self.router.routes).callback = Some(tx);
        Ok(())
    }

    /// Abandon a submitted job; False if it was not pending.
    fn cancel(&self, py: Python<'_>, task_id: u32) -> PyResult<bool> {
        let node = self.node()?;
        Ok(py.allow_threads(move || node.cancel(TaskId(task_id))))
    }

    /// Jobs submitted and not yet solved or cancelled.
    #[getter]
    fn in_flight(&self) -> PyResult<usize> {
        Ok(self.node()?.in_flight())
    }

    /// Computing nodes currently matched.
    #[getter]
    fn computing_nodes(&self) -> PyResult<usize> {
        Ok(self.node()?.computing_nodes())
    }

    /// Leave the domain (pending jobs are cancelled; a waiting `request_job_solution` raises
    /// `AmlipError`). Also done when the object is collected.
    fn close(&self, py: Python<'_>) {
        let node = lock(&self.inner).take();
        py.allow_threads(move || drop(node));
        lock(&self.router.routes).waiters.clear();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<PyObject>,
        _v: Option<PyObject>,
        _tb: Option<PyObject>,
    ) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("MainNode({:?})", self.id)
    }
}

/// Iterator of `MainNode.solutions()`.
#[pyclass(module = "amlip")]
struct Solutions {
    node: Py<MainNode>,
}

#[pymethods]
impl Solutions {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Solution> {
        self.node.get().next_solution(py, None)
    }
}

// ---------------------------------------------------------------------------------------------
// ComputingNode

/// Longest reason (bytes) a failed job is answered with: the exception's type and message.
const MAX_REASON: usize = 1024;

/// `ExcType: message` of a job function's exception, at most [`MAX_REASON`] bytes.
fn reason_of(py: Python<'_>, e: &PyErr) -> String {
    let ty = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let msg = e.value(py).str().map(|s| s.to_string()).unwrap_or_default();
    let mut reason = if msg.is_empty() {
        ty
    } else {
        format!("{ty}: {msg}")
    };
    if reason.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

/// What the workers of one `run` / `process_job` share.
struct Serving {
    f: PyObject,
    /// Call `f(job, task_id, client_id)` instead of `f(job)`.
    with_task: bool,
    /// Jobs solved (failed ones not counted).
    answered: AtomicU64,
    failures: Arc<AtomicU64>,
    /// `process_job`: the client of its job (returned).
    first_client: Mutex<Option<String>>,
    /// `process_job`: the exception of its job function (re-raised).
    error: Mutex<Option<PyErr>>,
    single: bool,
}

impl Serving {
    /// The engine: the job function's exception is the job's failure reason.
    fn call(&self, task: MsRequest, job: &[u8]) -> Result<Vec<u8>, String> {
        if self.single {
            lock(&self.first_client).get_or_insert_with(|| task.client_id.to_string());
        }
        Python::with_gil(|py| {
            let job = PyBytes::new(py, job);
            let out = if self.with_task {
                let client = task.client_id.to_string();
                self.f.call1(py, (job, task.task_id.0, client))
            } else {
                self.f.call1(py, (job,))
            };
            match out.and_then(|o| to_bytes(o.bind(py))) {
                Ok(v) => {
                    self.answered.fetch_add(1, Ordering::AcqRel);
                    Ok(v)
                }
                Err(e) => {
                    let reason = reason_of(py, &e);
                    log_exception(
                        py,
                        &format!(
                            "the job function raised on task {} of {}: the job is \
                             answered as failed (its main node offers it again, or reports \
                             it failed after its last attempt)",
                            task.task_id, task.client_id
                        ),
                        &e,
                    );
                    self.failures.fetch_add(1, Ordering::AcqRel);
                    if self.single {
                        lock(&self.error).get_or_insert(e);
                    }
                    Err(reason)
                }
            }
        })
    }
}

/// A computing node: answers jobs with a Python function `fn(job: bytes) -> bytes | str`.
///
/// `ComputingNode(name, domain=166, interface="127.0.0.1", multicast=True)`
#[pyclass(frozen, module = "amlip")]
struct ComputingNode {
    inner: Mutex<Option<Arc<RsComputing>>>,
    id: String,
    stop: Arc<AtomicBool>,
    busy: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
}

/// What `serve` returns: jobs the node answered (failed ones included), the `Serving` state.
type Served = (u64, Arc<Serving>);

impl ComputingNode {
    fn serve(
        &self,
        py: Python<'_>,
        s: Serving,
        concurrency: usize,
        timeout: Option<f64>,
    ) -> PyResult<Served> {
        let deadline = deadline_of(timeout)?;
        if self.busy.swap(true, Ordering::AcqRel) {
            return Err(AmlipError::new_err(
                "this computing node is already processing",
            ));
        }
        let r = self.serve_busy(py, s, concurrency, deadline);
        self.busy.store(false, Ordering::Release);
        r
    }

    fn serve_busy(
        &self,
        py: Python<'_>,
        s: Serving,
        concurrency: usize,
        deadline: Option<Instant>,
    ) -> PyResult<Served> {
        let node = lock(&self.inner).clone().ok_or_else(closed)?;
        let max_jobs = s.single.then_some(1);
        self.stop.store(false, Ordering::Release);
        let serving = Arc::new(s);
        let (done_tx, mut done_rx) = mpsc::channel::<Result<u64, NodeError>>();
        {
            let (s, stop) = (Arc::clone(&serving), Arc::clone(&self.stop));
            std::thread::Builder::new()
                .name("amlip-py-computing".into())
                .spawn(move || {
                    let r = node.try_run_jobs(&stop, concurrency.max(1), max_jobs, |task, job| {
                        s.call(task, job)
                    });
                    let _ = done_tx.send(r);
                })
                .map_err(|e| AmlipError::new_err(format!("no worker thread: {e}")))?;
        }
        let mut interrupted: Option<PyErr> = None;
        let mut timed_out = false;
        let done = loop {
            let d = if interrupted.is_some() || timed_out {
                None
            } else {
                deadline
            };
            let (r, rx) = wait(py, done_rx, d);
            done_rx = rx;
            match r {
                Ok(Some(r)) => break r,
                Ok(None) => {
                    timed_out = true;
                    self.stop.store(true, Ordering::Release);
                }
                Err(e) if e.is_instance_of::<AmlipError>(py) => return Err(e), // worker gone
                Err(e) => {
                    // Ctrl-C: stop and let the jobs in progress finish; a second one returns
                    // at once.
                    self.stop.store(true, Ordering::Release);
                    if interrupted.is_some() {
                        return Err(e);
                    }
                    interrupted = Some(e);
                }
            }
        };
        if let Some(e) = interrupted {
            return Err(e);
        }
        let n = done.map_err(node_err)?;
        if serving.single && n == 0 && timed_out {
            return Err(PyTimeoutError::new_err("no job in time"));
        }
        Ok((n, serving))
    }

    fn serving(&self, f: PyObject, with_task: bool, single: bool) -> Serving {
        Serving {
            f,
            with_task,
            answered: AtomicU64::new(0),
            failures: Arc::clone(&self.failures),
            first_client: Mutex::new(None),
            error: Mutex::new(None),
            single,
        }
    }
}

#[pymethods]
impl ComputingNode {
    #[new]
    #[pyo3(signature = (name, domain = DEFAULT_DOMAIN, interface = "127.0.0.1", multicast = true))]
    fn new(
        py: Python<'_>,
        name: &str,
        domain: u32,
        interface: &str,
        multicast: bool,
    ) -> PyResult<Self> {
        let opts = options(domain, interface, multicast)?;
        let name = name.to_owned();
        let node = py
            .allow_threads(move || RsComputing::new(&name, opts))
            .map_err(node_err)?;
        let (stop, busy) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        lock(&LIVE)
            .computing
            .push((Arc::downgrade(&stop), Arc::downgrade(&busy)));
        Ok(ComputingNode {
            id: node.id().to_string(),
            inner: Mutex::new(Some(Arc::new(node))),
            stop,
            busy,
            failures: Arc::new(AtomicU64::new(0)),
        })
    }

    /// This node's id (`name.hh.hh.hh.hh`).
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// Jobs whose function raised, since the node was created.
    #[getter]
    fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// Answer exactly one job with `fn(job: bytes) -> bytes | str` (with `with_task=True`:
    /// `fn(job, task_id: int, client_id: str)`); returns the id of the main node that sent it.
    /// Blocks until a job comes, or `timeout` seconds: `TimeoutError`. If `fn` raises, the job
    /// is answered as failed (its main node offers it again or reports it failed) and the
    /// exception is logged and raised here.
    #[pyo3(signature = (r#fn, timeout = None, with_task = false))]
    fn process_job(
        &self,
        py: Python<'_>,
        r#fn: PyObject,
        timeout: Option<f64>,
        with_task: bool,
    ) -> PyResult<Option<String>> {
        let (_, s) = self.serve(py, self.serving(r#fn, with_task, true), 1, timeout)?;
        if let Some(e) = lock(&s.error).take() {
            return Err(e);
        }
        let client = lock(&s.first_client).take();
        Ok(client)
    }

    /// Answer jobs with `fn(job: bytes) -> bytes | str` (with `with_task=True`: `fn(job,
    /// task_id: int, client_id: str)`), up to `concurrency` at once on as many threads, until
    /// `stop()`, Ctrl-C or `timeout` seconds (jobs in progress are finished); returns how many
    /// were solved. A job whose `fn` raises is logged and answered as failed (its main node
    /// offers it again, or reports it failed after its last attempt); serving goes on.
    #[pyo3(signature = (r#fn, concurrency = 1, timeout = None, with_task = false))]
    fn run(
        &self,
        py: Python<'_>,
        r#fn: PyObject,
        concurrency: usize,
        timeout: Option<f64>,
        with_task: bool,
    ) -> PyResult<u64> {
        let (_, s) = self.serve(
            py,
            self.serving(r#fn, with_task, false),
            concurrency,
            timeout,
        )?;
        Ok(s.answered.load(Ordering::Acquire))
    }

    /// Make `run` / `process_job` return (from any thread, or from the job function).
    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Leave the domain. Also done when the object is collected.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.busy.load(Ordering::Acquire) {
            return Err(AmlipError::new_err(
                "the node is processing: stop() it first",
            ));
        }
        let node = lock(&self.inner).take();
        py.allow_threads(move || drop(node));
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<PyObject>,
        _v: Option<PyObject>,
        _tb: Option<PyObject>,
    ) -> PyResult<bool> {
        self.stop();
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("ComputingNode({:?})", self.id)
    }
}

// ---------------------------------------------------------------------------------------------
// StatusNode

/// A node's status: `id`, `kind` ("main", "computing", ...), `state` ("running", "stopped",
/// "dropped", ...), and their numeric values `kind_value`, `state_value`.
#[pyclass(frozen, module = "amlip")]
struct Status {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    kind: String,
    #[pyo3(get)]
    state: String,
    #[pyo3(get)]
    kind_value: u32,
    #[pyo3(get)]
    state_value: u32,
}

#[pymethods]
impl Status {
    fn __repr__(&self) -> String {
        format!(
            "Status(id={:?}, kind={:?}, state={:?})",
            self.id, self.kind, self.state
        )
    }
}

impl From<RsStatus> for Status {
    fn from(s: RsStatus) -> Self {
        Status {
            id: s.id.to_string(),
            kind: s.node_kind.to_string(),
            state: s.state.to_string(),
            kind_value: s.node_kind.0,
            state_value: s.state.0,
        }
    }
}

/// A status node: the statuses of every node in the domain. Iterate it (blocks; Ctrl-C stops)
/// or call `next(timeout)`.
///
/// `StatusNode(name, domain=166, interface="127.0.0.1", multicast=True)`
#[pyclass(frozen, module = "amlip")]
struct StatusNode {
    inner: Mutex<Option<Arc<RsStatusNode>>>,
    id: String,
}

#[pymethods]
impl StatusNode {
    #[new]
    #[pyo3(signature = (name, domain = DEFAULT_DOMAIN, interface = "127.0.0.1", multicast = true))]
    fn new(
        py: Python<'_>,
        name: &str,
        domain: u32,
        interface: &str,
        multicast: bool,
    ) -> PyResult<Self> {
        let opts = options(domain, interface, multicast)?;
        let name = name.to_owned();
        let node = py
            .allow_threads(move || RsStatusNode::new(&name, opts))
            .map_err(node_err)?;
        Ok(StatusNode {
            id: node.id().to_string(),
            inner: Mutex::new(Some(Arc::new(node))),
        })
    }

    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// The next status, waiting up to `timeout` seconds (forever by default); `None` if none
    /// came in time.
    #[pyo3(signature = (timeout = None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Status>> {
        let deadline = deadline_of(timeout)?;
        let node = lock(&self.inner).clone().ok_or_else(closed)?;
        loop {
            let Some(slice) = next_slice(deadline) else {
                return Ok(None);
            };
            let n = Arc::clone(&node);
            match py.allow_threads(move || n.recv_timeout(slice)) {
                Ok(s) => return Ok(Some(s.into())),
                Err(NodeError::Timeout) => py.check_signals()?,
                Err(e) => return Err(node_err(e)),
            }
        }
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Status>> {
        self.next(py, None)
    }

    fn close(&self, py: Python<'_>) {
        let node = lock(&self.inner).take();
        py.allow_threads(move || drop(node));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<PyObject>,
        _v: Option<PyObject>,
        _tb: Option<PyObject>,
    ) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("StatusNode({:?})", self.id)
    }
}

/// The Rust module `amlip._amlip`.
#[pymodule]
fn _amlip(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MainNode>()?;
    m.add_class::<ComputingNode>()?;
    m.add_class::<StatusNode>()?;
    m.add_class::<Solution>()?;
    m.add_class::<Solutions>()?;
    m.add_class::<Status>()?;
    m.add("AmlipError", m.py().get_type::<AmlipError>())?;
    m.add("JobFailed", m.py().get_type::<JobFailed>())?;
    m.add("DEFAULT_DOMAIN", DEFAULT_DOMAIN)?;
    m.add_function(wrap_pyfunction!(_shutdown, m)?)?;
    Ok(())
}
