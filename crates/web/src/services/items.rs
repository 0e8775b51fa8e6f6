//! The item bank's use cases: write, revise, review, view, import and export items.
//!
//! Content is sealed with the configured [`crate::crypto::ContentCipher`] before it reaches
//! storage and opened only here, for item-bank staff; every opening is an audited view, every
//! export an audited event. The associated data `gongkao-item:<uid>:v<version>` ties each
//! ciphertext to its item and version.
use std::io::{Cursor, Read, Write};

use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use gongkao_domain::item_bank::qti::{self, ManifestEntry};
use gongkao_domain::item_bank::{
    self, ItemAction, ItemActor, ItemContent, ItemImage, ItemMeta, ItemPool, ItemStatus, OPTION_LABELS, POINTS_SCALE, TRUE_FALSE_OPTIONS,
};
use gongkao_domain::paging::{Page, Paged};
use gongkao_domain::role::Role;
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::items::{self as store, Item, ItemFilter, ItemRowMeta, ItemVersion, Sealed};
use gongkao_storage::{StoreError, audit};
use rand::RngCore;

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// Largest upload the importer reads (a QTI package with images).
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
/// Items per import and per export.
pub const MAX_ITEMS_PER_FILE: usize = 5000;

/// One item as a form or an import produces it.
#[derive(Debug, Clone)]
pub struct ItemInput {
    pub meta: ItemMeta,
    pub content: ItemContent,
}

fn aad(uid: &str, version: i32) -> Vec<u8> {
    format!("gongkao-item:{uid}:v{version}").into_bytes()
}

fn new_uid() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn row_meta(m: &ItemMeta) -> ItemRowMeta {
    ItemRowMeta {
        subject: m.subject.as_str().to_owned(),
        level: i32::from(m.level),
        work_type: m.work_type.clone(),
        kind: m.kind.as_str().to_owned(),
        difficulty: i32::from(m.difficulty.value()),
        knowledge_point: m.knowledge_point.trim().to_owned(),
        points_tenths: i32::try_from(m.points_tenths).unwrap_or(i32::MAX),
    }
}

fn seal(state: &AppState, uid: &str, version: i32, content: &ItemContent) -> AppResult<Sealed> {
    let json = serde_json::to_vec(content).map_err(|e| AppError::Internal(format!("item content: {e}")))?;
    let s = state.config().item_cipher.seal(&json, &aad(uid, version));
    Ok(Sealed { cipher: s.cipher.to_owned(), key_id: s.key_id, nonce: s.nonce, ciphertext: s.ciphertext })
}

fn open(state: &AppState, item: &Item, v: &ItemVersion) -> AppResult<ItemContent> {
    let plain = state
        .config()
        .item_cipher
        .open(&v.cipher, &v.key_id, &v.nonce, &v.ciphertext, &aad(&item.uid, v.version))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    serde_json::from_slice(&plain).map_err(|e| AppError::Internal(format!("item content: {e}")))
}

/// Opens the items of an assembled form for delivery (the exam's paper server-side: stems,
/// options and keys), in the form's order at the recorded versions. The caller keeps keys on
/// the server and audits the opening once per form.
pub async fn open_for_delivery(state: &AppState, items: &[(i64, i32)]) -> AppResult<Vec<ItemContent>> {
    let db = state.store().conn();
    let mut out = Vec::with_capacity(items.len());
    for &(id, version) in items {
        let item = store::by_id(db, id).await?.ok_or(AppError::NotFound)?;
        let v = store::version(db, id, version).await?.ok_or(AppError::NotFound)?;
        out.push(open(state, &item, &v)?);
    }
    Ok(out)
}

/// The metadata of a stored item back in domain terms.
pub fn meta_of(item: &Item) -> Option<ItemMeta> {
    Some(ItemMeta {
        subject: Subject::parse(&item.subject)?,
        level: u8::try_from(item.level).ok()?,
        work_type: item.work_type.clone(),
        kind: ItemKind::parse(&item.kind)?,
        difficulty: Difficulty::new(u8::try_from(item.difficulty).ok()?)?,
        knowledge_point: item.knowledge_point.clone(),
        points_tenths: u32::try_from(item.points_tenths).ok()?,
    })
}

