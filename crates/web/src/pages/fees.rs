//! The agency cashier's pages: units with applications awaiting payment, one unit's batch form,
//! a recorded batch with its receipt and refunds.
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::application::ApplicationStatus;
use gongkao_domain::campaign::{FeeCharge, Level, fee_total, format_fen, format_shanghai};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::{fees as store_fees, from_ms, units};

use super::agencies::MsgQuery;
use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::{RequestInfo, random_token};
use crate::error::{AppError, AppResult};
use crate::policy::{Principal, Scope};
use crate::services::fees::{self, BatchInput, PaymentMethod, Selected, method_label};
use crate::services::{self, Actor, jurisdiction};
use crate::view::{Chrome, notice, render};

pub struct UnitDue {
    pub id: i64,
    pub name: String,
    pub agency: String,
    pub count: i64,
    pub amount: String,
}

pub struct BatchRow {
    pub id: i64,
    pub receipt_no: String,
    pub unit: String,
    pub total: String,
    pub refunded: String,
    pub method: &'static str,
    pub cashier: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "fees.html")]
struct IndexPage {
    chrome: Chrome,
    campaign_title: String,
    units: Vec<UnitDue>,
    batches: Vec<BatchRow>,
}

pub async fn index(State(state): State<AppState>, p: Principal, scope: Scope, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    let (campaign, _) = services::campaigns::current(&state).await?;
    let db = state.store().conn();
    let table = fees::fee_table(&state, campaign.id).await?;
    let agencies = jurisdiction::agencies(&state).await?;
    let mut per_unit: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (unit_id, level, n) in store_fees::awaiting_counts(db, campaign.id).await? {
        let each = u8::try_from(level).ok().and_then(Level::from_number).and_then(|l| fee_total(l, &table)).unwrap_or(0);
        let entry = per_unit.entry(unit_id).or_default();
        entry.0 += n;
        entry.1 = entry.1.saturating_add(each.saturating_mul(n));
    }
    let mut due = Vec::new();
    for (unit_id, (count, amount)) in per_unit {
        let Some(u) = units::get(db, unit_id).await? else { continue };
        if !scope.covers_unit(u.id, &u.agency_code) {
            continue;
        }
        due.push(UnitDue {
            id: u.id,
            agency: jurisdiction::agency_name(&agencies, &u.agency_code),
            name: u.name,
            count,
            amount: format_fen(amount),
        });
    }
    due.sort_by(|a, b| a.agency.cmp(&b.agency).then_with(|| a.name.cmp(&b.name)));
    let mut batches = Vec::new();
    for b in store_fees::recent_batches(db, campaign.id, scope.agency_filter().as_deref(), 30).await? {
        let unit = units::get(db, b.unit_id).await?.map(|u| u.name).unwrap_or_default();
        batches.push(BatchRow {
            id: b.id,
            receipt_no: b.receipt_no,
            unit,
            total: format_fen(b.total_fen),
            refunded: format_fen(b.refunded_fen),
            method: method_label(&b.payment_method),
            cashier: b.cashier_name,
            at: format_shanghai(from_ms(b.recorded_at)),
        });
    }
    let page = IndexPage {
        chrome: Chrome::for_principal(&p, "/fees").with_notice(notice(q.msg.as_deref())),
        campaign_title: campaign.title,
        units: due,
        batches,
    };
    Ok(html(render(&page)))
}

pub struct DueRow {
    pub id: i64,
    pub version: i32,
    pub name: String,
    pub id_number: String,
    pub level: &'static str,
    pub status: &'static str,
    pub items: String,
    pub amount_fen: i64,
    pub amount: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "fee_unit.html")]
struct UnitFormPage {
    chrome: Chrome,
    unit_id: i64,
    unit_name: String,
    agency_name: String,
    rows: Vec<DueRow>,
    total: String,
    idempotency_key: String,
    payer_name: String,
    method: String,
    methods: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    general_error: Option<String>,
}

