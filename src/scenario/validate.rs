//! Semantic checks of a parsed scenario file, each reported at the position of the offending node,
//! and resolution into the [`Scenario`] the engine runs (defaults filled in, URLs parsed, headers
//! and patterns compiled).

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use super::diagnostic::{did_you_mean, Diagnostic};
use super::model::{FairnessName, ModelName, ProtocolName, RequestSpec, ScenarioFile, StatusItem};
use super::spans::SpanIndex;
use super::{
    Comparison, DifferentialOptions, Endpoint, Fairness, Load, Model, Request, Scenario, Source,
    Stage, Target, TargetUrl, TlsOptions,
};
use crate::compare::gate::{self, Gate, GateContext};
use crate::conformance::expect::{Expect, Matcher};
use crate::proto::Protocol;

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default connect + handshake timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default measured duration when nothing bounds the run.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

struct Checker<'a> {
    idx: &'a SpanIndex,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn err(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.diags.push(Diagnostic {
            message: message.into(),
            path: Some(path.to_string()),
            pos: self.idx.nearest_pos(path, false),
            hint,
        });
    }

    fn err_key(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.diags.push(Diagnostic {
            message: message.into(),
            path: Some(path.to_string()),
            pos: self.idx.nearest_pos(path, true),
            hint,
        });
    }

    fn headers(
        &mut self,
        path: &str,
        map: &std::collections::BTreeMap<String, String>,
    ) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = Vec::new();
        for (k, v) in map {
            let p = format!("{path}.{k}");
            let Ok(name) = HeaderName::from_bytes(k.as_bytes()) else {
                self.err_key(&p, format!("`{k}` is not a valid header name"), None);
                continue;
            };
            match HeaderValue::from_str(v) {
                Ok(val) => out.push((name, val)),
                Err(_) => self.err(
                    &p,
                    format!("the value of header `{k}` has invalid characters"),
                    None,
                ),
            }
        }
        out
    }

    fn positive_duration(&mut self, path: &str, d: Option<Duration>) {
        if d == Some(Duration::ZERO) {
            self.err(
                path,
                "must be longer than zero",
                Some("write it like `5s` or `250ms`".into()),
            );
        }
    }
}

/// Parses a target URL; the error is a message for the diagnostic.
pub fn parse_target_url(url: &str, connect_to: Option<&str>) -> Result<Endpoint, String> {
    if url == "embedded" {
        return Ok(Endpoint::Embedded);
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") | Some("h2c") => false,
        Some(other) => return Err(format!("unsupported scheme `{other}`")),
        None => return Err(format!("`{url}` has no scheme")),
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("`{url}` has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let base_path = uri.path().trim_end_matches('/').to_string();
    let connect_to = connect_to.map(parse_host_port).transpose()?;
    Ok(Endpoint::Url(TargetUrl {
        tls,
        host,
        port,
        base_path,
        connect_to,
    }))
}

/// Parses `host:port` or `[v6]:port`.
pub fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    let bad = || format!("`{s}` is not `host:port`");
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once("]:").ok_or_else(bad)?;
        (h.to_string(), p)
    } else {
        let (h, p) = s.rsplit_once(':').ok_or_else(bad)?;
        (h.to_string(), p)
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host, port))
}

const METHOD_KEYS: [(&str, Method); 6] = [
    ("get", Method::GET),
    ("post", Method::POST),
    ("put", Method::PUT),
    ("delete", Method::DELETE),
    ("patch", Method::PATCH),
    ("head", Method::HEAD),
];

fn method_and_path(c: &mut Checker<'_>, p: &str, r: &RequestSpec) -> Option<(Method, String)> {
    let shorthands: Vec<(&str, &Method, &String)> =
        [&r.get, &r.post, &r.put, &r.delete, &r.patch, &r.head]
            .iter()
            .zip(METHOD_KEYS.iter())
            .filter_map(|(v, (k, m))| v.as_ref().map(|v| (*k, m, v)))
            .collect();
    let (method, path, path_key) = match (shorthands.as_slice(), &r.method, &r.path) {
        ([(k, m, v)], None, None) => ((*m).clone(), (*v).clone(), format!("{p}.{k}")),
        ([], m, Some(path)) => {
            let method = match m {
                None => Method::GET,
                Some(m) => match Method::from_bytes(m.as_bytes()) {
                    Ok(m) => m,
                    Err(_) => {
                        c.err(
                            &format!("{p}.method"),
                            format!("`{m}` is not a valid method"),
                            None,
                        );
                        return None;
                    }
                },
            };
            (method, path.clone(), format!("{p}.path"))
        }
        ([], _, None) => {
            c.err(
                p,
                "the request has no path",
                Some("write `get: /path`, or `method:` with `path:`".into()),
            );
            return None;
        }
        _ => {
            c.err(
                p,
                "the request gives its method and path more than once",
                Some("use one of `get: /path` or `method:` with `path:`".into()),
            );
            return None;
        }
    };
    if !path.starts_with('/') {
        c.err(
            &path_key,
            format!("the path `{path}` must start with `/`"),
            None,
        );
        return None;
    }
    if path.parse::<http::uri::PathAndQuery>().is_err() {
        c.err(
            &path_key,
            format!("`{path}` is not a valid path"),
            Some("percent-encode spaces and special characters".into()),
        );
        return None;
    }
    Some((method, path))
}

