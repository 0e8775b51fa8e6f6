//! Photos and attachments of an application. The applicant uploads them while the application
//! may still be changed; the bytes are checked (photos decoded, re-encoded and resized;
//! attachments sniffed), written to the content-addressed folder, and recorded with an event in
//! the application's history and an audit entry, in one transaction. Reading goes through the
//! same policy as the application itself (see the route table).
use std::io::Cursor;

use gongkao_domain::application::{ApplicationAction, ApplicationStatus, next_by};
use gongkao_domain::role::Role;
use gongkao_domain::validation::{FieldError, FieldErrors};
use gongkao_storage::applications::{self, Application, NewEvent};
use gongkao_storage::files::{self, NewFile, StoredFile};
use gongkao_storage::{StoreError, audit, campaigns};
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;

/// Largest file accepted, photo or attachment, before any decoding.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Attachments per application (the photo not counted).
pub const MAX_ATTACHMENTS: usize = 10;
/// The 一寸 portrait the exam card and the certificate print.
pub const PHOTO_WIDTH: u32 = 295;
pub const PHOTO_HEIGHT: u32 = 413;
pub const PHOTO_MAX_BYTES: usize = 200 * 1024;
const PHOTO_MIN_WIDTH: u32 = 150;
const PHOTO_MIN_HEIGHT: u32 = 210;
/// Width:height may differ from 295:413 by this fraction (phone crops are rarely exact).
const PHOTO_RATIO_TOLERANCE: f64 = 0.08;
/// A 5 MB upload can declare a 100,000² image; decoding stops at these bounds instead.
const DECODE_MAX_SIDE: u32 = 10_000;
const DECODE_MAX_ALLOC: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Photo,
    WageApprovalForm,
    CnPaper,
    AwardCertificate,
    Other,
}

impl FileKind {
    pub const ATTACHMENTS: [FileKind; 4] = [FileKind::WageApprovalForm, FileKind::CnPaper, FileKind::AwardCertificate, FileKind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Photo => "photo",
            FileKind::WageApprovalForm => "wage_approval_form",
            FileKind::CnPaper => "cn_paper",
            FileKind::AwardCertificate => "award_certificate",
            FileKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FileKind::Photo => "照片",
            FileKind::WageApprovalForm => "工资审批表（主管部门盖章）",
            FileKind::CnPaper => "论文（CN 刊物）",
            FileKind::AwardCertificate => "获奖证书",
            FileKind::Other => "其他材料",
        }
    }

    pub fn parse(s: &str) -> Option<FileKind> {
        [FileKind::Photo].into_iter().chain(FileKind::ATTACHMENTS).find(|k| k.as_str() == s)
    }
}

/// What the bytes are, by their first bytes; the name and the browser's type are not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Pdf,
    Jpeg,
    Png,
}

impl Sniffed {
    pub fn content_type(self) -> &'static str {
        match self {
            Sniffed::Pdf => "application/pdf",
            Sniffed::Jpeg => "image/jpeg",
            Sniffed::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Sniffed::Pdf => "pdf",
            Sniffed::Jpeg => "jpg",
            Sniffed::Png => "png",
        }
    }
}

pub fn sniff(bytes: &[u8]) -> Option<Sniffed> {
    if bytes.starts_with(b"%PDF-") {
        Some(Sniffed::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Sniffed::Jpeg)
    } else if bytes.starts_with(&[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(Sniffed::Png)
    } else {
        None
    }
}

/// A file as the browser sent it.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The name is only displayed and offered on download: drop any folder part a browser or
/// script sent, control characters, and excess length.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() { "未命名".to_owned() } else { cleaned }
}

fn size_text(bytes: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / (1024.0 * 1024.0);
    format!("{mb:.1}MB")
}