fn item_actor(actor: &Actor) -> ItemActor {
    if actor.role == Role::ItemReviewer.as_str() { ItemActor::Reviewer } else { ItemActor::Writer }
}

fn conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict => AppError::Conflict("已被他人处理，请刷新".to_owned()),
        other => other.into(),
    }
}

/// Parses points typed as `2`, `1.5` or `0.5` into tenths.
pub fn parse_points(text: &str) -> Option<u32> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 1 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let frac: u32 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    whole.checked_mul(POINTS_SCALE)?.checked_add(frac)
}

/// Stored tenths as staff write points (`1`, `1.5`).
pub fn format_points(tenths: i32) -> String {
    gongkao_domain::exam::blueprint::format_points(u64::try_from(tenths).unwrap_or(0))
}

/// Reads the item form. Every field that cannot be read is reported; the domain then checks
/// the item as a whole.
pub fn parse_form(pairs: &[(String, String)], work_types: &[String]) -> Result<ItemInput, FieldErrors> {
    let get = |k: &str| super::form_value(pairs, k).to_owned();
    let mut errors = FieldErrors::new();
    let subject = Subject::parse(&get("subject"));
    if subject.is_none() {
        errors.push("subject", "科目：请选择科目");
    }
    let level = get("level").parse::<u8>().ok().filter(|l| (1..=5).contains(l));
    if level.is_none() {
        errors.push("level", "等级：请选择一级至五级");
    }
    let kind = ItemKind::parse(&get("kind"));
    if kind.is_none() {
        errors.push("kind", "题型：请选择题型");
    }
    let difficulty = get("difficulty").parse::<u8>().ok().and_then(Difficulty::new);
    if difficulty.is_none() {
        errors.push("difficulty", "难度：请选择1（易）至5（难）");
    }
    let points = parse_points(&get("points"));
    if points.is_none() {
        errors.push("points", "分值：请填写分值，如 1 或 1.5（最多一位小数）");
    }
    let work_type = Some(get("work_type")).filter(|w| !w.is_empty());
    if let Some(w) = &work_type
        && !work_types.iter().any(|t| t == w)
    {
        errors.push("work_type", format!("工种：“{w}”不在本年度工种目录中"));
    }
    let kind_v = kind.unwrap_or(ItemKind::SingleChoice);
    let mut options: Vec<String> = match kind_v {
        ItemKind::TrueFalse => TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(),
        ItemKind::ShortAnswer | ItemKind::Essay => Vec::new(),
        _ => OPTION_LABELS.iter().map(|l| get(&format!("option_{}", l.to_lowercase()))).collect(),
    };
    while options.last().is_some_and(|o| o.is_empty()) && kind_v != ItemKind::TrueFalse {
        options.pop();
    }
    let key_text: String = pairs.iter().filter(|(k, _)| k == "key").map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(",");
    let key = if kind_v.is_objective() {
        match item_bank::parse_key(kind_v, &key_text) {
            Some(k) => k,
            None => {
                errors.push("key", "答案：请选择正确答案");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let content = ItemContent { stem: get("stem"), options, key, marking_guide: get("marking_guide"), images: Vec::new() };
    let (Some(subject), Some(level), Some(kind), Some(difficulty), Some(points)) = (subject, level, kind, difficulty, points) else {
        return Err(errors);
    };
    let meta = ItemMeta { subject, level, work_type, kind, difficulty, knowledge_point: get("knowledge_point"), points_tenths: points };
    if let Err(e) = item_bank::validate(&meta, &content) {
        errors.extend(e);
    }
    errors.into_result().map(|()| ItemInput { meta, content })
}

pub async fn work_types(state: &AppState) -> AppResult<Vec<String>> {
    let (campaign, _) = super::campaigns::current(state).await?;
    Ok(gongkao_storage::campaigns::work_types(state.store().conn(), campaign.catalogue_id).await?)
}

/// Reads the pool (题库类别) chosen on the create form: 正式题库 or 练习题库. The form
/// preselects 正式题库, so a form without the field (an older page, a script) means the exam's
/// pool; any other value is refused.
pub fn parse_pool(pairs: &[(String, String)]) -> Result<ItemPool, FieldErrors> {
    if !pairs.iter().any(|(k, _)| k == "pool") {
        return Ok(ItemPool::Exam);
    }
    ItemPool::parse(super::form_value(pairs, "pool"))
        .ok_or_else(|| FieldErrors(vec![gongkao_domain::validation::FieldError::new("pool", "题库类别：请选择正式题库或练习题库")]))
}

/// A new item of the exam's pool, as a draft.
pub async fn create(state: &AppState, actor: &Actor, input: ItemInput, images: Vec<ItemImage>) -> AppResult<i64> {
    create_in(state, actor, ItemPool::Exam, input, images).await
}

/// A new item, as a draft, in `pool` for good: an item never moves between the exam's pool and
/// the practice pool (a practice item once seen by candidates must never reach a real paper).
pub async fn create_in(state: &AppState, actor: &Actor, pool: ItemPool, input: ItemInput, images: Vec<ItemImage>) -> AppResult<i64> {
    let mut content = input.content;
    content.images = images;
    item_bank::validate(&input.meta, &content).map_err(AppError::Invalid)?;
    let uid = new_uid();
    let sealed = seal(state, &uid, 1, &content)?;
    let now = state.now();
    let tx = state.store().write().await?;
    let item = store::insert(
        tx.conn(),
        &uid,
        pool.as_str(),
        &row_meta(&input.meta),
        ItemStatus::Draft.as_str(),
        sealed,
        &actor.username,
        None,
        now,
    )
    .await?;
    audit::append(&tx, now, actor.record("item.create", format!("item:{}", item.id), format!("{}·{}", pool.label(), summary(&input.meta))))
        .await?;
    tx.commit().await?;
    Ok(item.id)
}

fn summary(m: &ItemMeta) -> String {
    format!(
        "{}·{}级{}·{}·难度{}·{}",
        m.subject.label(),
        m.level,
        m.work_type.as_deref().map(|w| format!("·{w}")).unwrap_or_default(),
        m.kind.label(),
        m.difficulty.value(),
        m.knowledge_point
    )
}

/// A new version of an item. Images are kept from the version edited (the form does not
/// carry them).
pub async fn revise(state: &AppState, actor: &Actor, id: i64, expected_version: i32, input: ItemInput, note: &str) -> AppResult<i32> {
    let db = state.store().conn();
    let item = store::by_id(db, id).await?.ok_or(AppError::NotFound)?;
    let status = ItemStatus::parse(&item.status).ok_or_else(|| AppError::Internal("item status".to_owned()))?;
    item_bank::next(status, ItemAction::Edit, item_actor(actor), false).map_err(AppError::Conflict)?;
    if item.current_version != expected_version {
        return Err(AppError::Conflict("已被他人处理，请刷新".to_owned()));
    }
    let note = note.trim();
    if note.chars().count() > 200 {
        return Err(AppError::field("change_note", "修改说明：不超过200字"));
    }
    let previous = store::version(db, id, expected_version).await?.ok_or(AppError::NotFound)?;
    let mut content = input.content;
    content.images = open(state, &item, &previous)?.images;
    let new_version = expected_version + 1;
    let sealed = seal(state, &item.uid, new_version, &content)?;
    let now = state.now();
    let tx = state.store().write().await?;
    store::add_version(
        tx.conn(),
        id,
        expected_version,
        &item.status,
        &row_meta(&input.meta),
        sealed,
        &actor.username,
        Some(note).filter(|n| !n.is_empty()),
        now,
    )
    .await
    .map_err(conflict)?;
    audit::append(&tx, now, actor.record("item.edit", format!("item:{id}"), format!("第{new_version}版：{}", summary(&input.meta))))
        .await?;
    tx.commit().await?;
    Ok(new_version)
}

/// Submit, approve, send back, retire or reinstate. A send-back needs a reason.
pub async fn act(state: &AppState, actor: &Actor, id: i64, expected_version: i32, action: ItemAction, note: &str) -> AppResult<ItemStatus> {
    let db = state.store().conn();
    let item = store::by_id(db, id).await?.ok_or(AppError::NotFound)?;
    if item.current_version != expected_version {
        return Err(AppError::Conflict("已被他人处理，请刷新".to_owned()));
    }
    let status = ItemStatus::parse(&item.status).ok_or_else(|| AppError::Internal("item status".to_owned()))?;
    let version = store::version(db, id, expected_version).await?.ok_or(AppError::NotFound)?;
    let wrote = version.created_by == actor.username;
    let to = item_bank::next(status, action, item_actor(actor), wrote).map_err(AppError::Conflict)?;
    let note = note.trim();
    if action == ItemAction::Reject && note.is_empty() {
        return Err(AppError::field("note", "退回原因：请写明需要修改的地方"));
    }
    if note.chars().count() > 500 {
        return Err(AppError::field("note", "意见：不超过500字"));
    }
    let (code, is_review) = match action {
        ItemAction::SubmitForReview => ("item.submit", false),
        ItemAction::Approve => ("item.approve", true),
        ItemAction::Reject => ("item.reject", true),
        ItemAction::Retire => ("item.retire", true),
        ItemAction::Reinstate => ("item.reinstate", false),
        ItemAction::Edit => return Err(AppError::Conflict("请使用修改表单".to_owned())),
    };
    let now = state.now();
    let tx = state.store().write().await?;
    store::set_status(
        tx.conn(),
        id,
        expected_version,
        status.as_str(),
        to.as_str(),
        is_review.then_some(actor.username.as_str()),
        Some(note).filter(|n| !n.is_empty()),
        now,
    )
    .await
    .map_err(conflict)?;
    let summary = if note.is_empty() { format!("第{expected_version}版") } else { format!("第{expected_version}版：{note}") };
    audit::append(&tx, now, actor.record(code, format!("item:{id}"), summary)).await?;
    tx.commit().await?;
    Ok(to)
}

/// Stores items already written and reviewed elsewhere (the demo's synthetic bank) as active
/// items of the exam's pool, in one transaction with one audit entry: the writer and the
/// reviewer are recorded as for a review in the system, and they must be two people.
pub async fn seed_reviewed(state: &AppState, writer: &Actor, reviewer: &Actor, inputs: Vec<ItemInput>) -> AppResult<usize> {
    seed_reviewed_in(state, ItemPool::Exam, writer, reviewer, inputs).await
}

/// [`seed_reviewed`] into `pool`.
pub async fn seed_reviewed_in(
    state: &AppState,
    pool: ItemPool,
    writer: &Actor,
    reviewer: &Actor,
    inputs: Vec<ItemInput>,
) -> AppResult<usize> {
    if writer.username == reviewer.username {
        return Err(AppError::Conflict("不能审核自己编写的试题".to_owned()));
    }
    for input in &inputs {
        item_bank::validate(&input.meta, &input.content).map_err(AppError::Invalid)?;
    }
    let now = state.now();
    let mut sealed = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let uid = new_uid();
        let s = seal(state, &uid, 1, &input.content)?;
        sealed.push((uid, s));
    }
    let tx = state.store().write().await?;
    for (input, (uid, s)) in inputs.iter().zip(sealed) {
        let item = store::insert(
            tx.conn(),
            &uid,
            pool.as_str(),
            &row_meta(&input.meta),
            ItemStatus::InReview.as_str(),
            s,
            &writer.username,
            None,
            now,
        )
        .await?;
        store::set_status(
            tx.conn(),
            item.id,
            1,
            ItemStatus::InReview.as_str(),
            ItemStatus::Active.as_str(),
            Some(&reviewer.username),
            None,
            now,
        )
        .await?;
    }
    audit::append(
        &tx,
        now,
        reviewer.record(
            "item.import",
            "item_bank",
            format!("载入已审核试题{}道，{}（{}编写）", inputs.len(), pool.label(), writer.username),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(inputs.len())
}

/// One version of an item with its content, for item-bank staff.
pub struct ItemView {
    pub item: Item,
    pub version: ItemVersion,
    pub content: ItemContent,
    pub history: Vec<(i32, String, i64, Option<String>)>,
}

/// Opens an item's content. Every call is recorded as a view in the audit log.
pub async fn view(state: &AppState, actor: &Actor, id: i64, version: Option<i32>) -> AppResult<ItemView> {
    let db = state.store().conn();
    let item = store::by_id(db, id).await?.ok_or(AppError::NotFound)?;
    let number = version.unwrap_or(item.current_version);
    let v = store::version(db, id, number).await?.ok_or(AppError::NotFound)?;
    let content = open(state, &item, &v)?;
    let history = store::history(db, id).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    audit::append(&tx, now, actor.record("item.view", format!("item:{id}"), format!("第{number}版"))).await?;
    tx.commit().await?;
    Ok(ItemView { item, version: v, content, history })
}

pub async fn list(state: &AppState, filter: &ItemFilter, page: Page) -> AppResult<Paged<Item>> {
    Ok(store::list(state.store().conn(), filter, page).await?)
}

/// A QTI 2.1 content package of the matching items' current versions. Audited with the count
/// and the filter, because an export takes item content out of the system.
pub async fn export_qti(state: &AppState, actor: &Actor, filter: &ItemFilter, filter_text: &str) -> AppResult<(Vec<u8>, usize)> {
    let db = state.store().conn();
    let items = store::all(db, filter, MAX_ITEMS_PER_FILE as u64 + 1).await?;
    if items.len() > MAX_ITEMS_PER_FILE {
        return Err(AppError::Conflict(format!("一次最多导出{MAX_ITEMS_PER_FILE}道试题，请缩小筛选范围")));
    }
    if items.is_empty() {
        return Err(AppError::Conflict("没有符合条件的试题可导出".to_owned()));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut entries = Vec::new();
    for item in &items {
        let v = store::version(db, item.id, item.current_version).await?.ok_or(AppError::NotFound)?;
        let content = open(state, item, &v)?;
        let meta = meta_of(item).ok_or_else(|| AppError::Internal(format!("item {} metadata", item.id)))?;
        let identifier = format!("item-{}", item.uid);
        let href = format!("items/{identifier}.xml");
        let mut image_hrefs = Vec::new();
        for (i, image) in content.images.iter().enumerate() {
            let ext = if image.content_type == "image/png" { "png" } else { "jpg" };
            let path = format!("images/{}-{}.{ext}", item.uid, i + 1);
            files.push((path.clone(), image.bytes.clone()));
            image_hrefs.push(path);
        }
        // Hrefs inside the item are relative to the item file.
        let relative: Vec<String> = image_hrefs.iter().map(|h| format!("../{h}")).collect();
        let title = format!("{}·{}", meta.subject.label(), meta.knowledge_point);
        let xml = qti::write_item(&identifier, &title, meta.kind, &content, meta.points_tenths, &relative);
        files.push((href.clone(), xml.into_bytes()));
        entries.push(ManifestEntry {
            identifier,
            href,
            files: image_hrefs,
            knowledge_point: Some(meta.knowledge_point.clone()),
            difficulty: Some(meta.difficulty),
            subject: Some(meta.subject),
            level: Some(meta.level),
            work_type: meta.work_type.clone(),
            kind: Some(meta.kind),
        });
    }
    let manifest = qti::write_manifest("gongkao-item-export", &entries);
    let zip = write_zip(&manifest, &files).map_err(|e| AppError::Internal(format!("zip: {e}")))?;
    let now = state.now();
    let tx = state.store().write().await?;
    let summary = format!(
        "导出{}道试题（QTI 2.1）{}",
        items.len(),
        if filter_text.is_empty() { String::new() } else { format!("，筛选：{filter_text}") }
    );
    audit::append(&tx, now, actor.record("item.export", "item_bank", summary)).await?;
    tx.commit().await?;
    Ok((zip, items.len()))
}

fn write_zip(manifest: &str, files: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file("imsmanifest.xml", options)?;
    w.write_all(manifest.as_bytes())?;
    for (name, bytes) in files {
        w.start_file(name.as_str(), options)?;
        w.write_all(bytes)?;
    }
    Ok(w.finish()?.into_inner())
}

/// What an import takes for metadata an item file does not carry.
#[derive(Debug, Clone)]
pub struct ImportDefaults {
    /// The pool every imported item goes into (正式题库 unless 练习题库 is chosen).
    pub pool: ItemPool,
    pub subject: Option<Subject>,
    pub level: Option<u8>,
    pub work_type: Option<String>,
    pub difficulty: Option<Difficulty>,
    pub knowledge_point: Option<String>,
    pub points_tenths: Option<u32>,
}

/// Reads the import form's defaults; each unreadable value is named.
pub fn parse_defaults(pairs: &[(String, String)], work_types: &[String]) -> Result<ImportDefaults, FieldErrors> {
    let get = |k: &str| super::form_value(pairs, k).to_owned();
    let mut errors = FieldErrors::new();
    let opt = |s: String| Some(s).filter(|s| !s.is_empty());
    let subject = opt(get("subject")).map(|s| Subject::parse(&s));
    if subject == Some(None) {
        errors.push("subject", "科目：无法识别");
    }
    let level = opt(get("level")).map(|s| s.parse::<u8>().ok().filter(|l| (1..=5).contains(l)));
    if level == Some(None) {
        errors.push("level", "等级：应为一级至五级");
    }
    let difficulty = opt(get("difficulty")).map(|s| s.parse::<u8>().ok().and_then(Difficulty::new));
    if difficulty == Some(None) {
        errors.push("difficulty", "难度：应为1至5");
    }
    let points = opt(get("points")).map(|s| parse_points(&s));
    if points == Some(None) {
        errors.push("points", "分值：应为数字，最多一位小数");
    }
    let work_type = opt(get("work_type"));
    if let Some(w) = &work_type
        && !work_types.iter().any(|t| t == w)
    {
        errors.push("work_type", format!("工种：“{w}”不在本年度工种目录中"));
    }
    let pool = match opt(get("pool")) {
        None => Some(ItemPool::Exam),
        Some(p) => ItemPool::parse(&p),
    };
    if pool.is_none() {
        errors.push("pool", "题库类别：请选择正式题库或练习题库");
    }
    errors.into_result().map(|()| ImportDefaults {
        pool: pool.unwrap_or_default(),
        subject: subject.flatten(),
        level: level.flatten(),
        work_type,
        difficulty: difficulty.flatten(),
        knowledge_point: opt(get("knowledge_point")),
        points_tenths: points.flatten(),
    })
}

/// One item read from a file, before validation.
struct Parsed {
    label: String,
    item: Result<ItemInput, String>,
}

/// Imports a QTI 2.1 item (`.xml`), a QTI content package (`.zip`) or the Excel template
/// (`.xlsx`, see `item_sheet`): every item is checked and
/// either all are stored as drafts (they still need a review) or none, with each refused item
/// and its reason listed.
pub async fn import_qti(state: &AppState, actor: &Actor, bytes: &[u8], defaults: &ImportDefaults) -> AppResult<usize> {
    if bytes.is_empty() {
        return Err(AppError::field("file", "文件：请选择要导入的 QTI 文件（.xml 或 .zip 内容包）"));
    }
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(AppError::field("file", format!("文件：超过{} MB", MAX_IMPORT_BYTES / 1024 / 1024)));
    }
    let mut errors = FieldErrors::new();
    let mut items = Vec::new();
    if super::item_sheet::is_workbook(bytes) {
        items = super::item_sheet::read(bytes, &work_types(state).await?)?;
    } else {
        let parsed = if bytes.starts_with(b"PK") { read_package(bytes, defaults)? } else { vec![read_single(bytes, defaults)] };
        for p in parsed {
            match p.item {
                Ok(input) => items.push(input),
                Err(reason) => errors.push("file", format!("{}：{reason}", p.label)),
            }
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.push("file", "文件：没有找到试题");
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if items.len() > MAX_ITEMS_PER_FILE {
        return Err(AppError::field("file", format!("文件：一次最多导入{MAX_ITEMS_PER_FILE}道试题")));
    }
    let now = state.now();
    let mut sealed = Vec::with_capacity(items.len());
    for input in &items {
        let uid = new_uid();
        let s = seal(state, &uid, 1, &input.content)?;
        sealed.push((uid, s));
    }
    let tx = state.store().write().await?;
    for (input, (uid, s)) in items.iter().zip(sealed) {
        store::insert(
            tx.conn(),
            &uid,
            defaults.pool.as_str(),
            &row_meta(&input.meta),
            ItemStatus::Draft.as_str(),
            s,
            &actor.username,
            Some("QTI导入"),
            now,
        )
        .await?;
    }
    let source = if super::item_sheet::is_workbook(bytes) { "Excel模板" } else { "QTI 2.1" };
    let summary = format!("导入{}道试题（{source}）到{}，均为草稿，待审核", items.len(), defaults.pool.label());
    audit::append(&tx, now, actor.record("item.import", "item_bank", summary)).await?;
    tx.commit().await?;
    Ok(items.len())
}

fn read_single(bytes: &[u8], defaults: &ImportDefaults) -> Parsed {
    let label = "试题文件".to_owned();
    let item = std::str::from_utf8(bytes).map_err(|_| "不是UTF-8编码的XML文件".to_owned()).and_then(qti::read_item).and_then(|q| {
        if !q.image_hrefs.is_empty() {
            return Err("题干引用了图片，含图片的试题请以内容包（.zip）导入".to_owned());
        }
        finish(q, &ManifestEntry::default(), Vec::new(), defaults)
    });
    Parsed { label, item }
}

fn finish(q: qti::QtiItem, entry: &ManifestEntry, images: Vec<ItemImage>, d: &ImportDefaults) -> Result<ItemInput, String> {
    let subject = entry.subject.or(d.subject).ok_or("缺少科目（清单中没有，导入表单也未选择）")?;
    let level = entry.level.or(d.level).ok_or("缺少等级（清单中没有，导入表单也未选择）")?;
    let work_type = if subject.per_work_type() { entry.work_type.clone().or_else(|| d.work_type.clone()) } else { None };
    let difficulty = entry.difficulty.or(d.difficulty).ok_or("缺少难度（清单中没有，导入表单也未选择）")?;
    let knowledge_point =
        entry.knowledge_point.clone().or_else(|| d.knowledge_point.clone()).ok_or("缺少知识点（清单中没有，导入表单也未填写）")?;
    let points_tenths = q.points_tenths.or(d.points_tenths).ok_or("缺少分值（试题中没有MAXSCORE，导入表单也未填写）")?;
    let kind = match (entry.kind, q.kind) {
        // The manifest says short answer or essay; the interaction only says "text".
        (Some(k @ (ItemKind::ShortAnswer | ItemKind::Essay)), ItemKind::ShortAnswer | ItemKind::Essay) => k,
        (_, k) => k,
    };
    let meta = ItemMeta { subject, level, work_type, kind, difficulty, knowledge_point, points_tenths };
    let mut content = q.content;
    content.images = images;
    item_bank::validate(&meta, &content).map_err(|e| e.to_string())?;
    Ok(ItemInput { meta, content })
}

/// Reads at most `limit` bytes of one entry; a larger entry is an error, so a small archive
/// cannot expand into gigabytes.
fn read_entry<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>, name: &str, limit: usize) -> Result<Vec<u8>, String> {
    let entry = zip.by_name(name).map_err(|_| format!("内容包中缺少文件 {name}"))?;
    if entry.size() > limit as u64 {
        return Err(format!("{name} 过大（{} KB，上限 {} KB）", entry.size() / 1024, limit / 1024));
    }
    let mut out = Vec::new();
    entry.take(limit as u64 + 1).read_to_end(&mut out).map_err(|_| format!("{name} 无法解压"))?;
    if out.len() > limit {
        return Err(format!("{name} 过大"));
    }
    Ok(out)
}

fn read_package(bytes: &[u8], defaults: &ImportDefaults) -> AppResult<Vec<Parsed>> {
    let bad = |m: String| AppError::field("file", format!("文件：{m}"));
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| bad("不是有效的ZIP内容包".to_owned()))?;
    if zip.len() > 4 * MAX_ITEMS_PER_FILE {
        return Err(bad("内容包中的文件过多".to_owned()));
    }
    let manifest = read_entry(&mut zip, "imsmanifest.xml", 8 * 1024 * 1024).map_err(bad)?;
    let manifest = std::str::from_utf8(&manifest).map_err(|_| bad("imsmanifest.xml 不是UTF-8编码".to_owned()))?;
    let entries = qti::read_manifest(manifest).map_err(|e| bad(format!("imsmanifest.xml：{e}")))?;
    if entries.len() > MAX_ITEMS_PER_FILE {
        return Err(bad(format!("一次最多导入{MAX_ITEMS_PER_FILE}道试题")));
    }
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let label = format!("第{}题（{}）", i + 1, entry.identifier);
        let item = (|| {
            let xml = read_entry(&mut zip, &entry.href, 1024 * 1024)?;
            let xml = String::from_utf8(xml).map_err(|_| "不是UTF-8编码".to_owned())?;
            let q = qti::read_item(&xml)?;
            let base = entry.href.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("");
            let mut images = Vec::new();
            for href in &q.image_hrefs {
                let path = resolve_href(base, href).ok_or_else(|| format!("图片路径 {href} 不在内容包内"))?;
                let bytes = read_entry(&mut zip, &path, item_bank::MAX_IMAGE_BYTES)
                    .map_err(|e| format!("图片：{e}（每张不超过{} KB）", item_bank::MAX_IMAGE_BYTES / 1024))?;
                let content_type = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
                    "image/png"
                } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                    "image/jpeg"
                } else {
                    return Err(format!("图片 {href} 不是PNG或JPEG"));
                };
                let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
                images.push(ItemImage { name, content_type: content_type.to_owned(), bytes });
            }
            finish(q, entry, images, defaults)
        })();
        out.push(Parsed { label, item });
    }
    Ok(out)
}

/// Joins a relative href to the item's folder, refusing anything that climbs out of the package.
fn resolve_href(base: &str, href: &str) -> Option<String> {
    if href.contains("://") || href.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for seg in href.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_in_tenths() {
        assert_eq!(parse_points("2"), Some(20));
        assert_eq!(parse_points("1.5"), Some(15));
        assert_eq!(parse_points("0.5"), Some(5));
        assert_eq!(parse_points("1.25"), None);
        assert_eq!(parse_points("-1"), None);
        assert_eq!(parse_points(""), None);
        assert_eq!(format_points(15), "1.5");
        assert_eq!(format_points(20), "2");
    }

    #[test]
    fn hrefs_stay_inside_the_package() {
        assert_eq!(resolve_href("items", "../images/a.png").as_deref(), Some("images/a.png"));
        assert_eq!(resolve_href("", "images/a.png").as_deref(), Some("images/a.png"));
        assert_eq!(resolve_href("items", "../../etc/passwd"), None);
        assert_eq!(resolve_href("items", "/etc/passwd"), None);
        assert_eq!(resolve_href("items", "http://x/a.png"), None);
    }
}