fn resolve_request(
    c: &mut Checker<'_>,
    i: usize,
    r: &RequestSpec,
    default_timeout: Duration,
) -> Option<Request> {
    let p = format!("requests[{i}]");
    let mp = method_and_path(c, &p, r);
    let headers = c.headers(&format!("{p}.headers"), &r.headers);
    c.positive_duration(&format!("{p}.timeout"), r.timeout);
    let mut expect = Expect::default();
    if let Some(e) = &r.expect {
        if let Some(st) = &e.status {
            for (j, item) in st.0.iter().enumerate() {
                let ok = match item {
                    StatusItem::Code(code) => (100..=599).contains(code),
                    StatusItem::Class(_) => true,
                    StatusItem::Invalid => false,
                };
                if !ok {
                    let path = if st.0.len() > 1 {
                        format!("{p}.expect.status[{j}]")
                    } else {
                        format!("{p}.expect.status")
                    };
                    c.err(
                        &path,
                        "a status must be a code from 100 to 599 or a class like `2xx`",
                        None,
                    );
                }
            }
            expect.status = st.0.clone();
        }
        for (name, pat) in &e.headers {
            let hp = format!("{p}.expect.headers.{name}");
            let Ok(hn) = HeaderName::from_bytes(name.as_bytes()) else {
                c.err_key(&hp, format!("`{name}` is not a valid header name"), None);
                continue;
            };
            match Matcher::parse(pat) {
                Ok(m) => expect.headers.push((hn, m)),
                Err(msg) => c.err(&hp, msg, None),
            }
        }
        if let Some(b) = &e.body {
            expect.body_contains = b.contains.as_ref().map(|s| s.as_bytes().to_vec());
            if let Some(re) = &b.regex {
                match regex::bytes::Regex::new(re) {
                    Ok(re) => expect.body_regex = Some(re),
                    Err(err) => c.err(
                        &format!("{p}.expect.body.regex"),
                        format!(
                            "invalid regular expression: {}",
                            last_line(&err.to_string())
                        ),
                        None,
                    ),
                }
            }
        }
    }
    let (method, path) = mp?;
    Some(Request {
        name: r.name.clone().unwrap_or_else(|| format!("{method} {path}")),
        weight: r.weight.unwrap_or(1),
        method,
        path,
        headers,
        body: Bytes::from(r.body.clone().unwrap_or_default()),
        timeout: r.timeout.unwrap_or(default_timeout),
        expect,
    })
}

