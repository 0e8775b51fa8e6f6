//! `gongkao eligibility`: the eligibility engine on a file of facts or on a unit's Excel roster,
//! without a server or a database.
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use gongkao_domain::campaign::SHANGHAI;
use gongkao_web::services::eligibility::{annotate_roster, evaluate_json, parse_facts_line, parse_levels, roster_template, rule_set_for};

fn app_err(e: gongkao_web::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(e.message())
}

pub fn run(
    campaign: i32,
    date: Option<&str>,
    levels: &str,
    xlsx: Option<&Path>,
    out: Option<&Path>,
    template: Option<&Path>,
    file: Option<&Path>,
) -> Result<()> {
    if let Some(path) = template {
        std::fs::write(path, roster_template().map_err(app_err)?).with_context(|| format!("无法写入 {}", path.display()))?;
        eprintln!("名册模板已写入 {}", path.display());
        return Ok(());
    }
    let rules = rule_set_for(&format!("HN-GK-{campaign}")).map_err(app_err)?;
    let on = match date {
        Some(d) => time::Date::parse(d.trim(), time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| anyhow::anyhow!("--date：评估日期应为真实的 年-月-日，例如 2020-04-13，实际为 \"{d}\""))?,
        None => time::OffsetDateTime::now_utc().to_offset(SHANGHAI).date(),
    };
    let levels = parse_levels(levels).map_err(|e| anyhow::anyhow!("--levels：{e}"))?;
    if let Some(input) = xlsx {
        let out = out.context("--out：请指定写回结论的文件")?;
        let bytes = std::fs::read(input).with_context(|| format!("无法读取 {}", input.display()))?;
        let report = annotate_roster(&bytes, &rules, on).map_err(app_err)?;
        std::fs::write(out, &report.bytes).with_context(|| format!("无法写入 {}", out.display()))?;
        eprintln!(
            "已审核 {} 行（至少一个等级符合 {} 行，资料有误 {} 行），规则集 {} v{}，评估日期 {on}；结果写入 {}",
            report.rows,
            report.eligible_rows,
            report.rows_with_errors,
            rules.id,
            rules.version,
            out.display()
        );
        return Ok(());
    }
    let Some(file) = file else { bail!("请给出人员信息文件（JSON Lines），或用 --xlsx 指定单位名册") };
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(file).with_context(|| format!("无法读取 {}", file.display()))?))
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let (mut ok, mut bad) = (0usize, 0usize);
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("读取第 {} 行失败", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let value = match parse_facts_line(&line, &levels) {
            Ok((facts, lv)) => {
                ok += 1;
                serde_json::json!({ "line": i + 1, "evaluation": evaluate_json(&facts, &rules, on, &lv) })
            }
            Err(e) => {
                bad += 1;
                serde_json::json!({ "line": i + 1, "error": e })
            }
        };
        writeln!(w, "{value}")?;
    }
    w.flush()?;
    eprintln!("已评估 {ok} 人，{bad} 行无法读取；规则集 {} v{}，评估日期 {on}", rules.id, rules.version);
    Ok(())
}

/// `gongkao eligibility recheck --campaign YEAR`: every stored application of the campaign,
/// re-evaluated with the rule set as shipped now; prints the ones whose verdict changed.
pub async fn recheck(state: &gongkao_web::AppState, year: i32) -> Result<()> {
    use gongkao_web::services::applications::{self, verdict_label};
    let db = state.store().conn();
    let campaign = gongkao_storage::campaigns::by_year(db, year).await?.with_context(|| format!("--campaign：{year} 年考核年度不存在"))?;
    let rules = rule_set_for(&campaign.rule_set_id).map_err(app_err)?;
    let started = std::time::Instant::now();
    let mut stderr = std::io::stderr();
    let report = applications::recheck(state.store(), campaign.id, &rules, state.now(), |done, total| {
        let width = 30usize;
        let filled = (done * width as u64).checked_div(total).map_or(width, |x| usize::try_from(x).unwrap_or(width));
        let _ = write!(stderr, "\r重新审核 [{}{}] {done}/{total}", "#".repeat(filled), "-".repeat(width.saturating_sub(filled)));
        let _ = stderr.flush();
    })
    .await
    .map_err(app_err)?;
    eprintln!();
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for (id, old, new) in &report.changed {
        writeln!(
            w,
            "{}",
            serde_json::json!({ "application": id, "from": old, "from_label": verdict_label(old), "to": new, "to_label": verdict_label(new) })
        )?;
    }
    w.flush()?;
    eprintln!(
        "已用规则集 {} v{} 重新审核 {} 份申报，结论变化 {} 份，用时 {:.2} 秒",
        rules.id,
        rules.version,
        report.checked,
        report.changed.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
