//! Campaign set-up: the 2020 Henan campaign as reference data, local dates, fees, the work-type
//! catalogue import, and copying a campaign into the next year.
use gongkao_domain::campaign::{
    FeeItem, HENAN_2020_DOC_NUMBERS, HENAN_2020_TITLE, Level, LocalDateKind, Schedule, Window, henan_2020_schedule, parse_yuan_to_fen,
    shanghai_datetime, validate_local_dates,
};
use gongkao_domain::jurisdiction::henan_2020_agencies;
use gongkao_domain::validation::{FieldError, FieldErrors};
use gongkao_domain::work_type::{HENAN_2020_LEVEL1_WORK_TYPES, henan_2019_known_catalogue, validate_work_type_name};
use gongkao_storage::audit;
use gongkao_storage::campaigns::{self, Campaign, NewCampaign};
use time::{Date, Month};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::Scope;

pub const CATALOGUE_2019: &str = "豫人社办〔2019〕107号";

/// Loads the 2020 campaign of the Henan notice if the database has no campaign yet. Idempotent.
pub async fn bootstrap(state: &AppState) -> AppResult<Campaign> {
    let db = state.store().conn();
    if let Some(c) = campaigns::current(db).await? {
        return Ok(c);
    }
    let now = state.now();
    let tx = state.store().write().await?;
    let names: Vec<String> = henan_2019_known_catalogue().into_iter().map(str::to_owned).collect();
    let catalogue_id = match campaigns::catalogue_by_doc(tx.conn(), CATALOGUE_2019).await? {
        Some(c) => c.id,
        None => {
            campaigns::create_catalogue(tx.conn(), CATALOGUE_2019, "河南省机关事业单位工勤技能岗位工种设置目录（2019年修订）", &names, now)
                .await?
        }
    };
    let fees =
        Level::ALL.iter().flat_map(|l| FeeItem::ALL.iter().map(move |f| (i32::from(l.number()), f.as_str().to_owned(), 0))).collect();
    let lock_date = Date::from_calendar_date(2020, Month::April, 8).map_err(|e| AppError::Internal(e.to_string()))?;
    let id = campaigns::create(
        tx.conn(),
        NewCampaign {
            year: 2020,
            title: HENAN_2020_TITLE.to_owned(),
            doc_numbers: HENAN_2020_DOC_NUMBERS.iter().map(|s| (*s).to_owned()).collect(),
            rule_set_id: "HN-GK-2020".to_owned(),
            catalogue_id,
            // Unit names are checked and corrected during the unit-admin set-up window (4-08..4-10)
            // and locked from the start of registration, as in the 2018 notice.
            unit_name_lock_at: Some(shanghai_datetime(lock_date.replace_day(13).unwrap_or(lock_date), 0, 0)),
            status: "active",
            copied_from: None,
            schedule: henan_2020_schedule(),
            agencies: henan_2020_agencies(),
            level1_work_types: HENAN_2020_LEVEL1_WORK_TYPES.iter().map(|s| (*s).to_owned()).collect(),
            fees,
        },
        now,
    )
    .await?;
    audit::append(&tx, now, Actor::system("bootstrap").record("campaign.create", format!("campaign:{id}"), "载入 2020 年河南省考核年度"))
        .await?;
    tx.commit().await?;
    crate::auth::invalidate_cached(state);
    campaigns::by_id(state.store().conn(), id).await?.ok_or(AppError::NotFound)
}

pub async fn current(state: &AppState) -> AppResult<(Campaign, Schedule)> {
    let db = state.store().conn();
    let c = campaigns::current(db).await?.ok_or_else(|| AppError::Conflict("尚未设置考核年度".to_owned()))?;
    let s = campaigns::schedule(db, c.id).await?;
    Ok((c, s))
}

fn parse_date(input: &str, field: &str, label: &str) -> Result<Date, FieldError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(input.trim(), fmt).map_err(|_| FieldError::new(field, format!("{label}：请按 年-月-日 填写，例如 2020-05-06")))
}

