//! Fees at the agency (2020 notice §五(三): units pay "at the agency of the same level", §四(三):
//! "收费仍按现行标准执行"). A cashier records one batch per unit payment with amounts from the
//! campaign's fee table; the payment admits the applications at once (see
//! `gongkao_domain::application::pay_and_admit`); receipts are PDFs; refunds are recorded with a
//! reason and never exceed what was paid.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use gongkao_documents::{Documents, ReceiptDoc};
use gongkao_domain::application::{ApplicationAction, ApplicationStatus, pay_and_admit};
use gongkao_domain::campaign::{FeeCharge, FeeItem, Level, charges_for, format_date, format_fen, parse_yuan_to_fen, to_shanghai};
use gongkao_domain::validation::FieldErrors;
use gongkao_storage::applications::{self, Application, NewEvent};
use gongkao_storage::fees::{self, FeeBatch, NewBatch, NewLine};
use gongkao_storage::{StoreError, audit, campaigns, from_ms, units};

use super::Actor;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::policy::Principal;
use crate::sender::OutboundMessage;

/// What the cashier says when a selected application moved on since the page was shown.
pub const STALE: &str = "已被他人处理，请刷新";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    Cash,
    Transfer,
    Pos,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 3] = [PaymentMethod::Cash, PaymentMethod::Transfer, PaymentMethod::Pos];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Transfer => "transfer",
            PaymentMethod::Pos => "pos",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "现金",
            PaymentMethod::Transfer => "银行转账",
            PaymentMethod::Pos => "POS刷卡",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }
}

pub fn method_label(code: &str) -> &'static str {
    PaymentMethod::parse(code).map_or("", PaymentMethod::label)
}

/// The campaign's fee table in domain terms; rows with unknown levels or items are ignored.
pub async fn fee_table(state: &AppState, campaign_id: i64) -> AppResult<Vec<(Level, FeeItem, i64)>> {
    Ok(campaigns::fees(state.store().conn(), campaign_id)
        .await?
        .into_iter()
        .filter_map(|f| Some((u8::try_from(f.level).ok().and_then(Level::from_number)?, FeeItem::parse(&f.item)?, f.amount_fen)))
        .collect())
}

fn level_of(a: &Application) -> Option<Level> {
    u8::try_from(a.target_level).ok().and_then(Level::from_number)
}

fn overflow() -> AppError {
    AppError::Internal("fee amount overflow".into())
}

fn total_of(charges: &[FeeCharge]) -> AppResult<i64> {
    charges.iter().try_fold(0_i64, |sum, c| sum.checked_add(c.amount_fen()?)).ok_or_else(overflow)
}

/// An application waiting for payment, with what it will be charged.
pub struct Awaiting {
    pub application: Application,
    pub name: String,
    pub id_number: String,
    pub level: Option<Level>,
    pub charges: Vec<FeeCharge>,
    pub total_fen: i64,
}

pub async fn awaiting_for_unit(state: &AppState, campaign_id: i64, unit_id: i64) -> AppResult<Vec<Awaiting>> {
    let db = state.store().conn();
    let table = fee_table(state, campaign_id).await?;
    let mut out = Vec::new();
    for a in fees::awaiting_for_unit(db, campaign_id, unit_id).await? {
        let person = units::applicant(db, a.applicant_id).await?;
        let level = level_of(&a);
        let charges = level.map(|l| charges_for(l, &table)).unwrap_or_default();
        out.push(Awaiting {
            name: person.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
            id_number: person
                .and_then(|x| gongkao_domain::id_number::IdNumber::parse(&x.id_number).ok())
                .map(|i| i.masked())
                .unwrap_or_default(),
            level,
            total_fen: total_of(&charges)?,
            charges,
            application: a,
        });
    }
    Ok(out)
}

/// The batch form as the cashier submitted it.
#[derive(Debug, Clone, Default)]
pub struct BatchInput {
    pub selected: Vec<Selected>,
    pub payer_name: String,
    pub method: String,
    pub idempotency_key: String,
}

