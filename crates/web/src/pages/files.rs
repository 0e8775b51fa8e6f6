//! Uploading, deleting and downloading an application's photo and attachments. Refusals show
//! the applicant's page again with the message next to the field.
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gongkao_domain::campaign::format_shanghai;
use gongkao_storage::applications::Application;
use gongkao_storage::from_ms;

use super::see_other;
use crate::AppState;
use crate::auth::RequestInfo;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::services::files::{self, FileKind, Upload};
use crate::services::{self, Actor};

/// Upload routes accept bodies up to the enforcement middleware's own cap, so a file over 5 MB
/// reaches the service and is refused with a message, not cut off by axum's 2 MB default.
pub const UPLOAD_BODY_LIMIT: usize = 20 * 1024 * 1024;

/// The photo and attachments as the applicant's page and the detail page show them.
pub struct FilesView {
    pub photo_url: Option<String>,
    pub attachments: Vec<AttachmentRow>,
    pub can_edit: bool,
    pub kinds: Vec<(&'static str, &'static str)>,
    /// What this application must carry before it can be submitted.
    pub required: String,
}

pub struct AttachmentRow {
    pub public_id: String,
    pub kind: &'static str,
    pub name: String,
    pub size: String,
    pub uploaded_at: String,
    pub url: String,
}

fn size_label(bytes: i64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 { format!("{:.1} MB", b / (1024.0 * 1024.0)) } else { format!("{:.0} KB", (b / 1024.0).ceil()) }
}

pub async fn view(state: &AppState, app: &Application, can_edit: bool) -> AppResult<FilesView> {
    let current = services::files::current(state, app.id).await?;
    let url = |public_id: &str| format!("/applications/{}/files/{public_id}", app.id);
    let photo_url = current.iter().find(|f| f.kind == FileKind::Photo.as_str()).map(|f| url(&f.public_id));
    let attachments = current
        .iter()
        .filter(|f| f.kind != FileKind::Photo.as_str())
        .map(|f| AttachmentRow {
            public_id: f.public_id.clone(),
            kind: FileKind::parse(&f.kind).map_or("附件", FileKind::label),
            name: f.original_name.clone(),
            size: size_label(f.byte_size),
            uploaded_at: format_shanghai(from_ms(f.uploaded_at)),
            url: url(&f.public_id),
        })
        .collect();
    let required = services::files::required_kinds(state, app).await?.into_iter().map(FileKind::label).collect::<Vec<_>>().join("、");
    Ok(FilesView {
        photo_url,
        attachments,
        can_edit,
        kinds: FileKind::ATTACHMENTS.iter().map(|k| (k.as_str(), k.label())).collect(),
        required,
    })
}

/// The fields of an upload form; an unreadable body is a field error, never a bare 400.
struct Incoming {
    kind: String,
    upload: Option<Upload>,
}

async fn read_form(multipart: Result<Multipart, MultipartRejection>, field: &str, label: &str) -> AppResult<Incoming> {
    let unreadable = || AppError::field(field, format!("{label}：未能读取上传的文件，请使用页面上的表单重新上传"));
    let mut multipart = multipart.map_err(|_| unreadable())?;
    let mut incoming = Incoming { kind: String::new(), upload: None };
    loop {
        let next = multipart.next_field().await.map_err(|_| unreadable())?;
        let Some(f) = next else { break };
        match f.name() {
            Some("kind") => incoming.kind = f.text().await.map_err(|_| unreadable())?,
            Some("file") => {
                let file_name = f.file_name().unwrap_or_default().to_owned();
                let bytes = f.bytes().await.map_err(|_| unreadable())?.to_vec();
                incoming.upload = Some(Upload { file_name, bytes });
            }
            _ => {}
        }
    }
    Ok(incoming)
}

async fn done(state: &AppState, p: &Principal, result: AppResult<()>) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(see_other("/application?msg=saved")),
        Err(e) => super::applications::refused(state, p, None, e).await,
    }
}

pub async fn upload_photo(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let result = async {
        let form = read_form(multipart, "photo", "照片").await?;
        let upload = form.upload.ok_or_else(|| AppError::field("photo", "照片：请选择要上传的照片"))?;
        files::upload_photo(&state, &p, &Actor::of(&p, &info), upload).await.map(|_| ())
    }
    .await;
    done(&state, &p, result).await
}

pub async fn upload_attachment(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let result = async {
        let form = read_form(multipart, "attachment", "附件").await?;
        let kind = FileKind::parse(&form.kind)
            .filter(|k| *k != FileKind::Photo)
            .ok_or_else(|| AppError::field("kind", "材料类别：请选择工资审批表、论文、获奖证书或其他材料"))?;
        let upload = form.upload.ok_or_else(|| AppError::field(kind.as_str(), format!("{}：请选择要上传的文件", kind.label())))?;
        files::upload_attachment(&state, &p, &Actor::of(&p, &info), kind, upload).await.map(|_| ())
    }
    .await;
    done(&state, &p, result).await
}

pub async fn delete_attachment(
    State(state): State<AppState>,
    p: Principal,
    info: RequestInfo,
    Path(file): Path<String>,
) -> AppResult<Response> {
    match files::delete_attachment(&state, &p, &Actor::of(&p, &info), &file).await {
        Err(AppError::NotFound) => Err(AppError::NotFound),
        other => done(&state, &p, other).await,
    }
}

/// The bytes with the type they were sniffed as. Images open in the page (the applicant's
/// photo is an `<img>`), PDFs download. Never cached: they are personal data.
pub async fn download(State(state): State<AppState>, Path((id, file)): Path<(i64, String)>) -> AppResult<Response> {
    let (f, bytes) = files::read(&state, id, &file).await?;
    let disposition = if f.content_type.starts_with("image/") { "inline" } else { "attachment" };
    let extension = match f.content_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "pdf",
    };
    Ok((
        [
            (header::CONTENT_TYPE, f.content_type.clone()),
            (header::CONTENT_DISPOSITION, content_disposition(disposition, &f.original_name, extension)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// `filename` for old clients (ASCII only), `filename*` (RFC 5987, UTF-8) for the real name.
/// The extension follows the content: a re-encoded photo is a JPEG whatever it was called.
pub fn content_disposition(disposition: &str, name: &str, extension: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    let full = format!("{stem}.{extension}");
    let ascii: String = full.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in full.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_disposition_keeps_the_chinese_name_and_a_safe_fallback() {
        let h = super::content_disposition("attachment", "工资审批表\"x\".PDF", "pdf");
        assert_eq!(h, "attachment; filename=\"______x_.pdf\"; filename*=UTF-8''%E5%B7%A5%E8%B5%84%E5%AE%A1%E6%89%B9%E8%A1%A8%22x%22.pdf");
        assert!(super::content_disposition("inline", "photo.png", "jpg").contains("filename=\"photo.jpg\""));
    }
}