/// A city or county sets its own dates; the province centre may set them for any agency.
pub async fn set_local_dates(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    agency_code: &str,
    kind: &str,
    starts_on: &str,
    ends_on: &str,
) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    let kind = LocalDateKind::parse(kind);
    if kind.is_none() {
        errors.push("kind", "日程类型：请选择数码照片采集或考试日期");
    }
    let start = errors.check(parse_date(starts_on, "starts_on", "开始日期"));
    let end = errors.check(parse_date(ends_on, "ends_on", "结束日期"));
    if !scope.covers_agency(agency_code) {
        return Err(AppError::Forbidden);
    }
    errors.into_result()?;
    let (Some(kind), Some(start), Some(end)) = (kind, start, end) else { return Err(AppError::Internal("validated".into())) };
    let (campaign, schedule) = current(state).await?;
    validate_local_dates(&schedule, kind, start, end)?;
    let now = state.now();
    let tx = state.store().write().await?;
    let before = campaigns::set_local_date(
        tx.conn(),
        campaign.id,
        agency_code,
        kind.as_str(),
        &start.to_string(),
        &end.to_string(),
        &actor.username,
        now,
    )
    .await?;
    let before = before.map(|(s, e)| format!("{s}..{e}")).unwrap_or_else(|| "未设置".to_owned());
    audit::append(
        &tx,
        now,
        actor.record("campaign.local_date.set", format!("agency:{agency_code}"), format!("{} {before} → {start}..{end}", kind.as_str())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `input`: form pairs named `fee_<level>_<item>` in yuan. All valid or nothing written.
pub async fn set_fees(state: &AppState, actor: &Actor, input: &[(String, String)]) -> AppResult<()> {
    let (campaign, _) = current(state).await?;
    let mut errors = FieldErrors::new();
    let mut values = Vec::new();
    for level in Level::ALL {
        for item in FeeItem::ALL {
            let field = format!("fee_{}_{}", level.number(), item.as_str());
            let Some((_, raw)) = input.iter().find(|(k, _)| *k == field) else { continue };
            match parse_yuan_to_fen(raw, &field) {
                Ok(fen) => values.push((i32::from(level.number()), item.as_str(), fen)),
                Err(e) => errors.push(
                    &field,
                    format!("{}{}：{}", level.short_label(), item.label(), e.message.split('：').nth(1).unwrap_or(&e.message)),
                ),
            }
        }
    }
    errors.into_result()?;
    let before = campaigns::fees(state.store().conn(), campaign.id).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    let mut changes = Vec::new();
    for (level, item, fen) in values {
        let old = before.iter().find(|f| f.level == level && f.item == item).map(|f| f.amount_fen);
        if old != Some(fen) {
            campaigns::set_fee(tx.conn(), campaign.id, level, item, fen).await?;
            changes.push(format!("{level}级 {item}: {} → {fen} 分", old.map_or("无".to_owned(), |o| o.to_string())));
        }
    }
    audit::append(&tx, now, actor.record("campaign.fees.update", format!("campaign:{}", campaign.id), changes.join("; "))).await?;
    tx.commit().await?;
    Ok(())
}

/// Reads the first column of the first sheet (header row "工种名称"), validates every row, and
/// adds the new names to the campaign's catalogue; one bad row rejects the whole file.
pub async fn import_work_types(state: &AppState, actor: &Actor, bytes: Vec<u8>) -> AppResult<usize> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| AppError::field("file", "文件：不是有效的 Excel（.xlsx）文件"))?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or_else(|| AppError::field("file", "文件：工作簿中没有工作表"))?
        .map_err(|_| AppError::field("file", "文件：无法读取第一个工作表"))?;
    let mut errors = FieldErrors::new();
    let mut names = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, row) in sheet.rows().enumerate() {
        let line = i + 1;
        let cell = row.first().map(|c| match c {
            Data::String(s) => s.trim().to_owned(),
            Data::Empty => String::new(),
            other => other.to_string(),
        });
        let value = cell.unwrap_or_default();
        if i == 0 {
            if value != "工种名称" {
                errors.push("file", "文件：第 1 行第 A 列应为表头“工种名称”，请使用下载的模板");
                break;
            }
            continue;
        }
        if value.is_empty() {
            continue;
        }
        match validate_work_type_name(&value) {
            Ok(n) if !seen.insert(n.clone()) => errors.push("file", format!("文件：第 {line} 行 A 列“{n}”与前面的行重复")),
            Ok(n) => names.push(n),
            Err(e) => errors.push("file", format!("文件：第 {line} 行 A 列：{}", e.message)),
        }
    }
    if names.is_empty() && errors.is_empty() {
        errors.push("file", "文件：没有可导入的工种名称");
    }
    errors.into_result()?;
    let (campaign, _) = current(state).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    let added = campaigns::add_work_types(tx.conn(), campaign.catalogue_id, &names).await?;
    audit::append(
        &tx,
        now,
        actor.record(
            "catalogue.import",
            format!("catalogue:{}", campaign.catalogue_id),
            format!("导入 {} 行，新增 {added} 个工种", names.len()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// A new campaign is the last one copied and shifted by whole years, left in draft for editing.
pub async fn copy_to_year(state: &AppState, actor: &Actor, year: i32) -> AppResult<i64> {
    let db = state.store().conn();
    let (source, schedule) = current(state).await?;
    if year <= source.year || year > source.year + 5 {
        return Err(AppError::field("year", format!("考核年度：应晚于 {} 年且不超过 {} 年", source.year, source.year + 5)));
    }
    if campaigns::by_year(db, year).await?.is_some() {
        return Err(AppError::field("year", format!("考核年度：{year} 年已存在")));
    }
    let shift = |t: time::OffsetDateTime| {
        let d = t.date();
        let y = d.year() + (year - source.year);
        // 29 February has no twin in a common year.
        let shifted = Date::from_calendar_date(y, d.month(), d.day()).or_else(|_| Date::from_calendar_date(y, d.month(), 28)).unwrap_or(d);
        t.replace_date(shifted)
    };
    let windows =
        schedule.windows.iter().map(|w| Window { kind: w.kind, starts_at: shift(w.starts_at), ends_at: shift(w.ends_at) }).collect();
    let agencies = campaigns::agencies(db, source.id).await?.iter().filter_map(campaigns::agency_seed).collect();
    let fees = campaigns::fees(db, source.id).await?.into_iter().map(|f| (f.level, f.item, f.amount_fen)).collect();
    let level1 = campaigns::level1_work_types(db, source.id).await?;
    let now = state.now();
    let tx = state.store().write().await?;
    let id = campaigns::create(
        tx.conn(),
        NewCampaign {
            year,
            title: source.title.replace(&source.year.to_string(), &year.to_string()),
            doc_numbers: campaigns::doc_numbers(&source),
            rule_set_id: format!("HN-GK-{year}"),
            catalogue_id: source.catalogue_id,
            unit_name_lock_at: source.unit_name_lock_at.map(|ms| shift(gongkao_storage::from_ms(ms))),
            status: "draft",
            copied_from: Some(source.id),
            schedule: Schedule { windows },
            agencies,
            level1_work_types: level1,
            fees,
        },
        now,
    )
    .await?;
    audit::append(&tx, now, actor.record("campaign.copy", format!("campaign:{id}"), format!("由 {} 年复制", source.year))).await?;
    tx.commit().await?;
    crate::auth::invalidate_cached(state);
    Ok(id)
}

/// The Excel template for [`import_work_types`].
pub fn work_type_template() -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_column_width(0, 30).map_err(|e| e.to_string())?;
    sheet.write_string(0, 0, "工种名称").map_err(|e| e.to_string())?;
    sheet.write_string(1, 0, "汽车驾驶员").map_err(|e| e.to_string())?;
    sheet.write_string(2, 0, "护理员").map_err(|e| e.to_string())?;
    book.save_to_buffer().map_err(|e| e.to_string())
}

/// The province exam officer edits the schedule: every window's start and end, in Beijing
/// time (`YYYY-MM-DD HH:MM`, `24:00` allowed). All valid, or nothing written.
pub async fn set_windows(state: &AppState, actor: &Actor, input: &[(String, String)]) -> AppResult<()> {
    use gongkao_domain::campaign::{WindowKind, format_shanghai_end, parse_shanghai};
    let (campaign, before) = current(state).await?;
    let get = |k: &str| input.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut errors = FieldErrors::new();
    let mut windows = Vec::new();
    for kind in WindowKind::ALL {
        let (sf, ef) = (format!("{}_starts_at", kind.as_str()), format!("{}_ends_at", kind.as_str()));
        let (sv, ev) = (get(&sf), get(&ef));
        if sv.trim().is_empty() && ev.trim().is_empty() && before.window(kind).is_none() {
            continue;
        }
        let starts = parse_shanghai(&sv);
        let ends = parse_shanghai(&ev);
        if starts.is_none() {
            errors.push(&sf, format!("{}开始时间：请按 年-月-日 时:分 填写，例如 2020-04-13 00:00", kind.label()));
        }
        if ends.is_none() {
            errors.push(&ef, format!("{}结束时间：请按 年-月-日 时:分 填写，截止当日 24 时可写 24:00", kind.label()));
        }
        if let (Some(starts_at), Some(ends_at)) = (starts, ends) {
            windows.push(Window { kind, starts_at, ends_at });
        }
    }
    errors.into_result()?;
    let schedule = Schedule { windows };
    schedule.validate()?;
    let now = state.now();
    let tx = state.store().write().await?;
    let mut changes = Vec::new();
    for w in &schedule.windows {
        let old = before.window(w.kind);
        if old != Some(w) {
            campaigns::set_window(tx.conn(), campaign.id, w).await?;
            let was = old
                .map(|o| format!("{}..{}", gongkao_domain::campaign::format_shanghai(o.starts_at), format_shanghai_end(o.ends_at)))
                .unwrap_or_else(|| "未设置".to_owned());
            changes.push(format!(
                "{}: {was} → {}..{}",
                w.kind.as_str(),
                gongkao_domain::campaign::format_shanghai(w.starts_at),
                format_shanghai_end(w.ends_at)
            ));
        }
    }
    if !changes.is_empty() {
        audit::append(&tx, now, actor.record("campaign.schedule.update", format!("campaign:{}", campaign.id), changes.join("; "))).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Makes a draft campaign (made by [`copy_to_year`]) the current one; the previous active
/// campaign is archived. Its schedule must be valid first.
pub async fn activate(state: &AppState, actor: &Actor, year: i32) -> AppResult<()> {
    let db = state.store().conn();
    let target = campaigns::by_year(db, year).await?.ok_or_else(|| AppError::field("year", format!("考核年度：{year} 年不存在")))?;
    if target.status != "draft" {
        return Err(AppError::field("year", format!("考核年度：{year} 年不是草稿，不能启用")));
    }
    campaigns::schedule(db, target.id).await?.validate()?;
    let now = state.now();
    let tx = state.store().write().await?;
    let previous = campaigns::activate(tx.conn(), target.id).await?;
    let summary = match previous {
        Some(p) => format!("启用 {year} 年考核年度，原考核年度（campaign:{p}）归档"),
        None => format!("启用 {year} 年考核年度"),
    };
    audit::append(&tx, now, actor.record("campaign.activate", format!("campaign:{}", target.id), summary)).await?;
    tx.commit().await?;
    crate::auth::invalidate_cached(state);
    Ok(())
}

/// Agencies of the current campaign (§12: the tree changes between years, e.g. 省直管县 that
/// went back under their cities). Agencies are 省辖市, 济源示范区 or 省直管县 under the province centre.
pub async fn add_agency(state: &AppState, actor: &Actor, code: &str, name: &str, region_name: &str, kind: &str) -> AppResult<()> {
    use gongkao_domain::jurisdiction::{AgencyKind, AgencySeed};
    let (campaign, _) = current(state).await?;
    let agencies = campaigns::agencies(state.store().conn(), campaign.id).await?;
    let mut errors = FieldErrors::new();
    let code = code.trim();
    if !(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit())) {
        errors.push("code", "机构代码：应为 6 位行政区划代码（GB/T 2260），例如 410100");
    } else if agencies.iter().any(|a| a.code == code) {
        errors.push("code", "机构代码：本考核年度已有该代码的管理机构");
    }
    let name = name.trim();
    if !(2..=40).contains(&name.chars().count()) {
        errors.push("name", "机构名称：应为 2 至 40 个字");
    }
    let region = region_name.trim();
    if !(2..=20).contains(&region.chars().count()) {
        errors.push("region_name", "地区名称：应为 2 至 20 个字");
    }
    let kind = match AgencyKind::parse(kind) {
        Some(k) if k != AgencyKind::ProvinceCentre => Some(k),
        _ => {
            errors.push("kind", "机构类别：请选择省辖市、济源示范区或省直管县（市）");
            None
        }
    };
    let root = agencies.iter().find(|a| a.parent_code.is_none()).map(|a| a.code.clone());
    errors.into_result()?;
    let kind = kind.ok_or_else(|| AppError::Internal("validated".into()))?;
    let now = state.now();
    let tx = state.store().write().await?;
    campaigns::add_agency(
        tx.conn(),
        campaign.id,
        AgencySeed { code: code.to_owned(), name: name.to_owned(), kind, parent_code: root, region_name: region.to_owned() },
    )
    .await?;
    audit::append(&tx, now, actor.record("agency.add", format!("agency:{code}"), format!("{name}（{}）", kind.label()))).await?;
    tx.commit().await?;
    crate::auth::invalidate_cached(state);
    Ok(())
}

pub async fn rename_agency(state: &AppState, actor: &Actor, code: &str, name: &str, region_name: &str) -> AppResult<()> {
    let (campaign, _) = current(state).await?;
    let mut errors = FieldErrors::new();
    if !(2..=40).contains(&name.trim().chars().count()) {
        errors.push("name", "机构名称：应为 2 至 40 个字");
    }
    if !(2..=20).contains(&region_name.trim().chars().count()) {
        errors.push("region_name", "地区名称：应为 2 至 20 个字");
    }
    errors.into_result()?;
    let before =
        campaigns::agencies(state.store().conn(), campaign.id).await?.into_iter().find(|a| a.code == code).ok_or(AppError::NotFound)?;
    let now = state.now();
    let tx = state.store().write().await?;
    campaigns::rename_agency(tx.conn(), campaign.id, code, name.trim(), region_name.trim()).await?;
    audit::append(&tx, now, actor.record("agency.rename", format!("agency:{code}"), format!("{} → {}", before.name, name.trim()))).await?;
    tx.commit().await?;
    crate::auth::invalidate_cached(state);
    Ok(())
}

/// Refused while units or staff accounts still belong to the agency: they must be moved first,
/// or they would fall outside every jurisdiction.
pub async fn remove_agency(state: &AppState, actor: &Actor, code: &str) -> AppResult<()> {
    let (campaign, _) = current(state).await?;
    let db = state.store().conn();
    let agency = campaigns::agencies(db, campaign.id).await?.into_iter().find(|a| a.code == code).ok_or(AppError::NotFound)?;
    if agency.parent_code.is_none() {
        return Err(AppError::Conflict("省工考中心不能删除".to_owned()));
    }
    let units = gongkao_storage::units::count_in_scope(db, Some(&[code.to_owned()])).await?;
    let staff = gongkao_storage::accounts::list(
        db,
        &gongkao_storage::accounts::AccountFilter {
            agency_code: Some(code.to_owned()),
            status: Some("active".into()),
            ..Default::default()
        },
        gongkao_domain::paging::Page::new(None, None),
    )
    .await?
    .total;
    if units > 0 || staff > 0 {
        return Err(AppError::Conflict(format!("{} 仍有 {units} 个单位、{staff} 个工作人员账户，请先将其调整到其他管理机构", agency.name)));
    }
    let now = state.now();
    let tx = state.store().write().await?;
    campaigns::remove_agency(tx.conn(), campaign.id, code).await?;
    audit::append(&tx, now, actor.record("agency.remove", format!("agency:{code}"), agency.name.clone())).await?;
    tx.commit().await?;
    crate::auth::invalidate_cached(state);
    Ok(())
}