/// A ticked application with what the page showed for it, so that a change since (its state,
/// or the fee table) is refused instead of charged silently.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selected {
    pub id: i64,
    pub version: Option<i32>,
    pub amount_fen: Option<i64>,
}

/// Records one unit's payment: every selected application goes paid → admitted, with its
/// events and audit entries, and the batch with its lines and receipt number, in one
/// transaction. A form submitted twice (same idempotency key) returns the batch recorded the
/// first time. Returns the batch id.
pub async fn record_batch(state: &AppState, p: &Principal, actor: &Actor, unit_id: i64, input: &BatchInput) -> AppResult<i64> {
    let mut errors = FieldErrors::new();
    let key = input.idempotency_key.trim();
    if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        errors.push("idempotency_key", "页面已过期，请刷新后重新登记");
    }
    let payer = input.payer_name.trim();
    if !(2..=30).contains(&payer.chars().count()) {
        errors.push("payer_name", "交款人：请填写 2 至 30 字的交款人姓名");
    }
    let method = PaymentMethod::parse(&input.method);
    if method.is_none() {
        errors.push("method", "缴费方式：请选择现金、银行转账或POS刷卡");
    }
    // Checked before anything else so that a wrong role is a refusal, not a "stale page".
    if !ApplicationAction::RecordPayment.allowed_for(p.role) {
        return Err(AppError::Forbidden);
    }
    if input.selected.is_empty() {
        errors.push("app", "缴费人员：请至少选择一人");
    }
    errors.into_result()?;
    let Some(method) = method else { return Err(AppError::Internal("validated".into())) };

    let db = state.store().conn();
    if let Some(existing) = fees::batch_by_key(db, key).await? {
        return same_batch(existing, unit_id);
    }
    let (campaign, _) = super::campaigns::current(state).await?;
    let unit = units::get(db, unit_id).await?.ok_or(AppError::NotFound)?;
    let table = fee_table(state, campaign.id).await?;
    let mut selected = input.selected.clone();
    // Rows are locked in id order, so two batches touching the same applications cannot
    // deadlock on PostgreSQL.
    selected.sort_by_key(|x| x.id);
    selected.dedup_by_key(|x| x.id);

    let now = state.now();
    let tx = state.store().write().await?;
    // The counter row is locked first: batches of one agency take turns from here on, which is
    // also what makes the second look-up of the key below see a concurrent twin's batch.
    let seq = fees::next_receipt_seq(tx.conn(), campaign.id, &unit.agency_code).await?;
    if let Some(existing) = fees::batch_by_key(tx.conn(), key).await? {
        return same_batch(existing, unit_id);
    }
    let stale = || AppError::Conflict(STALE.to_owned());
    let mut lines = Vec::new();
    let mut records = Vec::new();
    let mut admitted = Vec::new();
    let mut total: i64 = 0;
    for Selected { id, version: seen_version, amount_fen: seen_amount } in &selected {
        let a = applications::get(tx.conn(), *id).await?.ok_or_else(stale)?;
        if a.campaign_id != campaign.id || a.unit_id != Some(unit_id) || seen_version.is_some_and(|v| v != a.version) {
            return Err(stale());
        }
        let from = ApplicationStatus::parse(&a.status).ok_or_else(stale)?;
        let steps = pay_and_admit(from, p.role).map_err(|_| stale())?;
        let level = level_of(&a).ok_or_else(|| AppError::Internal(format!("application {id}: level {}", a.target_level)))?;
        let charges = charges_for(level, &table);
        let amount = total_of(&charges)?;
        if seen_amount.is_some_and(|seen| seen != amount) {
            return Err(AppError::Conflict(format!("收费标准已调整，请刷新后核对金额（申报 {id} 现应收 {} 元）", format_fen(amount))));
        }
        total = total.checked_add(amount).ok_or_else(overflow)?;
        for (step_from, action, step_to) in steps {
            applications::transition(tx.conn(), *id, step_from.as_str(), step_to.as_str(), now, false, false).await.map_err(
                |e| match e {
                    StoreError::Conflict => stale(),
                    other => other.into(),
                },
            )?;
            let reason = if step_to == ApplicationStatus::Admitted { "已审查通过并缴费，准予参加考核" } else { "" };
            applications::add_event(
                tx.conn(),
                NewEvent {
                    application_id: *id,
                    actor: &actor.username,
                    action: action.as_str(),
                    from_status: step_from.as_str(),
                    to_status: step_to.as_str(),
                    reason,
                    facts_before: None,
                },
                now,
            )
            .await?;
            records.push(actor.record(
                &format!("application.{}", action.as_str()),
                format!("application:{id}"),
                format!("{} → {} {reason}", step_from.as_str(), step_to.as_str()),
            ));
        }
        for c in charges {
            lines.push(NewLine {
                application_id: *id,
                level: a.target_level,
                item: c.item.as_str().to_owned(),
                count: i32::try_from(c.count).map_err(|_| overflow())?,
                unit_fen: c.unit_fen,
                amount_fen: c.amount_fen().ok_or_else(overflow)?,
            });
        }
        admitted.push(a.applicant_id);
    }
    let receipt_no = format!("SF{}-{}-{seq:06}", campaign.year, unit.agency_code);
    let batch_id = fees::create_batch(
        tx.conn(),
        NewBatch {
            campaign_id: campaign.id,
            unit_id,
            agency_code: unit.agency_code.clone(),
            receipt_no: receipt_no.clone(),
            payer_name: payer.to_owned(),
            payment_method: method.as_str().to_owned(),
            total_fen: total,
            cashier: actor.username.clone(),
            cashier_name: p.display_name.clone(),
            idempotency_key: key.to_owned(),
        },
        lines,
        now,
    )
    .await?;
    records.push(actor.record(
        "fee.batch.record",
        format!("fee_batch:{batch_id}"),
        format!("收据 {receipt_no}，{}，{} 人，合计 {} 元，{}", unit.name, selected.len(), format_fen(total), method.label()),
    ));
    // Audit entries go last: appending takes the audit head's lock (ARCHITECTURE.md).
    for r in records {
        audit::append(&tx, now, r).await?;
    }
    tx.commit().await?;
    for applicant_id in admitted {
        if let Some(person) = units::applicant(db, applicant_id).await? {
            state.sender().send(OutboundMessage {
                at: now,
                channel: "sms",
                to: person.mobile,
                body: format!("【河南工考】{}：您的申报状态已变更为“{}”。", person.name, ApplicationStatus::Admitted.label()),
            });
        }
    }
    Ok(batch_id)
}

