//! Blueprints (试卷蓝图) and paper assembly (组卷): forms are built in advance from the active
//! items, never at the moment candidates start, and each form records the seed that rebuilds it.
use gongkao_domain::campaign::Level;
use gongkao_domain::exam::assembly::{self, AssemblyError, PoolItem};
use gongkao_domain::exam::blueprint::{Blueprint, BlueprintCell};
use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::audit;
use gongkao_storage::papers::{self as store, NewForm};
use rand::RngCore;

use super::Actor;
use super::items::parse_points;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// One cell per line: `题型,难度,知识点,题数,每题分值`, e.g. `单选题,3,安全生产,20,1`.
pub fn parse_cells(text: &str, errors: &mut FieldErrors) -> Vec<BlueprintCell> {
    let mut cells = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split([',', '，', '\t']).map(str::trim).collect();
        let row = n + 1;
        if parts.len() != 5 {
            errors.push("cells", format!("组卷规则：第{row}行应为“题型,难度,知识点,题数,每题分值”5项，现为{}项", parts.len()));
            continue;
        }
        let kind = ItemKind::parse(parts[0]);
        let difficulty = parts[1].parse::<u8>().ok().and_then(Difficulty::new);
        let count = parts[3].parse::<u32>().ok().filter(|c| *c > 0);
        let points = parse_points(parts[4]).filter(|p| *p > 0);
        let mut bad = Vec::new();
        if kind.is_none() {
            bad.push(format!("题型“{}”无法识别", parts[0]));
        }
        if difficulty.is_none() {
            bad.push("难度应为1至5".to_owned());
        }
        if parts[2].is_empty() {
            bad.push("知识点为空".to_owned());
        }
        if count.is_none() {
            bad.push("题数应为正整数".to_owned());
        }
        if points.is_none() {
            bad.push("每题分值应为正数，最多一位小数".to_owned());
        }
        match (kind, difficulty, count, points) {
            (Some(kind), Some(difficulty), Some(count), Some(points_per_item)) if bad.is_empty() => {
                cells.push(BlueprintCell { kind, difficulty, knowledge_point: parts[2].to_owned(), count, points_per_item })
            }
            _ => errors.push("cells", format!("组卷规则：第{row}行{}", bad.join("，"))),
        }
    }
    if cells.is_empty() && errors.is_empty() {
        errors.push("cells", "组卷规则：请至少填写一行");
    }
    cells
}

/// Reads the blueprint form; the domain then checks the whole (points summing to 100 and so on).
pub fn parse_form(pairs: &[(String, String)], work_types: &[String]) -> Result<Blueprint, FieldErrors> {
    let get = |k: &str| super::form_value(pairs, k).to_owned();
    let mut errors = FieldErrors::new();
    let subject = Subject::parse(&get("subject"));
    if subject.is_none() {
        errors.push("subject", "科目：请选择科目");
    }
    let level = get("level").parse::<u8>().ok().and_then(Level::from_number);
    if level.is_none() {
        errors.push("level", "等级：请选择一级至五级");
    }
    let work_type = Some(get("work_type")).filter(|w| !w.is_empty());
    if let Some(w) = &work_type
        && !work_types.iter().any(|t| t == w)
    {
        errors.push("work_type", format!("工种：“{w}”不在本年度工种目录中"));
    }
    let mut number = |key: &str, label: &str| -> u32 {
        match get(key).parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(key, format!("{label}：请填写整数"));
                0
            }
        }
    };
    let duration = number("duration_minutes", "考试时长");
    let pass_mark = number("pass_mark", "合格分数");
    let forms = number("forms_per_sitting", "平行卷套数");
    let cells = parse_cells(&get("cells"), &mut errors);
    let (Some(subject), Some(level)) = (subject, level) else { return Err(errors) };
    let mut blueprint = Blueprint::new(subject, level, work_type, cells);
    blueprint.duration_minutes = duration;
    blueprint.pass_mark = pass_mark;
    blueprint.forms_per_sitting = forms;
    blueprint.multiple_choice_partial_credit = get("partial_credit") == "1";
    if errors.is_empty()
        && let Err(e) = blueprint.validate()
    {
        errors.extend(e);
    }
    errors.into_result().map(|()| blueprint)
}