/// Decodes, checks and re-encodes a photo: exactly 295×413, JPEG, at most 200 KB. CPU-bound:
/// call it from `spawn_blocking`.
pub fn process_photo(bytes: &[u8]) -> AppResult<Vec<u8>> {
    let not_image = || AppError::field("photo", "照片：文件不是有效的 JPEG 或 PNG 图片");
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(AppError::field("photo", format!("照片：文件大小不能超过 5MB（本文件 {}）", size_text(bytes.len()))));
    }
    let format = match sniff(bytes) {
        Some(Sniffed::Jpeg) => ImageFormat::Jpeg,
        Some(Sniffed::Png) => ImageFormat::Png,
        _ => return Err(not_image()),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    limits.max_alloc = Some(DECODE_MAX_ALLOC);
    reader.limits(limits);
    let too_big = || AppError::field("photo", format!("照片：图片像素尺寸过大（长、宽均不能超过 {DECODE_MAX_SIDE} 像素）"));
    let decoded = reader.into_decoder().and_then(|mut decoder| {
        // Phones store portraits sideways and say so in EXIF; apply it before measuring.
        let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
        DynamicImage::from_decoder(decoder).map(|img| (img, orientation))
    });
    let mut img = match decoded {
        Ok((mut img, orientation)) => {
            img.apply_orientation(orientation);
            img
        }
        Err(ImageError::Limits(_)) => return Err(too_big()),
        Err(_) => return Err(not_image()),
    };
    let (w, h) = img.dimensions();
    if w < PHOTO_MIN_WIDTH || h < PHOTO_MIN_HEIGHT {
        return Err(AppError::field(
            "photo",
            format!(
                "照片：图片太小（{w}×{h} 像素），至少 {PHOTO_MIN_WIDTH}×{PHOTO_MIN_HEIGHT} 像素，建议 {PHOTO_WIDTH}×{PHOTO_HEIGHT} 像素"
            ),
        ));
    }
    let ratio = f64::from(w) / f64::from(h);
    let target = f64::from(PHOTO_WIDTH) / f64::from(PHOTO_HEIGHT);
    if (ratio / target - 1.0).abs() > PHOTO_RATIO_TOLERANCE {
        return Err(AppError::field(
            "photo",
            format!(
                "照片：须为竖版一寸证件照，宽高比约 {PHOTO_WIDTH}:{PHOTO_HEIGHT}（约 5:7）；上传的图片为 {w}×{h} 像素，请裁剪后重新上传"
            ),
        ));
    }
    // Downscaling (the usual case) uses the fast area average; upscaling a small photo needs
    // interpolation.
    img = if w >= PHOTO_WIDTH && h >= PHOTO_HEIGHT {
        img.thumbnail_exact(PHOTO_WIDTH, PHOTO_HEIGHT)
    } else {
        img.resize_exact(PHOTO_WIDTH, PHOTO_HEIGHT, image::imageops::FilterType::Triangle)
    };
    let rgb = flatten_on_white(&img);
    for quality in [85u8, 75, 65, 55, 45, 35] {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&rgb)
            .map_err(|e| AppError::Internal(format!("jpeg encode: {e}")))?;
        if out.len() <= PHOTO_MAX_BYTES {
            return Ok(out);
        }
    }
    Err(AppError::field("photo", "照片：压缩后仍超过 200KB，请换一张背景简洁的证件照"))
}

/// JPEG has no transparency: transparent parts of a PNG become white, as on printed photos.
fn flatten_on_white(img: &DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let mix = |c: u8| u8::try_from((u16::from(c) * a + 255 * (255 - a)) / 255).unwrap_or(255);
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

/// Checks an attachment: its sniffed type and size. Returns the content type.
pub fn check_attachment(kind: FileKind, bytes: &[u8]) -> AppResult<Sniffed> {
    let field = kind.as_str();
    if bytes.is_empty() {
        return Err(AppError::field(field, format!("{}：请选择要上传的文件", kind.label())));
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(AppError::field(field, format!("{}：文件大小不能超过 5MB（本文件 {}）", kind.label(), size_text(bytes.len()))));
    }
    sniff(bytes)
        .ok_or_else(|| AppError::field(field, format!("{}：只接受 PDF、JPEG 或 PNG 文件（按文件内容判断，与文件名无关）", kind.label())))
}

/// The caller's live application, if its applicant may still change it now: inside the
/// registration window (or reopened) and in a state that allows editing (the rule of
/// `applications::save`).
async fn editable_application(state: &AppState, p: &Principal) -> AppResult<Application> {
    let applicant_id = match (p.role, p.applicant_id) {
        (Role::Applicant, Some(id)) => id,
        _ => return Err(AppError::Forbidden),
    };
    let (campaign, _) = super::campaigns::current(state).await?;
    let app = applications::live_for(state.store().conn(), campaign.id, applicant_id)
        .await?
        .ok_or_else(|| AppError::Conflict("请先填写并保存申报信息，再上传照片和附件".to_owned()))?;
    // Inside the registration window, or while the agency has reopened this application.
    super::applications::applicant_may_change(state, Some(&app)).await?;
    let from = ApplicationStatus::parse(&app.status).ok_or_else(|| AppError::Internal("status".into()))?;
    next_by(from, ApplicationAction::Edit, p.role).map_err(AppError::Conflict)?;
    Ok(app)
}

fn no_longer_editable(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict => AppError::Conflict("申报已不能修改（可能已被单位受理），请刷新页面".to_owned()),
        other => other.into(),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| AppError::Internal(format!("blocking task: {e}")))
}