/// A key seen before: the same unit's batch is the double submit's answer; another unit's
/// means the form was tampered with or reused.
fn same_batch(existing: FeeBatch, unit_id: i64) -> AppResult<i64> {
    if existing.unit_id == unit_id {
        Ok(existing.id)
    } else {
        Err(AppError::Conflict("页面已过期，请刷新后重新登记".to_owned()))
    }
}

/// One application's part of a batch.
pub struct BatchPerson {
    pub application_id: i64,
    pub name: String,
    pub level: Option<Level>,
    pub paid_fen: i64,
    pub refunded_fen: i64,
}

/// A batch with its people and refunds, for the batch page and the refund checks.
pub struct BatchView {
    pub batch: FeeBatch,
    pub unit_name: String,
    pub agency_name: String,
    pub campaign_title: String,
    pub people: Vec<BatchPerson>,
    pub lines: Vec<fees::FeeLine>,
    pub refunds: Vec<fees::FeeRefund>,
}

pub async fn batch_view(state: &AppState, id: i64) -> AppResult<BatchView> {
    let db = state.store().conn();
    let batch = fees::batch(db, id).await?.ok_or(AppError::NotFound)?;
    let unit_name = units::get(db, batch.unit_id).await?.map(|u| u.name).unwrap_or_default();
    let agencies = campaigns::agencies(db, batch.campaign_id).await?;
    let agency_name = super::jurisdiction::agency_name(&agencies, &batch.agency_code);
    let campaign_title = campaigns::by_id(db, batch.campaign_id).await?.map(|c| c.title).unwrap_or_default();
    let lines = fees::lines(db, id).await?;
    let refunds = fees::refunds(db, id).await?;
    let mut people: Vec<BatchPerson> = Vec::new();
    for l in &lines {
        if let Some(p) = people.iter_mut().find(|p| p.application_id == l.application_id) {
            p.paid_fen = p.paid_fen.checked_add(l.amount_fen).ok_or_else(overflow)?;
            continue;
        }
        let name = match applications::get(db, l.application_id).await? {
            Some(a) => units::applicant(db, a.applicant_id).await?.map(|x| x.name).unwrap_or_default(),
            None => String::new(),
        };
        people.push(BatchPerson {
            application_id: l.application_id,
            name,
            level: u8::try_from(l.level).ok().and_then(Level::from_number),
            paid_fen: l.amount_fen,
            refunded_fen: 0,
        });
    }
    for r in &refunds {
        if let Some(p) = people.iter_mut().find(|p| Some(p.application_id) == r.application_id) {
            p.refunded_fen = p.refunded_fen.checked_add(r.amount_fen).ok_or_else(overflow)?;
        }
    }
    Ok(BatchView { batch, unit_name, agency_name, campaign_title, people, lines, refunds })
}

