//! Authentication (sessions and API tokens), CSRF, and the enforcement middleware that applies
//! [`crate::policy`] to every route before its handler runs.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use gongkao_domain::role::Role;
use gongkao_storage::{accounts, audit::AuditRecord, misc, units};
use rand::RngCore;
use sm3::{Digest, Sm3};

use crate::AppState;
use crate::error::AppError;
use crate::policy::{Permission, Principal, Scope, TargetKind, requires_province, role_allows, seat_session_allows};
use crate::services::{self, security::SecurityPolicy};

pub const SESSION_COOKIE: &str = "gk_session";
pub const PRE_CSRF_COOKIE: &str = "gk_csrf";
const MAX_FORM_BYTES: usize = 20 * 1024 * 1024;

/// What the route table tells the middleware about one route.
#[derive(Debug, Clone, Copy)]
pub struct RouteMeta {
    pub permission: Permission,
    pub target: TargetKind,
}

/// Facts about the request the handlers and audit need.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub client_ip: String,
}

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn sm3_hex(input: &str) -> String {
    hex::encode(Sm3::digest(input.as_bytes()))
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.config().secure_cookies {
        c.push_str("; Secure");
    }
    c
}

pub fn client_ip(state: &AppState, headers: &HeaderMap, connect: Option<SocketAddr>) -> String {
    if state.config().trust_forwarded_for
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return first.to_owned();
    }
    connect.map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".to_owned())
}

/// How long a node keeps the security policy and the agency tree before reading them again.
/// Changes made through this process drop the copies at once ([`invalidate_cached`]); other
/// nodes sharing a PostgreSQL database see a change within this time.
pub const CACHE_TTL: Duration = Duration::from_secs(2);

type Tree = Arc<Vec<(String, Option<String>)>>;

/// What the middleware reads on every request but which changes a few times a year: the
/// security policy and the current campaign's agency tree. One per [`AppState`].
#[derive(Default)]
pub struct Caches {
    /// Bumped by every invalidation; a copy read before the bump is never stored after it.
    generation: AtomicU64,
    policy: Mutex<Option<(u64, Instant, SecurityPolicy)>>,
    tree: Mutex<Option<(u64, Instant, Tree)>>,
}

fn fresh<T: Clone>(slot: &Mutex<Option<(u64, Instant, T)>>, generation: u64) -> Option<T> {
    let guard = slot.lock().ok()?;
    guard.as_ref().filter(|(g, at, _)| *g == generation && at.elapsed() < CACHE_TTL).map(|(_, _, v)| v.clone())
}

fn keep<T>(slot: &Mutex<Option<(u64, Instant, T)>>, caches: &Caches, generation: u64, read_at: Instant, value: T) {
    if let Ok(mut guard) = slot.lock()
        && caches.generation.load(Ordering::Acquire) == generation
    {
        *guard = Some((generation, read_at, value));
    }
}

/// Drops the cached security policy and agency tree; call after changing either.
pub fn invalidate_cached(state: &AppState) {
    let c = state.caches();
    c.generation.fetch_add(1, Ordering::AcqRel);
    if let Ok(mut g) = c.policy.lock() {
        *g = None;
    }
    if let Ok(mut g) = c.tree.lock() {
        *g = None;
    }
}

/// The security policy, read at most once per [`CACHE_TTL`].
pub async fn cached_policy(state: &AppState) -> Result<SecurityPolicy, AppError> {
    let c = state.caches();
    let generation = c.generation.load(Ordering::Acquire);
    if let Some(p) = fresh(&c.policy, generation) {
        return Ok(p);
    }
    let read_at = Instant::now();
    let p = services::security::load(state).await?;
    keep(&c.policy, c, generation, read_at, p.clone());
    Ok(p)
}

/// The current campaign's agency tree, read at most once per [`CACHE_TTL`].
pub async fn cached_tree(state: &AppState) -> Result<Tree, AppError> {
    let c = state.caches();
    let generation = c.generation.load(Ordering::Acquire);
    if let Some(t) = fresh(&c.tree, generation) {
        return Ok(t);
    }
    let read_at = Instant::now();
    let t: Tree = Arc::new(services::jurisdiction::tree(state).await?);
    keep(&c.tree, c, generation, read_at, t.clone());
    Ok(t)
}

