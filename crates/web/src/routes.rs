//! The route table: every route names its permission and target here, and the router is built
//! only from this table, so a route cannot exist without a policy rule. The access-matrix test
//! walks the same table.
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::auth::{RouteMeta, enforce};
use crate::pages::{
    accounts, admin, agencies, applicants, applications, audit, campaign, eligibility, exam, exam_sites, fees, files, home, items, jobs,
    papers, practice, proctor, recover, review, session, signup, tickets, training, unit_admin, units,
};
use crate::policy::{Permission, TargetKind};
use crate::{AppState, api};

pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub permission: Permission,
    pub target: TargetKind,
    pub handler: fn() -> MethodRouter<AppState>,
}

macro_rules! route {
    ($m:ident, $path:expr, $perm:ident, $target:ident, $h:path) => {
        RouteSpec { method: Method::$m, path: $path, permission: Permission::$perm, target: TargetKind::$target, handler: || route!(@verb $m, $h) }
    };
    // Upload routes lift axum's 2 MB default body limit (see `files::UPLOAD_BODY_LIMIT`).
    ($m:ident, $path:expr, $perm:ident, $target:ident, $h:path, upload) => {
        RouteSpec { method: Method::$m, path: $path, permission: Permission::$perm, target: TargetKind::$target, handler: || route!(@verb $m, $h).layer(DefaultBodyLimit::max(files::UPLOAD_BODY_LIMIT)) }
    };
    (@verb GET, $h:path) => { get($h) };
    (@verb POST, $h:path) => { post($h) };
}