/// The receipt's items: lines of the same level, item and price added up, in the order the
/// fee table lists items.
pub fn receipt_doc(v: &BatchView) -> AppResult<ReceiptDoc> {
    let mut items: BTreeMap<(i32, usize, i64), (String, u32, i64)> = BTreeMap::new();
    for l in &v.lines {
        let item = FeeItem::parse(&l.item);
        let order = item.and_then(|i| FeeItem::ALL.iter().position(|x| *x == i)).unwrap_or(FeeItem::ALL.len());
        let level = u8::try_from(l.level).ok().and_then(Level::from_number).map_or("", Level::short_label);
        let name = match item {
            Some(i) => format!("{level}{}", i.label()),
            None => format!("{level}{}", l.item),
        };
        // Levels print from five (the most applicants) up to one.
        let entry = items.entry((-l.level, order, l.unit_fen)).or_insert((name, 0, 0));
        entry.1 = entry.1.checked_add(u32::try_from(l.count).map_err(|_| overflow())?).ok_or_else(overflow)?;
        entry.2 = entry.2.checked_add(l.amount_fen).ok_or_else(overflow)?;
    }
    Ok(ReceiptDoc {
        receipt_no: v.batch.receipt_no.clone(),
        payer_unit: v.unit_name.clone(),
        agency_name: v.agency_name.clone(),
        campaign_title: v.campaign_title.clone(),
        items: items.into_iter().map(|((.., price), (name, count, amount))| (name, count, price, amount)).collect(),
        total_fen: v.batch.total_fen,
        cashier: v.batch.cashier_name.clone(),
        issued_at: format_date(to_shanghai(from_ms(v.batch.recorded_at)).date()),
    })
}

/// The process-wide renderer: loading the embedded fonts once is what makes it cheap to share.
fn documents() -> AppResult<Documents> {
    static DOCS: OnceLock<Result<Documents, String>> = OnceLock::new();
    DOCS.get_or_init(|| Documents::new().map_err(|e| e.to_string())).clone().map_err(AppError::Internal)
}

/// The receipt as PDF bytes. Printing (and reprinting) is audited: a receipt is a money document.
pub async fn receipt_pdf(state: &AppState, actor: &Actor, id: i64) -> AppResult<(String, Vec<u8>)> {
    let v = batch_view(state, id).await?;
    let doc = receipt_doc(&v)?;
    // typst is CPU-heavy: keep it off the async workers.
    let pdf = tokio::task::spawn_blocking(move || documents()?.receipt(&doc).map_err(|e| AppError::Internal(e.to_string())))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let now = state.now();
    let tx = state.store().write().await?;
    audit::append(&tx, now, actor.record("fee.receipt.print", format!("fee_batch:{id}"), format!("收据 {}", v.batch.receipt_no))).await?;
    tx.commit().await?;
    Ok((v.batch.receipt_no, pdf))
}

