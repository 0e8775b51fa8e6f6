//! Blueprints and assembled forms (组卷), for the item bank's reviewers.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gongkao_domain::campaign::format_shanghai;
use gongkao_domain::exam::Subject;
use gongkao_domain::exam::assembly::FormItem;
use gongkao_domain::exam::blueprint::format_points;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::from_ms;
use gongkao_storage::papers as store;

use super::agencies::MsgQuery;
use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::{Actor, items, papers};
use crate::view::{Chrome, notice, render};

pub struct BlueprintRow {
    pub id: i64,
    pub title: String,
    pub items: u64,
    pub duration: u32,
    pub pass_mark: u32,
    pub forms: u32,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "blueprints.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<BlueprintRow>,
    subjects: Vec<(&'static str, &'static str)>,
    levels: Vec<(String, &'static str)>,
    work_types: Vec<String>,
    errors: FieldErrors,
    values: Vec<(String, String)>,
}

impl ListPage {
    fn value(&self, key: &str) -> &str {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

fn title(b: &gongkao_domain::exam::blueprint::Blueprint) -> String {
    format!("{} {}{}", b.level.short_label(), b.subject.label(), b.work_type.as_deref().map(|w| format!("（{w}）")).unwrap_or_default())
}

async fn list_page(
    state: &AppState,
    p: &Principal,
    errors: FieldErrors,
    values: Vec<(String, String)>,
    msg: Option<&str>,
) -> AppResult<String> {
    let mut rows = Vec::new();
    for r in store::blueprints(state.store().conn()).await? {
        let b = papers::blueprint_of(&r)?;
        rows.push(BlueprintRow {
            id: r.id,
            title: title(&b),
            items: b.item_count(),
            duration: b.duration_minutes,
            pass_mark: b.pass_mark,
            forms: b.forms_per_sitting,
            updated: format_shanghai(from_ms(r.updated_at)),
        });
    }
    let values = if values.is_empty() {
        vec![
            ("duration_minutes".to_owned(), "90".to_owned()),
            ("pass_mark".to_owned(), "60".to_owned()),
            ("forms_per_sitting".to_owned(), "4".to_owned()),
        ]
    } else {
        values
    };
    let page = ListPage {
        chrome: Chrome::for_principal(p, "/blueprints").with_notice(notice(msg)),
        rows,
        subjects: Subject::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        levels: gongkao_domain::campaign::Level::ALL.iter().map(|l| (l.number().to_string(), l.label())).collect(),
        work_types: items::work_types(state).await?,
        errors,
        values,
    };
    Ok(render(&page))
}

pub async fn index(State(state): State<AppState>, p: Principal, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(list_page(&state, &p, FieldErrors::new(), Vec::new(), q.msg.as_deref()).await?))
}

pub async fn save(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let work_types = items::work_types(&state).await?;
    let result = match papers::parse_form(&form.0, &work_types) {
        Ok(b) => papers::save(&state, &Actor::of(&p, &info), &b).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(id) => Ok(see_other(&format!("/blueprints/{id}?msg=saved"))),
        Err(AppError::Invalid(e)) => Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, list_page(&state, &p, e, form.0, None).await?)),
        Err(e) => Err(e),
    }
}

pub struct CellRow {
    pub label: String,
    pub count: u32,
    pub points: String,
    pub total: String,
}

pub struct FormView {
    pub number: String,
    pub items: i32,
    pub total: String,
    pub seed: String,
    pub first_items: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "blueprint.html")]
struct DetailPage {
    chrome: Chrome,
    id: i64,
    title: String,
    duration: u32,
    pass_mark: u32,
    partial: bool,
    forms_wanted: u32,
    cells: Vec<CellRow>,
    forms: Vec<FormView>,
    error: Option<String>,
}

fn form_letter(n: i32) -> String {
    match u8::try_from(n) {
        Ok(k @ 1..=26) => format!("{}卷", char::from(b'A' + k - 1)),
        _ => format!("第{n}套"),
    }
}

async fn detail_page(state: &AppState, p: &Principal, id: i64, error: Option<String>, msg: Option<&str>) -> AppResult<String> {
    let db = state.store().conn();
    let row = store::blueprint(db, id).await?.ok_or(AppError::NotFound)?;
    let b = papers::blueprint_of(&row)?;
    let forms = store::forms(db, id).await?;
    let page = DetailPage {
        chrome: Chrome::for_principal(p, "/blueprints").with_notice(notice(msg)),
        id,
        title: title(&b),
        duration: b.duration_minutes,
        pass_mark: b.pass_mark,
        partial: b.multiple_choice_partial_credit,
        forms_wanted: b.forms_per_sitting,
        cells: b
            .cells
            .iter()
            .map(|c| CellRow {
                label: c.label(),
                count: c.count,
                points: format_points(u64::from(c.points_per_item)),
                total: format_points(c.total_tenths()),
            })
            .collect(),
        forms: forms
            .iter()
            .map(|f| {
                let items: Vec<FormItem> = serde_json::from_str(&f.items).unwrap_or_default();
                FormView {
                    number: form_letter(f.number),
                    items: f.item_count,
                    total: format_points(u64::try_from(f.total_tenths).unwrap_or(0)),
                    seed: f.seed.clone(),
                    first_items: items.iter().take(8).map(|i| format!("{}(v{})", i.item_id, i.version)).collect::<Vec<_>>().join(" "),
                    created: format_shanghai(from_ms(f.created_at)),
                }
            })
            .collect(),
        error,
    };
    Ok(render(&page))
}

pub async fn show(State(state): State<AppState>, p: Principal, Path(id): Path<i64>, Query(q): Query<MsgQuery>) -> AppResult<Response> {
    Ok(html(detail_page(&state, &p, id, None, q.msg.as_deref()).await?))
}

pub async fn assemble(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    match papers::assemble(&state, &Actor::of(&p, &info), id).await {
        Ok(_) => Ok(see_other(&format!("/blueprints/{id}?msg=assembled"))),
        Err(e @ (AppError::Conflict(_) | AppError::Invalid(_))) => {
            let status = e.status();
            Ok(html_status(status, detail_page(&state, &p, id, Some(e.message()), None).await?))
        }
        Err(e) => Err(e),
    }
}
