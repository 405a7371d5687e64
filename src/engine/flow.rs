//! Running a flow: one virtual user's session, its steps sent in order on the slot's connection,
//! each step's variables rendered from the iteration's values and what earlier steps captured.
//!
//! Each step is recorded under its own entry (`flow/step`) and the whole session under the
//! flow's entry. Timing: the first step, like any request, is measured from its intended start
//! in the open model (coordinated omission corrected); later steps from when they were sent,
//! since their start is set by the session, not by the schedule. The flow's latency runs from
//! the first step's measured start to the last response, think times included: it is what a
//! user of the session waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Uri};

use super::schedule::Job;
use super::worker::{
    check, record, send, ConnCell, Entry, Guard, LaneCtx, PreparedRequest, Recorded,
};
use crate::conformance::differential::{curl, CurlTarget};
use crate::proto::Transport;
use crate::record::errors::{ErrorClass, RequestError};
use crate::scenario::flow::{Flow, Flows, Step};

/// What a lane needs to run flows.
pub struct FlowCtx {
    /// The scenario's flows and variables.
    pub flows: Arc<Flows>,
    /// `scheme://authority/base`, before each step's rendered path.
    pub prefix: String,
    /// The scenario's seed: data rows and generators are drawn from it.
    pub seed: u64,
    /// Iterations begun on this lane, over all its threads: iteration k takes the k-th row.
    pub iterations: AtomicU64,
    /// How `curl` reaches the lane's path, for a failed step's reproducer.
    pub curl: CurlTarget<'static>,
    /// Request names, by index, for a failed step's message.
    pub names: Vec<String>,
}

/// One step's request with the iteration's values filled in.
struct Rendered {
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Rendered {
    fn build(&self, req: &PreparedRequest) -> http::Request<Bytes> {
        let mut r = http::Request::new(self.body.clone());
        *r.method_mut() = req.method.clone();
        *r.uri_mut() = self.uri.clone();
        *r.headers_mut() = self.headers.clone();
        r
    }

    fn curl(&self, t: &CurlTarget<'_>, req: &PreparedRequest) -> String {
        curl(
            t,
            req.method.as_str(),
            &self.uri.to_string(),
            &self.headers,
            &self.body,
        )
    }
}

fn template_error(what: &str, why: impl std::fmt::Display) -> RequestError {
    RequestError::new(
        ErrorClass::Capture,
        format!("template:{what}"),
        format!("the {what} with this iteration's values is not valid: {why}"),
    )
}

/// The step with the iteration's values, and whether it can be sent: a value that cannot go on
/// the wire (a captured value with a line break, say) fails the step before anything is sent,
/// and the request keeps its template there, for the reproducer.
fn render(
    fc: &FlowCtx,
    req: &PreparedRequest,
    step: &Step,
    vars: &[String],
) -> (Rendered, Result<(), RequestError>) {
    let mut ready = Ok(());
    let uri = match format!("{}{}", fc.prefix, step.path.render(vars)).parse::<Uri>() {
        Ok(u) => u,
        Err(e) => {
            ready = Err(template_error("path", e));
            req.uri.clone()
        }
    };
    let mut headers = req.headers.clone();
    for (name, t) in &step.headers {
        match HeaderValue::from_str(&t.render(vars)) {
            Ok(v) => {
                headers.append(name.clone(), v);
            }
            Err(e) => ready = ready.and(Err(template_error("header", e))),
        }
    }
    let body = step
        .body
        .as_ref()
        .map_or_else(|| req.body.clone(), |t| Bytes::from(t.render(vars)));
    (Rendered { uri, headers, body }, ready)
}

/// Runs one flow for `job`: whether it passed, or `None` when the run cut it off.
pub(super) async fn run<T: Transport>(
    ctx: &LaneCtx<T>,
    fc: &FlowCtx,
    cell: &ConnCell<T::Conn>,
    guard: &mut Guard,
    job: Job,
    flow: &Flow,
) -> Option<Result<(), RequestError>> {
    let n = fc.iterations.fetch_add(1, Ordering::Relaxed);
    let mut vars = fc.flows.start(n, fc.seed);
    let mut from: Option<(Instant, Instant)> = None;
    let mut last: Option<(u16, std::time::Duration)> = None;
    let (mut bytes, mut retried, mut end) = (0u64, false, Instant::now());
    let mut result: Result<(), RequestError> = Ok(());
    for (k, step) in flow.steps.iter().enumerate() {
        let req = &ctx.requests[step.request];
        let (rendered, ready) = render(fc, req, step, &vars);
        let keep = req.keep().or(step.needs_body().then_some(req.max_body));
        let sent = if ready.is_ok() {
            let build = || rendered.build(req);
            Some(send(ctx, cell, guard, req, build, keep, job.warmup).await?)
        } else {
            None
        };
        let (started, checked) = match &sent {
            Some(s) => {
                let checked = check(req, &s.outcome).and_then(|()| {
                    let ex = s.outcome.as_ref().expect("checked responses are responses");
                    let body = ex.body.as_deref().unwrap_or(&[]);
                    for c in &step.captures {
                        let v = c
                            .take(ex.status, &ex.headers, body, &fc.flows.vars)
                            .map_err(|f| {
                                RequestError::new(ErrorClass::Capture, f.code, f.message)
                            })?;
                        vars[c.var] = v;
                    }
                    Ok(())
                });
                (s.started, checked)
            }
            None => (Instant::now(), ready),
        };
        let step_from = match (k, job.intended) {
            (0, Some(t)) => t.min(started),
            _ => started,
        };
        from.get_or_insert((step_from, started));
        let response = sent
            .as_ref()
            .and_then(|s| s.outcome.as_ref().ok())
            .map(|ex| (ex.status, ex.ttfb));
        let step_bytes = sent
            .as_ref()
            .and_then(|s| s.outcome.as_ref().ok())
            .map_or(0, |ex| ex.body_len);
        end = sent.as_ref().map_or(started, |s| s.end);
        let step_retried = sent.as_ref().is_some_and(|s| s.retried);
        let failed = checked.is_err();
        if failed {
            let repro = rendered.curl(&fc.curl, req);
            let mut rec = ctx.rec.borrow_mut();
            let stats = &mut rec[ctx.index].requests;
            for i in [step.request, flow.entry] {
                stats[i].reproducer.get_or_insert_with(|| repro.clone());
            }
        }
        record(
            ctx,
            &job,
            Recorded {
                index: step.request,
                from: step_from,
                started,
                end,
                response,
                bytes: step_bytes,
                checked: &checked,
                retried: step_retried,
                entry: Entry::Step,
            },
        );
        last = response.or(last);
        bytes += step_bytes;
        retried |= step_retried;
        if let Err(e) = checked {
            let name = &fc.names[step.request];
            result = Err(RequestError::new(
                e.class,
                e.code,
                format!("step `{name}`: {}", e.message),
            ));
            break;
        }
        if k + 1 < flow.steps.len() && !step.think.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(step.think) => {}
                () = guard.cut.cancelled() => {
                    if !job.warmup {
                        ctx.rec.borrow_mut()[ctx.index].cancelled += 1;
                    }
                    return None;
                }
            }
        }
    }
    let (flow_from, flow_started) = from.unwrap_or((end, end));
    record(
        ctx,
        &job,
        Recorded {
            index: flow.entry,
            from: flow_from,
            started: flow_started,
            end,
            response: last,
            bytes,
            checked: &result,
            retried,
            entry: Entry::Flow,
        },
    );
    Some(result)
}