/// Records a refund of part of a batch: one person's line (`target` = their application id) or
/// the batch as a whole (`target` = "all"), never more than what remains of the payment.
///
/// A refund does not change the application's state: it follows a decision taken elsewhere
/// (an application voided for false information, or withdrawn with the agency's consent), and
/// that decision is what moves the application. The cashier only records the money.
pub async fn refund(state: &AppState, actor: &Actor, batch_id: i64, target: &str, amount: &str, reason: &str) -> AppResult<()> {
    let v = batch_view(state, batch_id).await?;
    let mut errors = FieldErrors::new();
    let target = target.trim();
    let person = match target {
        "all" => None,
        other => match other.parse::<i64>().ok().and_then(|id| v.people.iter().find(|p| p.application_id == id)) {
            Some(p) => Some(p),
            None => {
                errors.push("target", "退款对象：请选择本批次中的人员，或整批退款");
                None
            }
        },
    };
    let amount_fen = match parse_yuan_to_fen(amount, "amount") {
        Ok(0) => {
            errors.push("amount", "退款金额：应大于 0");
            None
        }
        Ok(fen) => Some(fen),
        Err(e) => {
            errors.push("amount", format!("退款金额：{}", e.message.split_once('：').map_or(e.message.as_str(), |(_, m)| m)));
            None
        }
    };
    let reason = reason.trim();
    if !(2..=300).contains(&reason.chars().count()) {
        errors.push("reason", "退款原因：请填写 2 至 300 字，说明退款依据（如取消申报资格的决定）");
    }
    let batch_left = v.batch.total_fen.saturating_sub(v.batch.refunded_fen);
    let (paid, refunded) = match person {
        Some(p) => (p.paid_fen, p.refunded_fen),
        None => (v.batch.total_fen, v.batch.refunded_fen),
    };
    let max = paid.saturating_sub(refunded).min(batch_left);
    let too_much = |errors: &mut FieldErrors| {
        errors.push(
            "amount",
            format!(
                "退款金额：超过可退金额（已缴 {} 元，已退 {} 元，最多可退 {} 元）",
                format_fen(paid),
                format_fen(refunded),
                format_fen(max)
            ),
        )
    };
    if let Some(fen) = amount_fen
        && fen > max
    {
        too_much(&mut errors);
    }
    errors.into_result()?;
    let Some(amount_fen) = amount_fen else { return Err(AppError::Internal("validated".into())) };
    let application_id = person.map(|p| p.application_id);

    let now = state.now();
    let tx = state.store().write().await?;
    // The guarded update keeps the batch within its total even if two cashiers refund at once.
    match fees::add_refund(tx.conn(), batch_id, application_id, amount_fen, reason, &actor.username, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            let mut errors = FieldErrors::new();
            too_much(&mut errors);
            return Err(errors.into());
        }
        Err(e) => return Err(e.into()),
    }
    // The batch row is locked now, so this sum cannot change under us before commit.
    if let Some(p) = person {
        let refunded_now: i64 = fees::refunds(tx.conn(), batch_id)
            .await?
            .iter()
            .filter(|r| r.application_id == Some(p.application_id))
            .map(|r| r.amount_fen)
            .sum();
        if refunded_now > p.paid_fen {
            let mut errors = FieldErrors::new();
            too_much(&mut errors);
            return Err(errors.into());
        }
    }
    let whom = match person {
        Some(p) => format!("{}（申报 {}）", p.name, p.application_id),
        None => "整批".to_owned(),
    };
    audit::append(
        &tx,
        now,
        actor.record(
            "fee.refund",
            format!("fee_batch:{batch_id}"),
            format!("收据 {}，{whom}，退款 {} 元，原因：{reason}", v.batch.receipt_no, format_fen(amount_fen)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