fn resolve_load(c: &mut Checker<'_>, f: &ScenarioFile) -> Load {
    let l = f.load.clone().unwrap_or_default();
    let positive = |c: &mut Checker<'_>, key: &str, v: Option<u64>| {
        if v == Some(0) {
            c.err(
                &format!("load.{key}"),
                format!("`{key}` must be at least 1"),
                None,
            );
        }
    };
    positive(c, "connections", l.connections.map(u64::from));
    positive(c, "max_streams", l.max_streams.map(u64::from));
    positive(c, "requests", l.requests);
    positive(c, "requests_per_connection", l.requests_per_connection);
    positive(c, "threads", l.threads.map(u64::from));
    positive(c, "concurrency", l.concurrency.map(u64::from));
    c.positive_duration("load.duration", l.duration);
    let model = match l.model {
        ModelName::Open => {
            if l.concurrency.is_some() {
                c.err_key(
                    "load.concurrency",
                    "`concurrency` belongs to the closed model",
                    Some("set `model: closed`, or give a `rate` for the open model".into()),
                );
            }
            let mut stages = Vec::new();
            if let Some(w) = l.warmup {
                if let Some(rate) = l.rate {
                    stages.push(Stage {
                        duration: w,
                        rate_start: rate,
                        rate_end: rate,
                        warmup: true,
                    });
                }
            }
            match (&l.stages, l.rate) {
                (Some(_), Some(_)) => c.err_key(
                    "load.rate",
                    "give either `rate` or `stages`, not both",
                    None,
                ),
                (None, Some(rate)) => {
                    if !(rate.is_finite() && rate > 0.0) {
                        c.err(
                            "load.rate",
                            "the rate must be a number above zero (requests per second)",
                            None,
                        );
                    }
                    let duration = if l.requests.is_some() {
                        l.duration.unwrap_or(Duration::from_secs(86_400))
                    } else {
                        l.duration.unwrap_or(DEFAULT_DURATION)
                    };
                    stages.push(Stage {
                        duration,
                        rate_start: rate,
                        rate_end: rate,
                        warmup: false,
                    });
                }
                (Some(list), None) => {
                    if l.duration.is_some() {
                        c.err_key(
                            "load.duration",
                            "with `stages`, each stage has its own `duration`",
                            None,
                        );
                    }
                    if l.warmup.is_some() {
                        c.err_key(
                            "load.warmup",
                            "with `stages`, the warm-up is a stage",
                            Some("mark a stage `warmup: true`".into()),
                        );
                    }
                    if list.is_empty() {
                        c.err("load.stages", "at least one stage is needed", None);
                    }
                    for (i, s) in list.iter().enumerate() {
                        let p = format!("load.stages[{i}]");
                        if s.duration.is_zero() {
                            c.err(&format!("{p}.duration"), "must be longer than zero", None);
                        }
                        let end = s.ramp_to.unwrap_or(s.rate);
                        let valid = |r: f64| r.is_finite() && r >= 0.0;
                        if !(valid(s.rate) && valid(end)) || (s.rate == 0.0 && end == 0.0) {
                            c.err(
                                &format!("{p}.rate"),
                                "the rate must be above zero (a ramp may start or end at zero)",
                                None,
                            );
                        }
                        stages.push(Stage {
                            duration: s.duration,
                            rate_start: s.rate,
                            rate_end: end,
                            warmup: s.warmup,
                        });
                    }
                    if !list.is_empty() && list.iter().all(|s| s.warmup) {
                        c.err(
                            "load.stages",
                            "every stage is a warm-up, so nothing would be measured",
                            None,
                        );
                    }
                }
                (None, None) => c.err(
                    "load",
                    "the open model needs a `rate` (requests per second) or `stages`",
                    Some("add `rate: 100`, or `model: closed` with `concurrency`".into()),
                ),
            }
            Model::Open { stages }
        }
        ModelName::Closed => {
            if l.rate.is_some() {
                c.err_key(
                    "load.rate",
                    "`rate` belongs to the open model",
                    Some("use `concurrency` with `model: closed`".into()),
                );
            }
            if l.stages.is_some() {
                c.err_key("load.stages", "`stages` belong to the open model", None);
            }
            let duration = match (l.duration, l.requests) {
                (d, Some(_)) => d,
                (d, None) => Some(d.unwrap_or(DEFAULT_DURATION)),
            };
            Model::Closed {
                concurrency: l.concurrency.unwrap_or(10),
                warmup: l.warmup.unwrap_or_default(),
                duration,
            }
        }
    };
    let threads = l.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    });
    Load {
        model,
        requests: l.requests,
        connections: l
            .connections
            .unwrap_or(match l.model {
                ModelName::Open => 8,
                ModelName::Closed => l.concurrency.unwrap_or(10),
            })
            .max(1),
        max_streams: l.max_streams.unwrap_or(16).max(1),
        requests_per_connection: l.requests_per_connection,
        threads: threads.max(1),
    }
}