/// Resolves the session cookie (or, under `/api`, a bearer token) to a principal.
async fn authenticate(state: &AppState, headers: &HeaderMap, is_api: bool, policy: &SecurityPolicy) -> Result<Option<Principal>, AppError> {
    let db = state.store().conn();
    let now = state.now();
    if is_api && let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        let Some(t) = misc::api_token_by_hash(db, &sm3_hex(token.trim())).await? else {
            return Ok(None);
        };
        let Some(role) = Role::parse(&t.role) else { return Ok(None) };
        let tx = state.store().write().await?;
        misc::touch_api_token(tx.conn(), t.id, now).await?;
        tx.commit().await?;
        return Ok(Some(Principal {
            account_id: None,
            api_token_id: Some(t.id),
            username: format!("token:{}", t.name),
            display_name: t.name,
            role,
            agency_code: t.agency_code,
            unit_id: t.unit_id,
            applicant_id: None,
            must_change_password: false,
            csrf_token: String::new(),
        }));
    }
    let Some(raw) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let id_hash = sm3_hex(raw);
    let Some(session) = accounts::session(db, &id_hash).await? else { return Ok(None) };
    let Some(account) = accounts::get(db, session.account_id).await? else { return Ok(None) };
    let Some(role) = Role::parse(&account.role) else { return Ok(None) };
    let now_ms = gongkao_storage::to_ms(now);
    let idle_minutes = if role.is_staff() { policy.staff_idle_minutes } else { state.config().applicant_idle_minutes };
    let idle_expired = now_ms - session.last_seen_at > idle_minutes * 60_000;
    if session.expires_at <= now_ms || idle_expired || account.status != "active" {
        let tx = state.store().write().await?;
        accounts::delete_session(tx.conn(), &id_hash).await?;
        tx.commit().await?;
        return Ok(None);
    }
    // Writing on every request would make SQLite's single writer the bottleneck; a minute of
    // slack in the idle timer is harmless.
    if now_ms - session.last_seen_at > 60_000 {
        let tx = state.store().write().await?;
        accounts::touch_session(tx.conn(), &id_hash, now).await?;
        tx.commit().await?;
    }
    Ok(Some(Principal {
        account_id: Some(account.id),
        api_token_id: None,
        username: account.username,
        display_name: account.display_name,
        role,
        agency_code: account.agency_code,
        unit_id: account.unit_id,
        applicant_id: account.applicant_id,
        must_change_password: account.must_change_password,
        csrf_token: session.csrf_token,
    }))
}

/// Whether the principal's jurisdiction covers the route's target. Unknown targets are treated
/// like out-of-scope ones for scoped callers, so a 403 never reveals whether something exists.
async fn target_in_scope(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    target: TargetKind,
    parts: &Parts,
) -> Result<bool, AppError> {
    let db = state.store().conn();
    let param = |name: &str| -> Option<String> { path_param(parts, name) };
    Ok(match target {
        TargetKind::None => true,
        TargetKind::Item => matches!(scope, Scope::Province),
        TargetKind::TestCentre => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match gongkao_storage::exam_sites::centre(db, id).await? {
                Some(c) => scope.covers_agency(&c.agency_code),
                None => false,
            }
        }
        TargetKind::ExamRoom => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match services::delivery::room_agency(state, id).await? {
                Some((_, agency)) => scope.covers_agency(&agency),
                None => false,
            }
        }
        TargetKind::TrainingClass => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match gongkao_storage::training::class(db, id).await? {
                Some(c) => scope.covers_agency(&c.agency_code),
                None => false,
            }
        }
        // A job is its owner's alone, whatever their jurisdiction: results may hold exports.
        TargetKind::Job => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match gongkao_storage::jobs::get(db, id).await? {
                Some(j) => j.owner == principal.username,
                None => false,
            }
        }
        // A practice attempt is its applicant's alone.
        TargetKind::PracticeAttempt => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match services::practice::owner(state, id).await? {
                Some(owner) => scope.covers_practice_attempt(owner),
                None => false,
            }
        }
        TargetKind::Agency => param("code").is_some_and(|c| scope.covers_agency(&c)),
        TargetKind::Unit => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match units::get(db, id).await? {
                Some(u) => scope.covers_unit(u.id, &u.agency_code),
                None => matches!(scope, Scope::Province) && role_is_office(principal.role),
            }
        }
        TargetKind::Applicant => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match units::applicant(db, id).await? {
                Some(a) => person_in_scope(db, scope, a.id, a.unit_id).await?,
                None => false,
            }
        }
        TargetKind::Application => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match gongkao_storage::applications::get(db, id).await? {
                Some(a) => person_in_scope(db, scope, a.applicant_id, a.unit_id).await?,
                None => false,
            }
        }
        TargetKind::FeeBatch => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match gongkao_storage::fees::batch(db, id).await? {
                Some(b) => scope.covers_agency(&b.agency_code),
                None => false,
            }
        }
        TargetKind::UnitAdminRequest => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match misc::unit_admin_request(db, id).await? {
                Some(r) => scope.covers_agency(&r.agency_code),
                None => false,
            }
        }
        // Accounts are managed by the system admin, whose remit is every staff account but no
        // applicant's: applicant accounts belong to personal data.
        TargetKind::Account => {
            let Some(id) = param("id").and_then(|v| v.parse::<i64>().ok()) else { return Ok(false) };
            match accounts::get(db, id).await? {
                Some(a) => principal.role == Role::SystemAdmin && a.role != "applicant",
                None => false,
            }
        }
    })
}