/// Replaces the applicant's photo with the checked and re-encoded upload.
pub async fn upload_photo(state: &AppState, p: &Principal, actor: &Actor, upload: Upload) -> AppResult<StoredFile> {
    if upload.bytes.is_empty() {
        return Err(AppError::field("photo", "照片：请选择要上传的照片"));
    }
    let app = editable_application(state, p).await?;
    let Upload { file_name, bytes } = upload;
    let jpeg = blocking(move || process_photo(&bytes)).await??;
    store(state, actor, &app, FileKind::Photo, &clean_name(&file_name), Sniffed::Jpeg, jpeg).await
}

/// Adds an attachment of the given kind.
pub async fn upload_attachment(state: &AppState, p: &Principal, actor: &Actor, kind: FileKind, upload: Upload) -> AppResult<StoredFile> {
    if kind == FileKind::Photo {
        return Err(AppError::field("kind", "材料类别：照片请在“照片”处上传"));
    }
    let sniffed = check_attachment(kind, &upload.bytes)?;
    let app = editable_application(state, p).await?;
    let current = files::active_for(state.store().conn(), app.id).await?;
    if attachments_full(&current) {
        return Err(full(kind));
    }
    store(state, actor, &app, kind, &clean_name(&upload.file_name), sniffed, upload.bytes).await
}

fn attachments_full(current: &[StoredFile]) -> bool {
    current.iter().filter(|f| f.kind != FileKind::Photo.as_str()).count() >= MAX_ATTACHMENTS
}

fn full(kind: FileKind) -> AppError {
    AppError::field(kind.as_str(), format!("{}：每份申报最多上传 {MAX_ATTACHMENTS} 个附件，请先删除不需要的附件", kind.label()))
}

/// Writes the bytes first (an orphaned file after a failed transaction is harmless: it is
/// content-addressed and unreferenced), then the row, the event and the audit entry together.
async fn store(
    state: &AppState,
    actor: &Actor,
    app: &Application,
    kind: FileKind,
    name: &str,
    sniffed: Sniffed,
    bytes: Vec<u8>,
) -> AppResult<StoredFile> {
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let blobs = state.blobs();
    let hash = blocking(move || blobs.put(&bytes)).await?.map_err(|e| AppError::Internal(format!("writing an upload: {e}")))?;
    let now = state.now();
    let tx = state.store().write().await?;
    files::guard_editable(tx.conn(), app.id).await.map_err(no_longer_editable)?;
    let current = files::active_for(tx.conn(), app.id).await?;
    if kind == FileKind::Photo {
        for old in current.iter().filter(|f| f.kind == FileKind::Photo.as_str()) {
            files::remove(tx.conn(), old.id, &actor.username, now).await?;
        }
    } else if attachments_full(&current) {
        return Err(full(kind));
    }
    let row = files::insert(
        tx.conn(),
        NewFile {
            application_id: app.id,
            kind: kind.as_str(),
            original_name: name,
            content_type: sniffed.content_type(),
            byte_size: size,
            content_hash: &hash,
            uploaded_by: &actor.username,
        },
        now,
    )
    .await?;
    let what = format!("{}：{name}", kind.label());
    applications::add_event(
        tx.conn(),
        NewEvent {
            application_id: app.id,
            actor: &actor.username,
            action: if kind == FileKind::Photo { "photo_upload" } else { "attachment_upload" },
            from_status: &app.status,
            to_status: &app.status,
            reason: &what,
            facts_before: None,
        },
        now,
    )
    .await?;
    let record = if kind == FileKind::Photo {
        actor.record("application.photo.upload", format!("application:{}", app.id), format!("{what}（{size} 字节，SM3 {hash}）"))
    } else {
        actor.record("application.attachment.upload", format!("application:{}", app.id), format!("{what}（{size} 字节，SM3 {hash}）"))
    };
    audit::append(&tx, now, record).await?;
    tx.commit().await?;
    Ok(row)
}

/// Removes one of the applicant's attachments (the photo is replaced, not deleted).
pub async fn delete_attachment(state: &AppState, p: &Principal, actor: &Actor, public_id: &str) -> AppResult<()> {
    let app = editable_application(state, p).await?;
    let file = files::by_public_id(state.store().conn(), public_id)
        .await?
        .filter(|f| f.application_id == app.id && f.removed_at.is_none() && f.kind != FileKind::Photo.as_str())
        .ok_or(AppError::NotFound)?;
    let kind = FileKind::parse(&file.kind).map_or("附件", FileKind::label);
    let what = format!("{kind}：{}", file.original_name);
    let now = state.now();
    let tx = state.store().write().await?;
    files::guard_editable(tx.conn(), app.id).await.map_err(no_longer_editable)?;
    files::remove(tx.conn(), file.id, &actor.username, now).await?;
    applications::add_event(
        tx.conn(),
        NewEvent {
            application_id: app.id,
            actor: &actor.username,
            action: "attachment_delete",
            from_status: &app.status,
            to_status: &app.status,
            reason: &what,
            facts_before: None,
        },
        now,
    )
    .await?;
    audit::append(&tx, now, actor.record("application.attachment.delete", format!("application:{}", app.id), what)).await?;
    tx.commit().await?;
    Ok(())
}