fn items_text(charges: &[FeeCharge]) -> String {
    charges
        .iter()
        .map(|c| {
            if c.count == 1 {
                format!("{} {}", c.item.label(), format_fen(c.unit_fen))
            } else {
                format!("{} {}×{}", c.item.label(), c.count, format_fen(c.unit_fen))
            }
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// The form, fresh or after a refused submission (`form` keeps what was typed and ticked).
async fn unit_page(
    state: &AppState,
    p: &Principal,
    unit_id: i64,
    form: Option<&FormPairs>,
    errors: FieldErrors,
    general_error: Option<String>,
) -> AppResult<String> {
    let (campaign, _) = services::campaigns::current(state).await?;
    let unit = units::get(state.store().conn(), unit_id).await?.ok_or(AppError::NotFound)?;
    let agencies = jurisdiction::agencies(state).await?;
    let due = fees::awaiting_for_unit(state, campaign.id, unit_id).await?;
    let ticked: Option<Vec<String>> = form.map(|f| f.0.iter().filter(|(k, _)| k == "app").map(|(_, v)| v.clone()).collect());
    let total = due.iter().fold(0_i64, |sum, d| sum.saturating_add(d.total_fen));
    let rows = due
        .into_iter()
        .map(|d| DueRow {
            id: d.application.id,
            version: d.application.version,
            checked: ticked.as_ref().is_none_or(|t| t.contains(&d.application.id.to_string())),
            name: d.name,
            id_number: d.id_number,
            level: d.level.map_or("", Level::label),
            status: ApplicationStatus::parse(&d.application.status).map_or("", ApplicationStatus::label),
            items: items_text(&d.charges),
            amount_fen: d.total_fen,
            amount: format_fen(d.total_fen),
        })
        .collect();
    let key = form.map(|f| f.get("idempotency_key")).filter(|k| !k.is_empty()).unwrap_or_else(|| random_token(18));
    let page = UnitFormPage {
        chrome: Chrome::for_principal(p, "/fees"),
        unit_id,
        agency_name: jurisdiction::agency_name(&agencies, &unit.agency_code),
        unit_name: unit.name,
        rows,
        total: format_fen(total),
        idempotency_key: key,
        payer_name: form.map(|f| f.get("payer_name")).unwrap_or_default(),
        method: form.map(|f| f.get("method")).unwrap_or_else(|| PaymentMethod::Transfer.as_str().to_owned()),
        methods: PaymentMethod::ALL.iter().map(|m| (m.as_str(), m.label())).collect(),
        errors,
        general_error,
    };
    Ok(render(&page))
}

pub async fn unit_form(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> AppResult<Response> {
    Ok(html(unit_page(&state, &p, id, None, FieldErrors::new(), None).await?))
}

/// Reads the ticked applications with the version and amount the page showed for each.
fn read_batch(f: &FormPairs) -> Result<BatchInput, AppError> {
    let mut selected = Vec::new();
    for (_, v) in f.0.iter().filter(|(k, _)| k == "app") {
        let id = v.trim().parse::<i64>().map_err(|_| AppError::field("app", "缴费人员：所选人员无效，请刷新后重新选择"))?;
        selected.push(Selected {
            id,
            version: f.get(&format!("v_{id}")).trim().parse().ok(),
            amount_fen: f.get(&format!("f_{id}")).trim().parse().ok(),
        });
    }
    Ok(BatchInput { selected, payer_name: f.get("payer_name"), method: f.get("method"), idempotency_key: f.get("idempotency_key") })
}

pub async fn record(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    f: FormPairs,
) -> AppResult<Response> {
    let result = match read_batch(&f) {
        Ok(input) => fees::record_batch(&state, &p, &Actor::of(&p, &info), id, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(batch) => Ok(see_other(&format!("/fee-batches/{batch}?msg=fee_recorded"))),
        Err(AppError::Invalid(errors)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, unit_page(&state, &p, id, Some(&f), errors, None).await?))
        }
        Err(AppError::Conflict(m)) => {
            Ok(html_status(StatusCode::CONFLICT, unit_page(&state, &p, id, Some(&f), FieldErrors::new(), Some(m)).await?))
        }
        Err(e) => Err(e),
    }
}

pub struct PersonRow {
    pub application_id: i64,
    pub name: String,
    pub level: &'static str,
    pub paid: String,
    pub refunded: String,
}

pub struct RefundRow {
    pub at: String,
    pub whom: String,
    pub amount: String,
    pub reason: String,
    pub actor: String,
}

#[derive(Template)]
#[template(path = "fee_batch.html")]
struct BatchPage {
    chrome: Chrome,
    id: i64,
    receipt_no: String,
    unit_name: String,
    agency_name: String,
    payer_name: String,
    method: &'static str,
    cashier: String,
    at: String,
    total: String,
    refunded: String,
    people: Vec<PersonRow>,
    refunds: Vec<RefundRow>,
    errors: FieldErrors,
    target: String,
    amount: String,
    reason: String,
}

async fn batch_page(
    state: &AppState,
    p: &Principal,
    id: i64,
    form: Option<&FormPairs>,
    errors: FieldErrors,
    msg: Option<&str>,
) -> AppResult<String> {
    let v = fees::batch_view(state, id).await?;
    let name_of = |app: Option<i64>| match app {
        None => "整批".to_owned(),
        Some(a) => v.people.iter().find(|x| x.application_id == a).map_or_else(|| format!("申报 {a}"), |x| x.name.clone()),
    };
    let page = BatchPage {
        chrome: Chrome::for_principal(p, "/fees").with_notice(notice(msg)),
        id,
        receipt_no: v.batch.receipt_no.clone(),
        unit_name: v.unit_name.clone(),
        agency_name: v.agency_name.clone(),
        payer_name: v.batch.payer_name.clone(),
        method: method_label(&v.batch.payment_method),
        cashier: format!("{}（{}）", v.batch.cashier_name, v.batch.cashier),
        at: format_shanghai(from_ms(v.batch.recorded_at)),
        total: format_fen(v.batch.total_fen),
        refunded: format_fen(v.batch.refunded_fen),
        people: v
            .people
            .iter()
            .map(|x| PersonRow {
                application_id: x.application_id,
                name: x.name.clone(),
                level: x.level.map_or("", Level::short_label),
                paid: format_fen(x.paid_fen),
                refunded: format_fen(x.refunded_fen),
            })
            .collect(),
        refunds: v
            .refunds
            .iter()
            .map(|r| RefundRow {
                at: format_shanghai(from_ms(r.at)),
                whom: name_of(r.application_id),
                amount: format_fen(r.amount_fen),
                reason: r.reason.clone(),
                actor: r.actor.clone(),
            })
            .collect(),
        errors,
        target: form.map(|f| f.get("target")).unwrap_or_else(|| "all".to_owned()),
        amount: form.map(|f| f.get("amount")).unwrap_or_default(),
        reason: form.map(|f| f.get("reason")).unwrap_or_default(),
    };
    Ok(render(&page))
}

pub async fn show(State(state): State<AppState>, p: Principal, Path(id): Path<i64>, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(batch_page(&state, &p, id, None, FieldErrors::new(), q.msg.as_deref()).await?))
}

pub async fn receipt(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    let (receipt_no, pdf) = fees::receipt_pdf(&state, &Actor::of(&p, &info), id).await?;
    Ok(super::pdf(&format!("{receipt_no}.pdf"), pdf))
}

pub async fn refund(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    f: FormPairs,
) -> AppResult<Response> {
    match fees::refund(&state, &Actor::of(&p, &info), id, &f.get("target"), &f.get("amount"), &f.get("reason")).await {
        Ok(()) => Ok(see_other(&format!("/fee-batches/{id}?msg=refunded"))),
        Err(AppError::Invalid(errors)) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, batch_page(&state, &p, id, Some(&f), errors, None).await?))
        }
        Err(e) => Err(e),
    }
}