pub fn table() -> Vec<RouteSpec> {
    vec![
        route!(GET, "/healthz", Public, None, healthz),
        route!(GET, "/readyz", Public, None, readyz),
        route!(GET, "/static/app.css", Public, None, css),
        route!(GET, "/static/review.js", Public, None, review_js),
        route!(GET, "/static/jobs.js", Public, None, jobs_js),
        route!(GET, "/static/exam.js", Public, None, exam_js),
        route!(GET, "/static/proctor.js", Public, None, proctor_js),
        route!(GET, "/exam/login", Public, None, exam::login_page),
        route!(POST, "/exam/login", Public, None, exam::login),
        route!(POST, "/exam/logout", SitExam, None, exam::logout),
        route!(GET, "/exam/identity", SitExam, None, exam::identity),
        route!(POST, "/exam/identity", SitExam, None, exam::confirm),
        route!(GET, "/exam/photo", SitExam, None, exam::photo),
        route!(GET, "/exam/paper", SitExam, None, exam::paper_page),
        route!(GET, "/exam/receipt", SitExam, None, exam::receipt),
        route!(GET, "/exam/api/state", SitExam, None, exam::state),
        route!(GET, "/exam/api/paper", SitExam, None, exam::paper),
        route!(GET, "/exam/api/item", SitExam, None, exam::item),
        route!(POST, "/exam/api/save", SitExam, None, exam::save),
        route!(POST, "/exam/api/submit", SitExam, None, exam::submit),
        route!(GET, "/practice", Practice, None, practice::index),
        route!(POST, "/practice", Practice, None, practice::start),
        route!(GET, "/practice/{id}", Practice, PracticeAttempt, practice::paper_page),
        route!(GET, "/practice/{id}/feedback", Practice, PracticeAttempt, practice::feedback),
        route!(GET, "/practice/{id}/api/state", Practice, PracticeAttempt, practice::state),
        route!(GET, "/practice/{id}/api/paper", Practice, PracticeAttempt, practice::paper),
        route!(GET, "/practice/{id}/api/item", Practice, PracticeAttempt, practice::item),
        route!(POST, "/practice/{id}/api/save", Practice, PracticeAttempt, practice::save),
        route!(POST, "/practice/{id}/api/submit", Practice, PracticeAttempt, practice::submit),
        route!(GET, "/login", Public, None, session::login_page),
        route!(POST, "/login", Public, None, session::login),
        route!(GET, "/signup", Public, None, signup::form),
        route!(POST, "/signup", Public, None, signup::submit),
        route!(GET, "/password-reset", Public, None, recover::form),
        route!(POST, "/password-reset", Public, None, recover::submit),
        route!(GET, "/unit-admin-form", Public, None, unit_admin::form),
        route!(POST, "/unit-admin-form", Public, None, unit_admin::submit),
        route!(GET, "/api/openapi.json", Public, None, api::openapi_json),
        route!(GET, "/api/docs", Public, None, api::docs),
        route!(GET, "/", SignedIn, None, home::home),
        route!(POST, "/logout", SignedIn, None, session::logout),
        route!(GET, "/account/password", SignedIn, None, session::password_page),
        route!(POST, "/account/password", SignedIn, None, session::change_password),
        route!(GET, "/campaign", ViewCampaign, None, campaign::show),
        route!(POST, "/campaign/fees", ManageCampaign, None, campaign::save_fees),
        route!(POST, "/campaign/schedule", ManageCampaign, None, campaign::save_schedule),
        route!(POST, "/campaign/delivery", ManageCampaign, None, campaign::save_delivery),
        route!(POST, "/campaign/copy", ManageCampaign, None, campaign::copy),
        route!(POST, "/campaign/activate", ManageCampaign, None, campaign::activate),
        route!(GET, "/campaign/work-types/template.xlsx", ManageCampaign, None, campaign::work_type_template),
        route!(POST, "/campaign/work-types/import", ManageCampaign, None, campaign::import_work_types),
        route!(GET, "/agencies", ViewAgencies, None, agencies::list),
        route!(POST, "/agencies/{code}/dates", SetLocalDates, Agency, agencies::set_dates),
        route!(POST, "/agencies", ManageCampaign, None, agencies::add),
        route!(POST, "/agencies/{code}/rename", ManageCampaign, Agency, agencies::rename),
        route!(POST, "/agencies/{code}/remove", ManageCampaign, Agency, agencies::remove),
        route!(GET, "/units", ViewUnits, None, units::list),
        route!(GET, "/units/new", ManageUnits, None, units::new_form),
        route!(POST, "/units", ManageUnits, None, units::create),
        route!(GET, "/units/{id}", ViewUnits, Unit, units::show),
        route!(POST, "/units/{id}", ManageUnits, Unit, units::update),
        route!(POST, "/units/{id}/delete", ManageUnits, Unit, units::delete),
        route!(POST, "/units/{id}/details", EditUnitDetails, Unit, units::update_details),
        route!(GET, "/unit-admin-requests", DecideUnitAdminRequests, None, unit_admin::list),
        route!(GET, "/unit-admin-requests/{id}", DecideUnitAdminRequests, UnitAdminRequest, unit_admin::show),
        route!(POST, "/unit-admin-requests/{id}/approve", DecideUnitAdminRequests, UnitAdminRequest, unit_admin::approve),
        route!(POST, "/unit-admin-requests/{id}/reject", DecideUnitAdminRequests, UnitAdminRequest, unit_admin::reject),
        route!(GET, "/applicants", ViewApplicants, None, applicants::list),
        route!(GET, "/application", ApplyOwn, None, applications::mine),
        route!(POST, "/application", ApplyOwn, None, applications::save_mine),
        route!(POST, "/application/submit", ApplyOwn, None, applications::submit_mine),
        route!(POST, "/application/withdraw", ApplyOwn, None, applications::withdraw_mine),
        route!(POST, "/application/photo", ApplyOwn, None, files::upload_photo, upload),
        route!(POST, "/application/attachments", ApplyOwn, None, files::upload_attachment, upload),
        route!(POST, "/application/attachments/{file}/delete", ApplyOwn, None, files::delete_attachment),
        route!(GET, "/unit-applications", ReviewUnitApplications, None, applications::unit_list),
        route!(GET, "/unit-applications/import-template.xlsx", ReviewUnitApplications, None, applications::unit_import_template),
        route!(POST, "/unit-applications/import", ReviewUnitApplications, None, applications::unit_import, upload),
        route!(GET, "/applications/{id}", ViewApplication, Application, applications::show),
        route!(GET, "/applications/{id}/files/{file}", ViewApplication, Application, files::download),
        route!(POST, "/applications/{id}/unit-decision", ReviewUnitApplications, Application, applications::unit_decision),
        route!(GET, "/unit-applications/roster.pdf", ReviewUnitApplications, None, review::unit_roster_pdf),
        route!(GET, "/unit-applications/roster.xlsx", ReviewUnitApplications, None, review::unit_roster_xlsx),
        route!(GET, "/agency-applications", ReviewAgencyApplications, None, review::agency_list),
        route!(POST, "/agency-applications/bulk", ReviewAgencyApplications, None, review::bulk),
        route!(POST, "/applications/{id}/agency-decision", ReviewAgencyApplications, Application, review::decide),
        route!(POST, "/applications/{id}/dossier", ReviewAgencyApplications, Application, review::dossier),
        route!(GET, "/units/{id}/roster.pdf", ReviewAgencyApplications, Unit, review::agency_roster_pdf),
        route!(GET, "/applicants/export.xlsx", ViewApplicants, None, applicants::export),
        route!(GET, "/fees", RecordFees, None, fees::index),
        route!(GET, "/fees/units/{id}", RecordFees, Unit, fees::unit_form),
        route!(POST, "/fees/units/{id}", RecordFees, Unit, fees::record),
        route!(GET, "/fee-batches/{id}", RecordFees, FeeBatch, fees::show),
        route!(GET, "/fee-batches/{id}/receipt.pdf", RecordFees, FeeBatch, fees::receipt),
        route!(POST, "/fee-batches/{id}/refund", RecordFees, FeeBatch, fees::refund),
        route!(GET, "/exam-sites", ManageExamSites, None, exam_sites::sites),
        route!(POST, "/exam-sites", ManageExamSites, None, exam_sites::add_centre),
        route!(POST, "/exam-sites/{id}/rooms", ManageExamSites, TestCentre, exam_sites::add_room),
        route!(GET, "/exam-sites/{id}/tickets.pdf", ManageExamSites, TestCentre, exam_sites::centre_tickets),
        route!(POST, "/exam-sites/{id}/tickets", ManageExamSites, TestCentre, exam_sites::queue_centre_tickets),
        route!(GET, "/application/ticket", ApplyOwn, None, tickets::ticket),
        route!(POST, "/application/ticket/pledge", ApplyOwn, None, tickets::accept_pledge),
        route!(GET, "/application/ticket.pdf", ApplyOwn, None, tickets::own_ticket),
        route!(GET, "/campaign/ticket-pledge", ManageCampaign, None, tickets::pledge),
        route!(POST, "/campaign/ticket-pledge", ManageCampaign, None, tickets::save_pledge),
        route!(GET, "/sittings", ManageExamSites, None, exam_sites::sittings),
        route!(POST, "/sittings", ManageExamSites, None, exam_sites::add_sitting),
        route!(POST, "/sittings/seb", ManageExamSites, None, exam_sites::set_seb),
        route!(GET, "/seating", ManageExamSites, None, exam_sites::seating),
        route!(POST, "/seating", ManageExamSites, None, exam_sites::run_seating),
        route!(POST, "/seating/move", ManageExamSites, None, exam_sites::move_seat),
        route!(POST, "/seating/ticket-window", ManageExamSites, None, exam_sites::set_ticket_window),
        route!(GET, "/proctor", ProctorRooms, None, proctor::index),
        route!(GET, "/proctor/rooms/{id}", ProctorRooms, ExamRoom, proctor::console),
        route!(GET, "/proctor/rooms/{id}/status", ProctorRooms, ExamRoom, proctor::status),
        route!(POST, "/proctor/rooms/{id}/start", ProctorRooms, ExamRoom, proctor::start),
        route!(POST, "/proctor/rooms/{id}/pause", ProctorRooms, ExamRoom, proctor::pause),
        route!(POST, "/proctor/rooms/{id}/resume", ProctorRooms, ExamRoom, proctor::resume),
        route!(POST, "/proctor/rooms/{id}/seat", ProctorRooms, ExamRoom, proctor::seat),
        route!(POST, "/proctor/rooms/{id}/record", ProctorRooms, ExamRoom, proctor::record),
        route!(GET, "/proctor/rooms/{id}/record.pdf", ProctorRooms, ExamRoom, proctor::record_pdf),
        route!(GET, "/training", ManageTraining, None, training::index),
        route!(POST, "/training", ManageTraining, None, training::create),
        route!(GET, "/training/{id}", ManageTraining, TrainingClass, training::show),
        route!(POST, "/training/{id}", ManageTraining, TrainingClass, training::update),
        route!(POST, "/training/{id}/delete", ManageTraining, TrainingClass, training::delete),
        route!(POST, "/training/{id}/enrol-all", ManageTraining, TrainingClass, training::enrol_all),
        route!(POST, "/training/{id}/enrol", ManageTraining, TrainingClass, training::enrol_one),
        route!(POST, "/training/{id}/remove", ManageTraining, TrainingClass, training::remove),
        route!(POST, "/training/{id}/attendance", ManageTraining, TrainingClass, training::record_attendance),
        route!(GET, "/training/{id}/sign-in.pdf", ManageTraining, TrainingClass, training::sign_in_pdf),
        route!(GET, "/blueprints", AssemblePapers, None, papers::index),
        route!(POST, "/blueprints", AssemblePapers, None, papers::save),
        route!(GET, "/blueprints/{id}", AssemblePapers, Item, papers::show),
        route!(POST, "/blueprints/{id}/assemble", AssemblePapers, Item, papers::assemble),
        route!(GET, "/items", ViewItems, None, items::index),
        route!(GET, "/items/new", WriteItems, None, items::new_form),
        route!(POST, "/items", WriteItems, None, items::create),
        route!(GET, "/items/export.zip", ViewItems, None, items::export),
        route!(POST, "/items/import", WriteItems, None, items::import, upload),
        route!(GET, "/items/import-template.xlsx", WriteItems, None, items::import_template),
        route!(GET, "/items/{id}", ViewItems, Item, items::show),
        route!(GET, "/items/{id}/edit", WriteItems, Item, items::edit_form),
        route!(POST, "/items/{id}", WriteItems, Item, items::update),
        route!(POST, "/items/{id}/submit", WriteItems, Item, items::submit),
        route!(POST, "/items/{id}/review", ReviewItems, Item, items::review),
        route!(GET, "/accounts", ManageAccounts, None, accounts::list),
        route!(GET, "/accounts/new", ManageAccounts, None, accounts::new_form),
        route!(POST, "/accounts", ManageAccounts, None, accounts::create),
        route!(POST, "/accounts/{id}/reset-password", ManageAccounts, Account, accounts::reset_password),
        route!(POST, "/accounts/{id}/disable", ManageAccounts, Account, accounts::disable),
        route!(POST, "/accounts/{id}/enable", ManageAccounts, Account, accounts::enable),
        route!(GET, "/api-tokens", ManageApiTokens, None, admin::tokens),
        route!(POST, "/api-tokens", ManageApiTokens, None, admin::create_token),
        route!(POST, "/api-tokens/{id}/revoke", ManageApiTokens, None, admin::revoke_token),
        route!(GET, "/outbox", ViewOutbox, None, admin::outbox),
        route!(GET, "/security", ManageSecurityPolicy, None, admin::security_show),
        route!(POST, "/security", ManageSecurityPolicy, None, admin::security_save),
        route!(GET, "/audit", ReadAudit, None, audit::list),
        route!(GET, "/audit/export.xlsx", ReadAudit, None, audit::export),
        route!(POST, "/audit/export-job", ReadAudit, None, audit::export_job),
        route!(GET, "/jobs", OwnJobs, None, jobs::list),
        route!(GET, "/jobs/{id}", OwnJobs, Job, jobs::show),
        route!(POST, "/jobs/{id}/cancel", OwnJobs, Job, jobs::cancel),
        route!(GET, "/jobs/{id}/result", OwnJobs, Job, jobs::result),
        route!(GET, "/api/v1/campaign", ViewCampaign, None, api::campaign),
        route!(GET, "/api/v1/agencies", ViewAgencies, None, api::agencies),
        route!(GET, "/api/v1/units", ViewUnits, None, api::units_list),
        route!(POST, "/api/v1/eligibility/evaluate", ViewCampaign, None, api::evaluate_eligibility),
        route!(GET, "/eligibility/check", ViewCampaign, None, eligibility::check_page),
        route!(POST, "/eligibility/check", ViewCampaign, None, eligibility::check),
        route!(GET, "/eligibility/roster", ViewApplicants, None, eligibility::roster_page),
        route!(GET, "/eligibility/roster-template.xlsx", ViewApplicants, None, eligibility::roster_template),
        route!(POST, "/eligibility/roster", ViewApplicants, None, eligibility::check_roster),
    ]
}

pub fn build_router(state: AppState) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for spec in table() {
        let meta = RouteMeta { permission: spec.permission, target: spec.target };
        let guarded = (spec.handler)()
            .layer(middleware::from_fn_with_state(state.clone(), move |st: State<AppState>, req: Request, next: Next| {
                enforce(st, meta, req, next)
            }));
        match by_path.iter_mut().find(|(p, _)| *p == spec.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(guarded),
            None => by_path.push((spec.path, guarded)),
        }
    }
    let mut router = Router::new();
    for (path, mr) in by_path {
        router = router.route(path, mr);
    }
    router
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(25 * 1024 * 1024))
        .with_state(state)
}

async fn not_found() -> Response {
    crate::error::AppError::NotFound.into_response()
}

/// Strict headers on every response: no inline script or style, no framing.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "数据库不可用").into_response()
        }
    }
}

async fn review_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/review.js"),
    )
        .into_response()
}

async fn jobs_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/jobs.js"),
    )
        .into_response()
}

async fn exam_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/exam.js"),
    )
        .into_response()
}

async fn proctor_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/proctor.js"),
    )
        .into_response()
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/app.css"),
    )
        .into_response()
}
