//! The item bank's pages (题库): the list with filters, import and export; the item form; one
//! item with its content, history and review actions.
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gongkao_domain::campaign::format_shanghai;
use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use gongkao_domain::item_bank::{ItemAction, ItemPool, ItemStatus, OPTION_LABELS};
use gongkao_domain::paging::Page;
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::from_ms;
use gongkao_storage::items::{Item, ItemFilter};

use super::{FormPairs, html, html_status, see_other};
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::Actor;
use crate::services::items::{self, format_points};
use crate::view::{Chrome, notice, page_link, query_string, render};

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    pub pool: Option<String>,
    pub subject: Option<String>,
    pub level: Option<String>,
    pub work_type: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub knowledge_point: Option<String>,
    pub page: Option<u64>,
    pub msg: Option<String>,
    pub imported: Option<u32>,
}

impl ListQuery {
    fn filter(&self) -> ItemFilter {
        let opt = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        ItemFilter {
            pool: opt(&self.pool).and_then(|p| ItemPool::parse(&p)).map(|p| p.as_str().to_owned()),
            subject: opt(&self.subject).and_then(|s| Subject::parse(&s)).map(|s| s.as_str().to_owned()),
            level: opt(&self.level).and_then(|l| l.parse().ok()),
            work_type: opt(&self.work_type),
            kind: opt(&self.kind).and_then(|k| ItemKind::parse(&k)).map(|k| k.as_str().to_owned()),
            status: opt(&self.status).and_then(|s| ItemStatus::parse(&s)).map(|s| s.as_str().to_owned()),
            knowledge_point: opt(&self.knowledge_point),
            ids: None,
        }
    }

    fn query(&self) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let (subject, level, work_type, kind, status, kp) =
            (v(&self.subject), v(&self.level), v(&self.work_type), v(&self.kind), v(&self.status), v(&self.knowledge_point));
        let pool = v(&self.pool);
        query_string(&[
            ("pool", &pool),
            ("subject", &subject),
            ("level", &level),
            ("work_type", &work_type),
            ("kind", &kind),
            ("status", &status),
            ("knowledge_point", &kp),
        ])
    }

    /// The filter in words, for the export's audit entry.
    fn describe(&self) -> String {
        let f = self.filter();
        let mut parts = Vec::new();
        if let Some(p) = f.pool.as_deref().and_then(ItemPool::parse) {
            parts.push(p.label().to_owned());
        }
        if let Some(s) = f.subject.as_deref().and_then(Subject::parse) {
            parts.push(s.label().to_owned());
        }
        if let Some(l) = f.level {
            parts.push(format!("{l}级"));
        }
        if let Some(w) = f.work_type {
            parts.push(w);
        }
        if let Some(k) = f.kind.as_deref().and_then(ItemKind::parse) {
            parts.push(k.label().to_owned());
        }
        if let Some(s) = f.status.as_deref().and_then(ItemStatus::parse) {
            parts.push(s.label().to_owned());
        }
        if let Some(kp) = f.knowledge_point {
            parts.push(kp);
        }
        parts.join("，")
    }
}

pub struct ItemRow {
    pub id: i64,
    pub pool: &'static str,
    pub pool_code: String,
    pub subject: &'static str,
    pub level: i32,
    pub work_type: String,
    pub kind: &'static str,
    pub difficulty: i32,
    pub knowledge_point: String,
    pub points: String,
    pub status: &'static str,
    pub status_code: String,
    pub version: i32,
    pub author: String,
    pub updated: String,
}

fn row(i: &Item) -> ItemRow {
    ItemRow {
        id: i.id,
        pool: ItemPool::parse(&i.pool).map_or("", ItemPool::label),
        pool_code: i.pool.clone(),
        subject: Subject::parse(&i.subject).map_or("", Subject::label),
        level: i.level,
        work_type: i.work_type.clone().unwrap_or_else(|| "（各工种共用）".to_owned()),
        kind: ItemKind::parse(&i.kind).map_or("", ItemKind::label),
        difficulty: i.difficulty,
        knowledge_point: i.knowledge_point.clone(),
        points: format_points(i.points_tenths),
        status: ItemStatus::parse(&i.status).map_or("", ItemStatus::label),
        status_code: i.status.clone(),
        version: i.current_version,
        author: i.created_by.clone(),
        updated: format_shanghai(from_ms(i.updated_at)),
    }
}