/// Checks `f` and resolves it. `dir` is the scenario's folder, for relative file paths.
pub fn resolve(
    f: &ScenarioFile,
    idx: &SpanIndex,
    source: Source,
    dir: &Path,
) -> Result<Scenario, Vec<Diagnostic>> {
    let mut c = Checker {
        idx,
        diags: Vec::new(),
    };
    if f.name.trim().is_empty() {
        c.err("name", "the name must not be empty", None);
    }
    if f.targets.is_empty() {
        c.err(
            "targets",
            "at least one target is needed",
            Some("add `targets: { local: embedded }`".into()),
        );
    }
    let mut targets = Vec::new();
    for (name, t) in &f.targets {
        let p = format!("targets.{name}");
        let url_path = if idx.value_pos(&format!("{p}.url")).is_some() {
            format!("{p}.url")
        } else {
            p.clone()
        };
        match parse_target_url(&t.url, None) {
            Ok(mut endpoint) => {
                if let Some(ct) = &t.connect_to {
                    match (&mut endpoint, parse_host_port(ct)) {
                        (Endpoint::Url(u), Ok(hp)) => u.connect_to = Some(hp),
                        (Endpoint::Embedded, _) => c.err(&format!("{p}.connect_to"), "the embedded target has no `connect_to`", None),
                        (_, Err(msg)) => c.err(&format!("{p}.connect_to"), msg, Some("write it like `127.0.0.1:8443` or `[::1]:8443`".into())),
                    }
                }
                let headers = c.headers(&format!("{p}.headers"), &t.headers);
                targets.push(Target { name: name.clone(), endpoint, headers });
            }
            Err(msg) => c.err(&url_path, msg, Some("write `https://host:port`, `http://host:port`, `h2c://host:port` or `embedded`".into())),
        }
    }
    let protocols: Vec<Protocol> = match &f.protocols {
        None => vec![Protocol::H1],
        Some(list) => {
            if list.is_empty() {
                c.err(
                    "protocols",
                    "at least one protocol is needed",
                    Some("write `protocols: [h1, h2]`".into()),
                );
            }
            let mut out = Vec::new();
            for (i, p) in list.iter().enumerate() {
                let proto = match p {
                    ProtocolName::H1 => Protocol::H1,
                    ProtocolName::H2 => Protocol::H2,
                    ProtocolName::H3 => Protocol::H3,
                };
                if out.contains(&proto) {
                    c.err(
                        &format!("protocols[{i}]"),
                        format!("`{}` is listed twice", proto.as_str()),
                        None,
                    );
                } else {
                    out.push(proto);
                }
            }
            out
        }
    };
    if protocols.contains(&Protocol::H3) {
        for t in &targets {
            if let Endpoint::Url(u) = &t.endpoint {
                if !u.tls {
                    let p = format!("targets.{}", t.name);
                    let at = if idx.value_pos(&format!("{p}.url")).is_some() {
                        format!("{p}.url")
                    } else {
                        p
                    };
                    c.err(
                        &at,
                        "h3 needs an https:// target: QUIC always runs over TLS",
                        Some("use `https://host:port`, or drop h3 from `protocols`".into()),
                    );
                }
            }
        }
    }
    let tls_spec = f.tls.clone().unwrap_or_default();
    let resolve_file = |c: &mut Checker<'_>, key: &str, v: &Option<String>| {
        v.as_ref().map(|s| {
            let pb = dir.join(s);
            if !pb.is_file() {
                c.err(
                    &format!("tls.{key}"),
                    format!("no file at `{s}`"),
                    Some("paths are relative to the scenario file's folder".into()),
                );
            }
            pb
        })
    };
    let ca = resolve_file(&mut c, "ca", &tls_spec.ca);
    let cert = resolve_file(&mut c, "client_cert", &tls_spec.client_cert);
    let key = resolve_file(&mut c, "client_key", &tls_spec.client_key);
    let client_auth = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        (Some(_), None) => {
            c.err_key("tls.client_cert", "`client_cert` needs `client_key`", None);
            None
        }
        (None, Some(_)) => {
            c.err_key("tls.client_key", "`client_key` needs `client_cert`", None);
            None
        }
    };
    if tls_spec.insecure && ca.is_some() {
        c.err_key(
            "tls.insecure",
            "`insecure: true` ignores `ca`; keep one of them",
            None,
        );
    }
    let tls = TlsOptions {
        ca,
        server_name: tls_spec.server_name.clone(),
        insecure: tls_spec.insecure,
        client_auth,
        resumption: tls_spec.resumption.unwrap_or(true),
        early_data: tls_spec.early_data,
    };
    c.positive_duration("timeout", f.timeout);
    c.positive_duration("connect_timeout", f.connect_timeout);
    let load = resolve_load(&mut c, f);
    if f.requests.is_empty() {
        c.err(
            "requests",
            "at least one request is needed",
            Some("add `requests: [ { get: / } ]`".into()),
        );
    }
    let timeout = f.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let requests: Vec<Request> = f
        .requests
        .iter()
        .enumerate()
        .filter_map(|(i, r)| resolve_request(&mut c, i, r, timeout))
        .collect();
    if !f.requests.is_empty() && f.requests.iter().all(|r| r.weight == Some(0)) {
        c.err(
            "requests",
            "every request has weight 0, so none would be sent",
            Some("give at least one request a weight of 1 or more".into()),
        );
    }
    let compare = resolve_compare(&mut c, f, &targets);
    let gates = resolve_gates(
        &mut c,
        f,
        &targets,
        compare.is_some(),
        &protocols,
        &requests,
    );
    let slice = f
        .compare
        .as_ref()
        .and_then(|c| c.slice)
        .unwrap_or(DEFAULT_SLICE);
    if slice.is_zero() {
        c.err("compare.slice", "must be longer than zero", None);
    }
    if c.diags.is_empty() {
        Ok(Scenario {
            compare,
            gates,
            slice,
            name: f.name.clone(),
            source,
            targets,
            protocols,
            tls,
            connect_timeout: f.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            load,
            requests,
            seed: f.seed.unwrap_or(1),
            alt_svc_discover: f.alt_svc == Some(super::model::AltSvcMode::Discover),
        })
    } else {
        c.diags.sort_by_key(|d| d.pos);
        Err(c.diags)
    }
}