pub async fn save(state: &AppState, actor: &Actor, b: &Blueprint) -> AppResult<i64> {
    b.validate().map_err(AppError::Invalid)?;
    let now = state.now();
    let tx = state.store().write().await?;
    let id = store::save_blueprint(
        tx.conn(),
        b.subject.as_str(),
        i32::from(b.level.number()),
        b.work_type.as_deref().unwrap_or(""),
        &b.to_json(),
        &actor.username,
        now,
    )
    .await?;
    let what = format!(
        "{}·{}{}：{}题，{}分钟，合格{}分",
        b.subject.label(),
        b.level.short_label(),
        b.work_type.as_deref().map(|w| format!("·{w}")).unwrap_or_default(),
        b.item_count(),
        b.duration_minutes,
        b.pass_mark
    );
    audit::append(&tx, now, actor.record("paper.blueprint.save", format!("blueprint:{id}"), what)).await?;
    tx.commit().await?;
    Ok(id)
}

pub fn blueprint_of(row: &store::BlueprintRow) -> AppResult<Blueprint> {
    Blueprint::from_json(&row.body).map_err(|e| AppError::Internal(format!("blueprint {}: {e}", row.id)))
}

/// Assembles the blueprint's parallel forms from the active items, replacing earlier forms as
/// long as no candidate has used them.
pub async fn assemble(state: &AppState, actor: &Actor, blueprint_id: i64) -> AppResult<usize> {
    let db = state.store().conn();
    let row = store::blueprint(db, blueprint_id).await?.ok_or(AppError::NotFound)?;
    let b = blueprint_of(&row)?;
    let pool: Vec<PoolItem> = store::active_pool(db, b.subject.as_str(), i32::from(b.level.number()), b.work_type.as_deref())
        .await?
        .into_iter()
        .filter_map(|(item_id, version, kind, difficulty, knowledge_point)| {
            Some(PoolItem {
                item_id,
                version,
                kind: ItemKind::parse(&kind)?,
                difficulty: Difficulty::new(u8::try_from(difficulty).ok()?)?,
                knowledge_point,
            })
        })
        .collect();
    let mut seed_bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut seed_bytes);
    let seed = u64::from_le_bytes(seed_bytes);
    let forms = assembly::assemble(&pool, &b, b.forms_per_sitting, seed).map_err(|e| match e {
        AssemblyError::Shortage(_) => AppError::Conflict(e.to_string()),
        other => AppError::Invalid(other.to_field_errors()),
    })?;
    let rows: Vec<NewForm> = forms
        .iter()
        .map(|f| NewForm {
            number: i32::try_from(f.number).unwrap_or(0),
            seed: seed.to_string(),
            items: serde_json::to_string(&f.items).unwrap_or_else(|_| "[]".to_owned()),
            item_count: i32::try_from(f.items.len()).unwrap_or(0),
            total_tenths: i32::try_from(f.total_tenths()).unwrap_or(0),
        })
        .collect();
    let count = rows.len();
    let now = state.now();
    let tx = state.store().write().await?;
    // Checked in the writing transaction. On PostgreSQL a login committed between the check and
    // the deletion makes the deletion fail on the attempt's foreign key: no attempt loses its form.
    if store::forms_in_use(tx.conn(), blueprint_id).await? {
        return Err(AppError::Conflict("本蓝图组成的试卷已有考生登录使用，不能重新组卷；已使用的试卷须保留，以便复核成绩".to_owned()));
    }
    store::replace_forms(tx.conn(), blueprint_id, rows, &actor.username, now).await?;
    audit::append(
        &tx,
        now,
        actor.record("paper.assemble", format!("blueprint:{blueprint_id}"), format!("组卷{count}套，题池{}题，种子{seed}", pool.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(count)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_line_by_line_with_reasons() {
        let mut errors = FieldErrors::new();
        let cells = parse_cells("单选题,3,安全生产,20,1\n多选题，4，法规，10，2\n\n判断题\t2\t常识\t40\t1", &mut errors);
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[1].points_per_item, 20);
        let mut errors = FieldErrors::new();
        parse_cells("填空题,9,,0,x\n单选题,3", &mut errors);
        let text = errors.to_string();
        assert!(text.contains("第1行题型“填空题”无法识别，难度应为1至5，知识点为空，题数应为正整数，每题分值应为正数"), "{text}");
        assert!(text.contains("第2行应为"), "{text}");
    }
}