type Choices = Vec<(&'static str, &'static str)>;

fn subjects() -> Choices {
    Subject::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
}
fn pools() -> Choices {
    ItemPool::ALL.iter().map(|p| (p.as_str(), p.label())).collect()
}
fn kinds() -> Choices {
    ItemKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect()
}
fn statuses() -> Choices {
    ItemStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
}
fn levels() -> Vec<(String, &'static str)> {
    gongkao_domain::campaign::Level::ALL.iter().map(|l| (l.number().to_string(), l.label())).collect()
}
fn difficulties() -> Vec<(String, &'static str)> {
    (Difficulty::MIN..=Difficulty::MAX).filter_map(Difficulty::new).map(|d| (d.value().to_string(), d.label())).collect()
}

#[derive(Template)]
#[template(path = "items.html")]
struct ListPage {
    chrome: Chrome,
    q: ListQuery,
    rows: Vec<ItemRow>,
    total: u64,
    counts: Vec<(&'static str, i64)>,
    pools: Choices,
    subjects: Choices,
    kinds: Choices,
    statuses: Choices,
    levels: Vec<(String, &'static str)>,
    difficulties: Vec<(String, &'static str)>,
    work_types: Vec<String>,
    export_link: String,
    prev_link: Option<String>,
    next_link: Option<String>,
    can_write: bool,
    import_errors: Vec<String>,
}

async fn list_page(state: &AppState, p: &Principal, q: ListQuery, import_errors: Vec<String>) -> AppResult<String> {
    let page = Page::new(q.page, Some(30));
    let result = items::list(state, &q.filter(), page).await?;
    let counts = gongkao_storage::items::count_by_status(state.store().conn())
        .await?
        .into_iter()
        .filter_map(|(s, n)| ItemStatus::parse(&s).map(|s| (s.label(), n)))
        .collect();
    let base = q.query();
    let prev_link = (page.number > 1).then(|| page_link(&base, page.number - 1));
    let next_link = (page.number * page.size < result.total).then(|| page_link(&base, page.number + 1));
    let msg = match q.imported {
        Some(n) => Some(format!("已导入 {n} 道试题，均为草稿，提交审核并通过后进入组卷题池。")),
        None => notice(q.msg.as_deref()),
    };
    let view = ListPage {
        chrome: Chrome::for_principal(p, "/items").with_notice(msg),
        rows: result.items.iter().map(row).collect(),
        total: result.total,
        counts,
        pools: pools(),
        subjects: subjects(),
        kinds: kinds(),
        statuses: statuses(),
        levels: levels(),
        difficulties: difficulties(),
        work_types: items::work_types(state).await?,
        export_link: if base.is_empty() { "/items/export.zip".to_owned() } else { format!("/items/export.zip?{base}") },
        prev_link,
        next_link,
        can_write: matches!(p.role, Role::ItemWriter | Role::ItemReviewer),
        import_errors,
        q,
    };
    Ok(render(&view))
}

pub async fn index(State(state): State<AppState>, p: Principal, Query(q): Query<ListQuery>) -> AppResult<Response> {
    Ok(html(list_page(&state, &p, q, Vec::new()).await?))
}

#[derive(Template)]
#[template(path = "item_form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new item.
    id: Option<i64>,
    version: i32,
    values: Vec<(String, String)>,
    keys: Vec<String>,
    option_fields: Vec<(&'static str, String)>,
    pools: Choices,
    /// The pool of an item being edited (fixed at creation; shown, not chosen).
    pool_label: &'static str,
    subjects: Choices,
    kinds: Choices,
    levels: Vec<(String, &'static str)>,
    difficulties: Vec<(String, &'static str)>,
    work_types: Vec<String>,
    errors: FieldErrors,
    has_images: bool,
}

impl FormPage {
    fn value(&self, key: &str) -> &str {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn has_key(&self, label: &&str) -> bool {
        self.keys.iter().any(|k| k == *label)
    }
}

async fn form_page(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
    version: i32,
    values: Vec<(String, String)>,
    errors: FieldErrors,
    has_images: bool,
) -> AppResult<String> {
    let keys = values.iter().filter(|(k, _)| k == "key").map(|(_, v)| v.clone()).collect();
    let option_fields = OPTION_LABELS
        .iter()
        .map(|l| {
            let name = format!("option_{}", l.to_lowercase());
            let v = values.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default();
            (*l, v)
        })
        .collect();
    let pool_label = values.iter().find(|(k, _)| k == "pool").and_then(|(_, v)| ItemPool::parse(v)).map_or("", ItemPool::label);
    let page = FormPage {
        chrome: Chrome::for_principal(p, if id.is_some() { "/items" } else { "/items/new" }),
        id,
        version,
        values,
        keys,
        option_fields,
        pools: pools(),
        pool_label,
        subjects: subjects(),
        kinds: kinds(),
        levels: levels(),
        difficulties: difficulties(),
        work_types: items::work_types(state).await?,
        errors,
        has_images,
    };
    Ok(render(&page))
}

pub async fn new_form(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    let defaults = vec![
        ("pool".to_owned(), ItemPool::Exam.as_str().to_owned()),
        ("difficulty".to_owned(), "3".to_owned()),
        ("points".to_owned(), "1".to_owned()),
    ];
    Ok(html(form_page(&state, &p, None, 0, defaults, FieldErrors::new(), false).await?))
}

pub async fn create(State(state): State<AppState>, p: Principal, info: RequestInfo, form: FormPairs) -> AppResult<Response> {
    let work_types = items::work_types(&state).await?;
    let result = match (items::parse_pool(&form.0), items::parse_form(&form.0, &work_types)) {
        (Ok(pool), Ok(input)) => items::create_in(&state, &Actor::of(&p, &info), pool, input, Vec::new()).await,
        (pool, input) => {
            let mut errors = pool.err().unwrap_or_default();
            errors.extend(input.err().unwrap_or_default());
            Err(AppError::Invalid(errors))
        }
    };
    match result {
        Ok(id) => Ok(see_other(&format!("/items/{id}?msg=saved"))),
        Err(AppError::Invalid(errors)) => {
            let body = form_page(&state, &p, None, 0, form.0, errors, false).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
        Err(e) => Err(e),
    }
}

/// The form's fields for a stored version.
fn values_of(view: &items::ItemView) -> Vec<(String, String)> {
    let i = &view.item;
    let v = &view.version;
    let mut values = vec![
        ("pool".to_owned(), i.pool.clone()),
        ("subject".to_owned(), i.subject.clone()),
        ("level".to_owned(), i.level.to_string()),
        ("work_type".to_owned(), i.work_type.clone().unwrap_or_default()),
        ("kind".to_owned(), v.kind.clone()),
        ("difficulty".to_owned(), v.difficulty.to_string()),
        ("knowledge_point".to_owned(), v.knowledge_point.clone()),
        ("points".to_owned(), format_points(v.points_tenths)),
        ("stem".to_owned(), view.content.stem.clone()),
        ("marking_guide".to_owned(), view.content.marking_guide.clone()),
    ];
    if ItemKind::parse(&v.kind) != Some(ItemKind::TrueFalse) {
        for (n, o) in view.content.options.iter().enumerate() {
            if let Some(l) = OPTION_LABELS.get(n) {
                values.push((format!("option_{}", l.to_lowercase()), o.clone()));
            }
        }
    }
    for k in &view.content.key {
        if let Some(l) = OPTION_LABELS.get(*k) {
            values.push(("key".to_owned(), (*l).to_owned()));
        }
    }
    values
}

pub async fn edit_form(State(state): State<AppState>, p: Principal, info: RequestInfo, Path(id): Path<i64>) -> AppResult<Response> {
    let view = items::view(&state, &Actor::of(&p, &info), id, None).await?;
    let has_images = !view.content.images.is_empty();
    Ok(html(form_page(&state, &p, Some(id), view.item.current_version, values_of(&view), FieldErrors::new(), has_images).await?))
}

pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    let work_types = items::work_types(&state).await?;
    let version: i32 = form.get("version").parse().unwrap_or(0);
    let result = match items::parse_form(&form.0, &work_types) {
        Ok(input) => items::revise(&state, &Actor::of(&p, &info), id, version, input, &form.get("change_note")).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/items/{id}?msg=saved"))),
        Err(AppError::Invalid(errors)) => {
            let body = form_page(&state, &p, Some(id), version, form.0, errors, false).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
        Err(e) => Err(e),
    }
}

pub struct OptionView {
    pub label: &'static str,
    pub text: String,
    pub correct: bool,
}

pub struct ImageView {
    pub name: String,
    pub data_url: String,
}

pub struct HistoryRow {
    pub version: i32,
    pub by: String,
    pub at: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "item_detail.html")]
struct DetailPage {
    chrome: Chrome,
    row: ItemRow,
    shown_version: i32,
    is_current: bool,
    stem: String,
    options: Vec<OptionView>,
    key: String,
    marking_guide: String,
    images: Vec<ImageView>,
    history: Vec<HistoryRow>,
    review_note: String,
    reviewed: String,
    can_edit: bool,
    can_submit: bool,
    can_review: bool,
    can_retire: bool,
    can_reinstate: bool,
    own_version: bool,
    error: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DetailQuery {
    pub version: Option<i32>,
    pub msg: Option<String>,
}

async fn detail_page(
    state: &AppState,
    p: &Principal,
    info: &RequestInfo,
    id: i64,
    q: &DetailQuery,
    error: Option<String>,
) -> AppResult<String> {
    use base64::Engine;
    let view = items::view(state, &Actor::of(p, info), id, q.version).await?;
    let item = &view.item;
    let status = ItemStatus::parse(&item.status);
    let is_current = view.version.version == item.current_version;
    let writer = matches!(p.role, Role::ItemWriter | Role::ItemReviewer);
    let reviewer = p.role == Role::ItemReviewer;
    let current_author = if is_current { view.version.created_by.clone() } else { String::new() };
    let own_version = current_author == p.username;
    let kind = ItemKind::parse(&view.version.kind);
    let options = view
        .content
        .options
        .iter()
        .enumerate()
        .map(|(n, text)| OptionView {
            label: OPTION_LABELS.get(n).copied().unwrap_or("?"),
            text: text.clone(),
            correct: view.content.key.contains(&n),
        })
        .collect();
    let key = match kind {
        Some(ItemKind::TrueFalse) => view.content.key.first().and_then(|k| view.content.options.get(*k)).cloned().unwrap_or_default(),
        _ => view.content.key_letters(),
    };
    let images = view
        .content
        .images
        .iter()
        .map(|i| ImageView {
            name: i.name.clone(),
            data_url: format!("data:{};base64,{}", i.content_type, base64::engine::general_purpose::STANDARD.encode(&i.bytes)),
        })
        .collect();
    let mut r = row(item);
    // An older version shows its own metadata.
    r.kind = kind.map_or("", ItemKind::label);
    r.difficulty = view.version.difficulty;
    r.knowledge_point = view.version.knowledge_point.clone();
    r.points = format_points(view.version.points_tenths);
    let page = DetailPage {
        chrome: Chrome::for_principal(p, "/items").with_notice(notice(q.msg.as_deref())),
        row: r,
        shown_version: view.version.version,
        is_current,
        stem: view.content.stem.clone(),
        options,
        key,
        marking_guide: view.content.marking_guide.clone(),
        images,
        history: view
            .history
            .iter()
            .map(|(v, by, at, note)| HistoryRow {
                version: *v,
                by: by.clone(),
                at: format_shanghai(from_ms(*at)),
                note: note.clone().unwrap_or_default(),
            })
            .collect(),
        review_note: item.review_note.clone().unwrap_or_default(),
        reviewed: match (&item.reviewed_by, item.reviewed_at) {
            (Some(by), Some(at)) => format!("{by}，{}", format_shanghai(from_ms(at))),
            _ => String::new(),
        },
        can_edit: writer && is_current && matches!(status, Some(ItemStatus::Draft | ItemStatus::Active)),
        can_submit: writer && is_current && status == Some(ItemStatus::Draft),
        can_review: reviewer && is_current && status == Some(ItemStatus::InReview),
        can_retire: reviewer && is_current && matches!(status, Some(ItemStatus::Draft | ItemStatus::InReview | ItemStatus::Active)),
        can_reinstate: reviewer && is_current && status == Some(ItemStatus::Retired),
        own_version,
        error,
    };
    Ok(render(&page))
}

pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> AppResult<Response> {
    Ok(html(detail_page(&state, &p, &info, id, &q, None).await?))
}

async fn decide(state: &AppState, p: &Principal, info: &RequestInfo, id: i64, form: &FormPairs, action: ItemAction) -> AppResult<Response> {
    let version: i32 = form.get("version").parse().unwrap_or(0);
    match items::act(state, &Actor::of(p, info), id, version, action, &form.get("note")).await {
        Ok(_) => Ok(see_other(&format!("/items/{id}?msg=saved"))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = e.status();
            let body = detail_page(state, p, info, id, &DetailQuery::default(), Some(e.message())).await?;
            Ok(html_status(status, body))
        }
        Err(e) => Err(e),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    decide(&state, &p, &info, id, &form, ItemAction::SubmitForReview).await
}

pub async fn review(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(id): Path<i64>,
    form: FormPairs,
) -> AppResult<Response> {
    let action = match form.get("decision").as_str() {
        "approve" => ItemAction::Approve,
        "reject" => ItemAction::Reject,
        "retire" => ItemAction::Retire,
        "reinstate" => ItemAction::Reinstate,
        _ => return Err(AppError::field("decision", "审核意见：请选择通过、退回、停用或重新送审")),
    };
    decide(&state, &p, &info, id, &form, action).await
}

/// The QTI 2.1 export of the list's filter, as a content package.
pub async fn export(State(state): State<AppState>, p: Principal, info: RequestInfo, Query(q): Query<ListQuery>) -> AppResult<Response> {
    match items::export_qti(&state, &Actor::of(&p, &info), &q.filter(), &q.describe()).await {
        Ok((bytes, _)) => Ok((
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"items-qti21.zip\"".to_owned()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            bytes,
        )
            .into_response()),
        Err(AppError::Conflict(m)) => {
            let body = list_page(&state, &p, q, vec![m]).await?;
            Ok(html_status(StatusCode::CONFLICT, body))
        }
        Err(e) => Err(e),
    }
}

pub async fn import(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let result = async {
        let unreadable = || AppError::field("file", "文件：请选择要导入的 QTI 文件（.xml 或 .zip 内容包）后上传");
        let mut multipart = multipart.map_err(|_| unreadable())?;
        let mut pairs = Vec::new();
        let mut bytes = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                bytes = field.bytes().await.map_err(|_| unreadable())?.to_vec();
            } else {
                pairs.push((name, field.text().await.map_err(|_| unreadable())?));
            }
        }
        let work_types = items::work_types(&state).await?;
        let defaults = items::parse_defaults(&pairs, &work_types).map_err(AppError::Invalid)?;
        items::import_qti(&state, &Actor::of(&p, &info), &bytes, &defaults).await
    }
    .await;
    match result {
        Ok(n) => Ok(see_other(&format!("/items?imported={n}"))),
        Err(AppError::Invalid(e)) => {
            let body = list_page(&state, &p, ListQuery::default(), e.iter().map(|x| x.message.clone()).collect()).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
        Err(e) => Err(e),
    }
}

pub async fn import_template() -> AppResult<Response> {
    Ok(super::xlsx("item-import-template.xlsx", crate::services::item_sheet::template()?))
}