/// Default slice length.
pub const DEFAULT_SLICE: Duration = Duration::from_secs(1);

fn resolve_compare(
    c: &mut Checker<'_>,
    f: &ScenarioFile,
    targets: &[Target],
) -> Option<Comparison> {
    let spec = f.compare.as_ref()?;
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    for (key, name) in [("candidate", &spec.candidate), ("baseline", &spec.baseline)] {
        if !f.targets.contains_key(name) {
            c.err(
                &format!("compare.{key}"),
                format!("no target named `{name}`"),
                Some(hint_for(name, &names)),
            );
        }
    }
    if spec.candidate == spec.baseline {
        c.err(
            "compare.baseline",
            "the baseline must be another target than the candidate",
            None,
        );
    }
    if let Some(t) = spec.tolerance {
        if !(t.0 > 0.0 && t.0 < 10.0) {
            c.err(
                "compare.tolerance",
                "the tolerance must be a fraction above zero, like `10%`",
                None,
            );
        }
    }
    let differential = match &spec.differential {
        Some(d) if d.enabled == Some(false) => None,
        d => {
            let d = d.clone().unwrap_or_default();
            let mut ignore = Vec::new();
            for (i, h) in d.ignore_headers.iter().enumerate() {
                match HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()) {
                    Ok(n) => ignore.push(n),
                    Err(_) => c.err(
                        &format!("compare.differential.ignore_headers[{i}]"),
                        format!("`{h}` is not a header name"),
                        None,
                    ),
                }
            }
            if d.samples == Some(0) {
                c.err(
                    "compare.differential.samples",
                    "at least one sample is needed (or `enabled: false`)",
                    None,
                );
            }
            Some(DifferentialOptions {
                samples: d.samples.unwrap_or(5).max(1),
                ignore_headers: ignore,
            })
        }
    };
    Some(Comparison {
        candidate: spec.candidate.clone(),
        baseline: spec.baseline.clone(),
        fairness: match spec.fairness {
            Some(FairnessName::Simultaneous) => Fairness::Simultaneous,
            _ => Fairness::Interleaved,
        },
        calibrate: spec.calibrate,
        tolerance: spec.tolerance.map(|t| t.0),
        resamples: spec.resamples.unwrap_or(1000).clamp(100, 100_000),
        differential,
    })
}

fn resolve_gates(
    c: &mut Checker<'_>,
    f: &ScenarioFile,
    targets: &[Target],
    has_roles: bool,
    protocols: &[Protocol],
    requests: &[Request],
) -> Vec<Gate> {
    let target_names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let request_names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
    let ctx = GateContext {
        targets: &target_names,
        has_roles,
        protocols,
        requests: &request_names,
    };
    let mut out = Vec::new();
    for (i, text) in f.gates.iter().enumerate() {
        match gate::parse(text, &ctx) {
            Ok(g) => out.push(g),
            Err(e) => c.err(&format!("gates[{i}]"), e.message, e.hint),
        }
    }
    out
}

/// The last line of a multi-line library message (regex errors draw their own caret above it).
pub fn last_line(msg: &str) -> &str {
    msg.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or(msg, |l| l.trim().trim_start_matches("error: "))
}

/// A hint for a misspelt key or value, from the names serde expected.
pub fn hint_for(word: &str, expected: &[&str]) -> String {
    match did_you_mean(word, expected) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "expected one of {}",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