/// A person (or their application) is in scope as themselves, or through their unit.
async fn person_in_scope(
    db: &impl gongkao_storage::sea_orm::ConnectionTrait,
    scope: &Scope,
    applicant_id: i64,
    unit_id: Option<i64>,
) -> Result<bool, AppError> {
    let unit = match unit_id {
        Some(uid) => units::get(db, uid).await?.map(|u| (u.id, u.agency_code)),
        None => None,
    };
    Ok(scope.covers_applicant(applicant_id, unit.as_ref().map(|(id, code)| (*id, code.as_str()))))
}

fn role_is_office(role: Role) -> bool {
    matches!(role, Role::AgencyReviewer | Role::AgencyCashier | Role::AgencyExamOfficer)
}

#[derive(Debug, Clone)]
struct PathParams(Vec<(String, String)>);

/// Path parameters captured by the router, read without a typed extractor so the middleware
/// works for every route shape.
fn path_param(parts: &Parts, name: &str) -> Option<String> {
    parts.extensions.get::<PathParams>().and_then(|params| params.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

/// Applies the policy to one request. Runs before every handler (see `routes::build_router`).
pub async fn enforce(State(state): State<AppState>, meta: RouteMeta, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_api = path.starts_with("/api/") || path.starts_with("/exam/api/") || (path.starts_with("/practice/") && path.contains("/api/"));
    match enforce_inner(&state, meta, req, next).await {
        Ok(resp) => resp,
        Err(e) if is_api => e.json(),
        Err(e) => e.into_response(),
    }
}

async fn enforce_inner(state: &AppState, meta: RouteMeta, req: Request, next: Next) -> Result<Response, AppError> {
    let (mut parts, body) = req.into_parts();
    let connect = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let ip = client_ip(state, &parts.headers, connect);
    parts.extensions.insert(RequestInfo { client_ip: ip.clone() });
    if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(&mut parts, state).await {
        let pairs = raw.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        parts.extensions.insert(PathParams(pairs));
    }
    let is_api = parts.uri.path().starts_with("/api/");
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if meta.permission == Permission::SitExam {
        return enforce_seat(state, parts, body, unsafe_method, next).await;
    }
    let policy = cached_policy(state).await?;
    let principal = authenticate(state, &parts.headers, is_api, &policy).await?;

    // Cross-site state changes are refused outright, whoever the caller is.
    if unsafe_method && is_cross_site(&parts.headers) {
        return Err(AppError::Forbidden);
    }
    let body = if unsafe_method {
        Some(axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| AppError::field("file", "上传内容过大（上限 20MB）"))?)
    } else {
        None
    };

    if meta.permission == Permission::Public {
        if unsafe_method && !is_api {
            let expected = cookie(&parts.headers, PRE_CSRF_COOKIE).map(str::to_owned);
            check_csrf(&parts, body.as_ref(), expected.as_deref()).await?;
        }
        if let Some(p) = principal {
            parts.extensions.insert(p);
        }
        return Ok(next.run(Request::from_parts(parts, body.map(Body::from).unwrap_or_else(Body::empty))).await);
    }

    let Some(principal) = principal else {
        return Err(AppError::Unauthenticated);
    };
    // A one-time password must be replaced before anything else is done with the account.
    if principal.must_change_password && meta.permission != Permission::SignedIn {
        return Ok(Redirect::to("/account/password").into_response());
    }
    let tree = cached_tree(state).await?;
    let scope = principal.scope(&tree);
    let allowed = role_allows(principal.role, meta.permission)
        && (!requires_province(meta.permission) || matches!(scope, Scope::Province))
        && target_in_scope(state, &principal, &scope, meta.target, &parts).await?;
    if !allowed {
        let rec = AuditRecord {
            actor: principal.username.clone(),
            role: principal.role.as_str().to_owned(),
            jurisdiction: principal.agency_code.clone().unwrap_or_default(),
            action: "access.denied".to_owned(),
            target: format!("{} {}", parts.method, parts.uri.path()),
            summary: String::new(),
            client_ip: ip,
            outcome: "denied".to_owned(),
        };
        services::audit::record(state, rec).await?;
        return Err(AppError::Forbidden);
    }
    if unsafe_method && principal.api_token_id.is_none() {
        check_csrf(&parts, body.as_ref(), Some(&principal.csrf_token)).await?;
    }
    parts.extensions.insert(principal);
    parts.extensions.insert(scope);
    Ok(next.run(Request::from_parts(parts, body.map(Body::from).unwrap_or_else(Body::empty))).await)
}

/// The exam routes: a seat session, not an account. Resolved from the node's memory on the hot
/// path (see `services::delivery`), so a save costs no session read from the database.
async fn enforce_seat(state: &AppState, mut parts: Parts, body: Body, unsafe_method: bool, next: Next) -> Result<Response, AppError> {
    if unsafe_method && is_cross_site(&parts.headers) {
        return Err(AppError::Forbidden);
    }
    let session = match cookie(&parts.headers, services::delivery::EXAM_COOKIE) {
        Some(token) => services::delivery::resolve_session(state, token).await?,
        None => None,
    };
    let Some(session) = session.filter(|_| seat_session_allows(Permission::SitExam)) else {
        return Err(AppError::SeatSessionRequired);
    };
    services::delivery::check_browser(state, session.attempt_id, || browser_facts(state, &parts)).await?;
    let body = if unsafe_method {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| AppError::field("saves", "提交内容过大"))?;
        check_csrf(&parts, Some(&bytes), Some(&session.csrf)).await?;
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(session);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// The request's address as the browser saw it and the Safe Exam Browser header.
pub fn browser_facts(state: &AppState, parts: &Parts) -> services::delivery::BrowserFacts {
    let scheme = if state.config().secure_cookies { "https" } else { "http" };
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    services::delivery::BrowserFacts {
        url: format!("{scheme}://{host}{path}"),
        config_key_hash: parts.headers.get("x-safeexambrowser-configkeyhash").and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "cross-site";
    }
    if let (Some(origin), Some(host)) =
        (headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), headers.get(header::HOST).and_then(|v| v.to_str().ok()))
    {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        return origin != "null" && origin_host != host;
    }
    false
}

/// The token may come as a header (scripts), a form field (urlencoded or multipart), or a query
/// parameter.
async fn check_csrf(parts: &Parts, body: Option<&Bytes>, expected: Option<&str>) -> Result<(), AppError> {
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return Err(csrf_error());
    };
    let from_header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let from_query =
        parts.uri.query().and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "csrf_token").map(|(_, v)| v.into_owned()));
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = if is_form {
        body.and_then(|b| form_urlencoded::parse(b).find(|(k, _)| k == "csrf_token").map(|(_, v)| v.into_owned()))
    } else {
        None
    };
    let from_multipart = match (&from_body, body) {
        (None, Some(b)) => multipart_field(&parts.headers, b, "csrf_token").await,
        _ => None,
    };
    let given = from_header.or(from_query).or(from_body).or(from_multipart);
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(csrf_error()),
    }
}

/// A text field of a `multipart/form-data` body already held in memory, so upload forms carry
/// the token like every other form instead of in the URL (where it would reach logs and
/// history).
async fn multipart_field(headers: &HeaderMap, body: &Bytes, name: &str) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = multer::parse_boundary(content_type).ok()?;
    let mut multipart = multer::Multipart::new(Body::from(body.clone()).into_data_stream(), boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(name) && field.file_name().is_none() {
            return field.text().await.ok();
        }
    }
    None
}

fn csrf_error() -> AppError {
    AppError::Conflict("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重新提交".to_owned())
}

/// Compares secrets without leaking where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Handlers take the principal the middleware put in place.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or(AppError::Unauthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for services::delivery::SeatSession {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<services::delivery::SeatSession>().cloned().ok_or(AppError::SeatSessionRequired)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Scope {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Scope>().cloned().ok_or(AppError::Forbidden)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestInfo {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<RequestInfo>().cloned().unwrap_or(RequestInfo { client_ip: "unknown".to_owned() }))
    }
}

/// The principal if signed in; public pages use it to adapt (e.g. the login page redirects).
pub struct MaybePrincipal(pub Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for MaybePrincipal {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybePrincipal(parts.extensions.get::<Principal>().cloned()))
    }
}
