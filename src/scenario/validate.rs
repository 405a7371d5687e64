//! Semantic checks of a parsed scenario file, each reported at the position of the offending node,
//! and resolution into the [`Scenario`] the engine runs (defaults filled in, URLs parsed, headers
//! and patterns compiled).

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use super::bounds;
use super::diagnostic::{did_you_mean, Diagnostic};
use super::model::{ProtocolName, RequestSpec, ScenarioFile, StatusItem};
use super::spans::SpanIndex;
use super::{Endpoint, Request, Scenario, Source, Target, TargetUrl, TlsOptions};
use crate::model::Protocol;
use crate::scenario::expect::{Expect, Matcher};

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default connect + handshake timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default measured duration when nothing bounds the run.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Collects diagnostics, each placed at the node its YAML path names.
pub(super) struct Checker<'a> {
    pub(super) idx: &'a SpanIndex,
    pub(super) diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn err(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.diags.push(Diagnostic {
            message: message.into(),
            path: Some(path.to_string()),
            pos: self.idx.nearest_pos(path, false),
            hint,
            flag: None,
        });
    }

    pub(super) fn err_key(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.diags.push(Diagnostic {
            message: message.into(),
            path: Some(path.to_string()),
            pos: self.idx.nearest_pos(path, true),
            hint,
            flag: None,
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

    /// Checks that a size lies within `(min, max)` bytes; gives it back when it does.
    pub(super) fn size_within(
        &mut self,
        path: &str,
        v: Option<u64>,
        (min, max): (u64, u64),
    ) -> Option<u64> {
        let v = v?;
        if (min..=max).contains(&v) {
            return Some(v);
        }
        let show = |b: u64| bytesize::ByteSize::b(b).display().iec_short().to_string();
        self.err(
            path,
            format!("{} is out of range", show(v)),
            Some(format!("give a size from {} to {}", show(min), show(max))),
        );
        None
    }

    pub(super) fn positive_duration(&mut self, path: &str, d: Option<Duration>) {
        if d == Some(Duration::ZERO) {
            self.err(
                path,
                "must be longer than zero",
                Some("write it like `5s` or `250ms`".into()),
            );
        }
    }

    /// A timeout: longer than zero, at most [`bounds::MAX_TIMEOUT`].
    pub(super) fn timeout(&mut self, path: &str, d: Option<Duration>) {
        self.positive_duration(path, d);
        if let Some(why) = d.and_then(|d| bounds::too_long(d, bounds::MAX_TIMEOUT)) {
            self.err(path, why, None);
        }
    }

    /// A count: at least 1, at most `max`.
    pub(super) fn count(&mut self, path: &str, v: Option<u64>, max: u64, unit: &str) {
        match v {
            Some(0) => self.err(path, "must be at least 1", None),
            Some(v) => {
                if let Some(why) = bounds::above(v, max, unit) {
                    self.err(
                        path,
                        why,
                        Some("a typo? the limit is there to catch one".into()),
                    );
                }
            }
            None => {}
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
    // `port_u16` is `None` for 99999 as for no port at all: read the text, or a typo would
    // aim the run at port 80.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let written = match hostport.strip_prefix('[') {
        Some(v6) => v6
            .split_once(']')
            .and_then(|(_, rest)| rest.strip_prefix(':')),
        None => hostport.split_once(':').map(|(_, p)| p),
    };
    let port = match written {
        None => {
            if tls {
                443
            } else {
                80
            }
        }
        Some(p) => port_number(p)?,
    };
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

/// A port as written: 1 to 65535, digits only.
fn port_number(p: &str) -> Result<u16, String> {
    match p.parse::<u32>() {
        Ok(n @ 1..=65535) if p.bytes().all(|b| b.is_ascii_digit()) => Ok(n as u16),
        Ok(_) => Err(format!("port {p} is out of range (1 to 65535)")),
        Err(_) if p.is_empty() => Err("the port after `:` is empty".into()),
        Err(_) => Err(format!("port `{p}` is not a number (1 to 65535)")),
    }
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
    let port = port_number(port)?;
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

/// The most a `body_file` may hold: it is held in memory and sent with every request.
const BODY_FILE_CAP: u64 = 64 << 20;

/// A request's body: `body`, or the bytes of `body_file` (not both).
fn request_body(c: &mut Checker<'_>, p: &str, r: &RequestSpec, dir: &Path) -> Bytes {
    match (&r.body, &r.body_file) {
        (Some(_), Some(_)) => {
            c.err(
                &format!("{p}.body_file"),
                "give `body` or `body_file`, not both",
                None,
            );
            Bytes::new()
        }
        (_, Some(f)) => {
            let path = dir.join(f);
            let read = std::fs::metadata(&path).and_then(|m| {
                if !m.is_file() {
                    Err(std::io::Error::other("not a regular file"))
                } else if m.len() > BODY_FILE_CAP {
                    Err(std::io::Error::other("larger than 64 MiB"))
                } else {
                    std::fs::read(&path)
                }
            });
            match read {
                Ok(b) => Bytes::from(b),
                Err(e) => {
                    c.err(
                        &format!("{p}.body_file"),
                        format!("cannot read `{}`: {e}", path.display()),
                        Some("paths are relative to the scenario file".into()),
                    );
                    Bytes::new()
                }
            }
        }
        (b, None) => Bytes::from(b.clone().unwrap_or_default()),
    }
}

fn resolve_request(
    c: &mut Checker<'_>,
    p: &str,
    r: &RequestSpec,
    default_timeout: Duration,
    default_max_body: usize,
    dir: &Path,
) -> Option<Request> {
    let body = request_body(c, p, r, dir);
    let mp = method_and_path(c, p, r);
    let headers = c.headers(&format!("{p}.headers"), &r.headers);
    c.timeout(&format!("{p}.timeout"), r.timeout);
    let max_body = c.size_within(&format!("{p}.max_body"), r.max_body, MAX_BODY_RANGE);
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
            if st.0.is_empty() {
                c.err(
                    &format!("{p}.expect.status"),
                    "an empty list would accept no status at all",
                    Some("name the statuses, like `[200, 304]`, or leave `status` out for 2xx and 3xx".into()),
                );
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
        body,
        timeout: r.timeout.unwrap_or(default_timeout),
        expect,
        max_body: max_body.map_or(default_max_body, |b| b as usize),
    })
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
    } else if f.name.chars().any(char::is_control) {
        c.err(
            "name",
            "the name holds a control character",
            Some("it names reports and files: keep it to printable text".into()),
        );
    } else if f.name.chars().count() > 200 {
        c.err("name", "the name is longer than 200 characters", None);
    }
    if f.targets.is_empty() {
        c.err(
            "targets",
            "at least one target is needed",
            Some("add `targets: { local: embedded }`, or give them with `--candidate NAME=URL --baseline NAME=URL`".into()),
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
                // A `connect_to` that did not parse is reported already; the URL's host is not
                // where the run would have gone.
                let connect_to_failed = t.connect_to.is_some()
                    && matches!(&endpoint, Endpoint::Url(u) if u.connect_to.is_none());
                if let (Endpoint::Url(u), false) = (&endpoint, connect_to_failed) {
                    let (host, port, at) = match &u.connect_to {
                        Some((h, port)) => (h.as_str(), *port, format!("{p}.connect_to")),
                        None => (u.host.as_str(), u.port, url_path.clone()),
                    };
                    if let Some(why) = super::reach::refusal(host, port, &f.allow_hosts) {
                        c.err(&at, why, Some(format!("if you mean to load it, add `allow_hosts: [{host}]` (or --allow-host {host})")));
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
    c.timeout("timeout", f.timeout);
    c.timeout("connect_timeout", f.connect_timeout);
    let load = super::resolve_load::resolve_load(&mut c, f);
    if f.requests.is_empty() {
        c.err(
            "requests",
            "at least one request is needed",
            Some("add `requests: [ { get: / } ]`".into()),
        );
    }
    let timeout = f.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let (limits, max_body) = resolve_limits(&mut c, f.limits.as_ref());
    let mut flows = super::resolve_flow::resolve_vars(&mut c, f, dir);
    let mut requests: Vec<Request> = Vec::new();
    for (i, r) in f.requests.iter().enumerate() {
        let one = |c: &mut Checker<'_>, p: &str, r: &RequestSpec| {
            resolve_request(c, p, r, timeout, max_body, dir)
        };
        match &r.flow {
            Some(steps) => super::resolve_flow::resolve_flow(
                &mut c,
                i,
                r,
                steps,
                &mut flows,
                &mut requests,
                one,
            ),
            None => {
                let p = format!("requests[{i}]");
                super::resolve_flow::outside_flow(&mut c, &p, r);
                requests.extend(one(&mut c, &p, r));
            }
        }
    }
    super::resolve_flow::unused(&mut c, f, &flows);
    if !f.requests.is_empty() && f.requests.iter().all(|r| r.weight == Some(0)) {
        c.err(
            "requests",
            "every request has weight 0, so none would be sent",
            Some("give at least one request a weight of 1 or more".into()),
        );
    }
    let compare = super::resolve_compare::resolve_compare(&mut c, f, &targets);
    let gates = super::resolve_compare::resolve_gates(
        &mut c,
        f,
        &targets,
        compare.is_some(),
        &protocols,
        &requests,
    );
    let measured = measured_time(&load.model);
    let slice = match f.compare.as_ref().and_then(|c| c.slice) {
        Some(given) => {
            if given.is_zero() {
                c.err("compare.slice", "must be longer than zero", None);
            } else if !measured.is_zero() && given > measured {
                c.err(
                    "compare.slice",
                    format!(
                        "a slice of {} is longer than the measured run ({}): the baseline would never \
                         get its turn and no verdict could be reached",
                        humantime::format_duration(given),
                        humantime::format_duration(measured)
                    ),
                    Some(format!(
                        "leave `slice` out (it adapts to the run: {} here), or make it shorter",
                        humantime::format_duration(default_slice(measured))
                    )),
                );
            }
            given
        }
        None => default_slice(measured),
    };
    let conformance = super::resolve_conformance::resolve(&mut c, f, dir);
    let secrets = super::secrets::resolve(&mut c, f, &targets, &requests);
    if c.diags.is_empty() {
        Ok(Scenario {
            conformance,
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
            limits,
            secrets,
            shard: None,
            flows,
            alt_svc_discover: f.alt_svc == Some(super::model::AltSvcMode::Discover),
        })
    } else {
        c.diags.sort_by_key(|d| d.pos);
        Err(c.diags)
    }
}

/// What `max_body` may be: one byte to 1 GiB.
const MAX_BODY_RANGE: (u64, u64) = (1, 1 << 30);

/// Resolves the `limits` section: the stacks' limits and the default body cap.
fn resolve_limits(
    c: &mut Checker<'_>,
    l: Option<&super::model::LimitsSpec>,
) -> (crate::scenario::limits::ClientLimits, usize) {
    use crate::scenario::limits::ClientLimits;
    let l = l.cloned().unwrap_or_default();
    let headers = c.size_within(
        "limits.max_header_list_size",
        l.max_header_list_size,
        (1 << 10, 16 << 20),
    );
    // RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE lies between 2^14 and 2^24 - 1.
    let frame = c.size_within(
        "limits.max_frame_size",
        l.max_frame_size,
        (1 << 14, (1 << 24) - 1),
    );
    let body = c.size_within("limits.max_body", l.max_body, MAX_BODY_RANGE);
    (
        ClientLimits {
            max_header_list_size: headers
                .map_or(ClientLimits::DEFAULT_MAX_HEADER_LIST_SIZE, |v| v as u32),
            max_frame_size: frame.map_or(ClientLimits::DEFAULT_MAX_FRAME_SIZE, |v| v as u32),
        },
        body.map_or(crate::scenario::limits::DEFAULT_MAX_BODY, |v| v as usize),
    )
}

/// The slice when the run's length is not known (a run bounded by a request count).
pub const DEFAULT_SLICE: Duration = Duration::from_secs(1);
/// Slice pairs the default slice aims for: enough for the paired tests to speak on a short run.
pub const TARGET_PAIRS: u32 = 20;
/// The default slice's bounds: shorter slices hold too few requests to have a figure of their
/// own; longer ones leave a long run with needlessly few blocks.
pub const SLICE_BOUNDS: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(1));

/// The measured (not warm-up) time of each side of the run; zero when a request count bounds it.
pub fn measured_time(m: &super::Model) -> Duration {
    match m {
        super::Model::Open { stages } => stages
            .iter()
            .filter(|s| !s.warmup)
            .map(|s| s.duration)
            .sum(),
        super::Model::Closed { duration, .. } => duration.unwrap_or_default(),
    }
}

/// The default slice: the measured time over [`TARGET_PAIRS`], within [`SLICE_BOUNDS`], in whole
/// milliseconds.
pub fn default_slice(measured: Duration) -> Duration {
    if measured.is_zero() {
        return DEFAULT_SLICE;
    }
    let ms = (measured.as_millis() / u128::from(TARGET_PAIRS)) as u64;
    Duration::from_millis(ms).clamp(SLICE_BOUNDS.0, SLICE_BOUNDS.1)
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