/// A current file of the application, with its bytes (checked against the stored hash). The
/// route has already checked that the caller may see the application; a file of another
/// application is "not found", like a file that never existed.
pub async fn read(state: &AppState, application_id: i64, public_id: &str) -> AppResult<(StoredFile, Vec<u8>)> {
    let file = files::by_public_id(state.store().conn(), public_id)
        .await?
        .filter(|f| f.application_id == application_id && f.removed_at.is_none())
        .ok_or(AppError::NotFound)?;
    let blobs = state.blobs();
    let hash = file.content_hash.clone();
    let bytes = blocking(move || blobs.get(&hash)).await?.map_err(|e| AppError::Internal(format!("reading a stored file: {e}")))?;
    Ok((file, bytes))
}

/// The application's current photo, as stored (re-encoded at upload), for tickets.
pub async fn photo_of(state: &AppState, application_id: i64) -> AppResult<Option<Vec<u8>>> {
    let photo = current(state, application_id).await?.into_iter().find(|f| f.kind == FileKind::Photo.as_str());
    match photo {
        Some(f) => Ok(Some(read(state, application_id, &f.public_id).await?.1)),
        None => Ok(None),
    }
}

pub async fn current(state: &AppState, application_id: i64) -> AppResult<Vec<StoredFile>> {
    Ok(files::active_for(state.store().conn(), application_id).await?)
}

/// What an application must carry before it is submitted: the photo always; for level 1 the
/// wage approval form stamped by the supervising department, and under the 2020 rule set also
/// the CN-journal paper.
pub async fn required_kinds(state: &AppState, app: &Application) -> AppResult<Vec<FileKind>> {
    let mut kinds = vec![FileKind::Photo];
    if app.target_level == 1 {
        kinds.push(FileKind::WageApprovalForm);
        let campaign = campaigns::by_id(state.store().conn(), app.campaign_id).await?;
        let rule_set = campaign.map_or_else(|| app.rule_set_id.clone(), |c| c.rule_set_id);
        if rule_set == "HN-GK-2020" {
            kinds.push(FileKind::CnPaper);
        }
    }
    Ok(kinds)
}

fn missing_message(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Photo => "照片：提交前须上传本人近期一寸免冠证件照（JPEG 或 PNG）",
        FileKind::WageApprovalForm => "工资审批表：申报一级须上传经主管部门盖章的工资审批表",
        FileKind::CnPaper => "论文：2020 年申报一级须上传在 CN 刊物上发表的论文",
        FileKind::AwardCertificate | FileKind::Other => "附件：请上传所需材料",
    }
}

async fn missing_fields(state: &AppState, app: &Application) -> AppResult<Vec<(FileKind, &'static str)>> {
    let current = files::active_for(state.store().conn(), app.id).await?;
    Ok(required_kinds(state, app)
        .await?
        .into_iter()
        .filter(|k| !current.iter().any(|f| f.kind == k.as_str()))
        .map(|k| (k, missing_message(k)))
        .collect())
}

pub async fn missing_for_submission(state: &AppState, app: &Application) -> AppResult<Vec<String>> {
    Ok(missing_fields(state, app).await?.into_iter().map(|(_, m)| m.to_owned()).collect())
}

/// The submission rule as a field error, for `applications::act`.
pub async fn require_for_submission(state: &AppState, app: &Application) -> AppResult<()> {
    let missing = missing_fields(state, app).await?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(AppError::Invalid(FieldErrors(missing.into_iter().map(|(k, m)| FieldError::new(k.as_str(), m)).collect())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        let body: Vec<u8> = kind.iter().chain(data).copied().collect();
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
        out
    }

    /// A few hundred bytes that declare a 50,000 × 70,000 image (10 GB decoded): refused from
    /// the header, before anything is allocated.
    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        let mut ihdr = 50_000u32.to_be_bytes().to_vec();
        ihdr.extend(70_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        let mut png = vec![0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        png.extend(chunk(b"IHDR", &ihdr));
        png.extend(chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
        png.extend(chunk(b"IEND", &[]));
        let AppError::Invalid(e) = process_photo(&png).err().unwrap() else { panic!("field error expected") };
        assert!(e.get("photo").unwrap().contains("像素尺寸过大"), "{e}");
    }

    #[test]
    fn sniffing_ignores_names_and_knows_three_types() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(Sniffed::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE1]), Some(Sniffed::Jpeg));
        assert_eq!(sniff(b"MZ\x90\x00"), None);
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(clean_name("C:\\fakepath\\证书.pdf"), "证书.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("  "), "未命名");
    }
}
