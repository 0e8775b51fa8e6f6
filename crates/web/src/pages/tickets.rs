//! Admission-ticket pages: the applicant's ticket page (seats, print window, the pledge to
//! accept, the PDF) and the province's pledge text.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_documents::TicketSubject;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::from_ms;

use super::agencies::MsgQuery;
use super::{FormPairs, html, html_status, pdf, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::{Actor, campaigns, tickets};
use crate::view::{Chrome, notice, render};

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    chrome: Chrome,
    unavailable: Option<String>,
    error: Option<String>,
    agree_error: Option<String>,
    ticket_number: String,
    name: String,
    work_type: String,
    level: String,
    subjects: Vec<TicketSubject>,
    window: String,
    open_now: bool,
    may_print: bool,
    pledge: Option<(String, String)>,
    pledge_accepted_at: Option<String>,
    printed: Option<String>,
}

async fn ticket_page(
    state: &AppState,
    p: &Principal,
    error: Option<String>,
    agree_error: Option<String>,
    msg: Option<&str>,
) -> AppResult<String> {
    let (status, _) = tickets::ticket_status(state, p).await?;
    let may_print = status.may_print();
    let doc = status.doc.as_ref();
    let page = TicketPage {
        chrome: Chrome::for_principal(p, "/application/ticket").with_notice(notice(msg)),
        unavailable: status.unavailable.clone(),
        error,
        agree_error,
        ticket_number: doc.map(|d| d.ticket_number.clone()).unwrap_or_default(),
        name: doc.map(|d| d.name.clone()).unwrap_or_default(),
        work_type: doc.map(|d| d.work_type.clone()).unwrap_or_default(),
        level: doc.map(|d| d.level.clone()).unwrap_or_default(),
        subjects: doc.map(|d| d.subjects.clone()).unwrap_or_default(),
        window: status.window.map(|w| w.label()).unwrap_or_default(),
        open_now: status.open_now,
        may_print,
        pledge: status.pledge.clone(),
        pledge_accepted_at: status.pledge_accepted_at.clone(),
        printed: status
            .printed
            .as_ref()
            .map(|p| format!("已打印 {} 次，最近一次 {}", p.prints, gongkao_domain::campaign::format_shanghai(from_ms(p.last_printed_at)))),
    };
    Ok(render(&page))
}

pub async fn ticket(State(state): State<AppState>, p: Principal, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(ticket_page(&state, &p, None, None, q.msg.as_deref()).await?))
}

pub async fn accept_pledge(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    match tickets::accept_pledge(&state, &p, &Actor::of(&p, &info), &form.0).await {
        Ok(()) => Ok(see_other("/application/ticket?msg=pledge_accepted")),
        Err(AppError::Invalid(e)) => {
            let agree = e.get("agree").map(str::to_owned);
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, ticket_page(&state, &p, None, agree, None).await?))
        }
        Err(e @ AppError::Conflict(_)) => {
            Ok(html_status(StatusCode::CONFLICT, ticket_page(&state, &p, Some(e.message()), None, None).await?))
        }
        Err(e) => Err(e),
    }
}

/// The applicant's own admission ticket (准考证) as PDF, inside the print window.
pub async fn own_ticket(State(state): State<AppState>, p: Principal, info: RequestInfo) -> AppResult<Response> {
    match tickets::own_ticket(&state, &p, &Actor::of(&p, &info)).await {
        Ok(bytes) => Ok(pdf("admission-ticket.pdf", bytes)),
        // A refusal shows the ticket page with the reason, not a bare error.
        Err(e @ AppError::Conflict(_)) => {
            Ok(html_status(StatusCode::CONFLICT, ticket_page(&state, &p, Some(e.message()), None, None).await?))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "ticket_pledge.html")]
struct PledgePage {
    chrome: Chrome,
    campaign_title: String,
    body: String,
    updated: Option<String>,
    errors: FieldErrors,
}

async fn pledge_page(state: &AppState, p: &Principal, errors: FieldErrors, body: Option<String>, msg: Option<&str>) -> AppResult<String> {
    let (campaign, _) = campaigns::current(state).await?;
    let current = tickets::campaign_pledge(state, campaign.id).await?;
    let page = PledgePage {
        chrome: Chrome::for_principal(p, "/campaign").with_notice(notice(msg)),
        campaign_title: campaign.title.clone(),
        updated: current
            .as_ref()
            .map(|c| format!("{} 由 {} 修改", gongkao_domain::campaign::format_shanghai(from_ms(c.updated_at)), c.updated_by)),
        body: body.or_else(|| current.map(|c| c.body)).unwrap_or_default(),
        errors,
    };
    Ok(render(&page))
}

pub async fn pledge(State(state): State<AppState>, p: Principal, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(pledge_page(&state, &p, FieldErrors::new(), None, q.msg.as_deref()).await?))
}

pub async fn save_pledge(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    match tickets::set_pledge(&state, &Actor::of(&p, &info), &form.0).await {
        Ok(()) => Ok(see_other("/campaign/ticket-pledge?msg=saved")),
        Err(AppError::Invalid(e)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, pledge_page(&state, &p, e, Some(form.get("body")), None).await?))
        }
        Err(e) => Err(e),
    }
}
