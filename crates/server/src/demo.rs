//! `gongkao demo`: seeds realistic synthetic data, idempotently, and prints one account per role.
use anyhow::{Context, Result};
use gongkao_domain::demo::{generate_applicants, generate_units};
use gongkao_domain::jurisdiction::henan_2020_agencies;
use gongkao_domain::role::Role;
use gongkao_storage::accounts::{self, NewAccount};
use gongkao_storage::misc;
use gongkao_storage::units::{self, NewApplicant, NewUnit};
use gongkao_web::AppState;
use gongkao_web::services::{Actor, campaigns};

pub const DEMO_PASSWORD: &str = "Gongkao@2020";
pub const UNIT_COUNT: usize = 320;
pub const APPLICANT_COUNT: usize = 5000;
const SEED: u64 = 2020;

/// (username, display name, role, agency code) of the demo staff accounts.
pub const DEMO_STAFF: [(&str, &str, Role, Option<&str>); 15] = [
    ("sysadmin", "系统管理员（演示）", Role::SystemAdmin, None),
    ("secadmin", "安全保密管理员（演示）", Role::SecurityAdmin, None),
    ("auditadmin", "安全审计员（演示）", Role::AuditAdmin, None),
    ("prov.reviewer", "省工考中心审核员", Role::AgencyReviewer, Some("410000")),
    ("prov.examofficer", "省工考中心考务员", Role::AgencyExamOfficer, Some("410000")),
    ("zz.reviewer", "郑州市审核员", Role::AgencyReviewer, Some("410100")),
    ("zz.cashier", "郑州市收费员", Role::AgencyCashier, Some("410100")),
    ("zz.examofficer", "郑州市考务员", Role::AgencyExamOfficer, Some("410100")),
    ("zz.chief", "郑州考点主考", Role::CentreChief, Some("410100")),
    ("zz.proctor", "郑州考点监考员", Role::Proctor, Some("410100")),
    ("zz.tech", "郑州考点技术员", Role::SiteTechnician, Some("410100")),
    ("examiner", "考评员（演示）", Role::Examiner, Some("410000")),
    ("expert", "综合评审专家（演示）", Role::PanelExpert, Some("410000")),
    ("item.writer", "省工考中心命题员", Role::ItemWriter, Some("410000")),
    ("item.reviewer", "省工考中心审题员", Role::ItemReviewer, Some("410000")),
];

/// (reference number, unit, agency, admin, mobile) of the demo's pending 附件2 forms. The
/// reference number's tail doubles as the unit's organisation code in its credit code.
pub const DEMO_FORMS: [(&str, &str, &str, &str, &str); 2] = [
    ("DJ202000001", "郑州市城市照明管理处", "410100", "刘晓燕", "13903710001"),
    ("DJ202000002", "开封市市政设施管理处", "410200", "王丽娟", "13903780002"),
];

/// Distinct (made-up but valid) ID numbers of the three separated admins, so 三员分立 holds.
const ADMIN_HOLDERS: [&str; 3] = ["410102198001010011", "410102198202020027", "410102198503030031"];

pub struct Seeded {
    pub units: u64,
    pub applicants: u64,
    pub created: bool,
    /// The load-test accounts created by this run (see [`LOAD_ACCOUNT_PREFIX`]).
    pub load_accounts: Vec<LoadAccount>,
}

/// Applicant accounts for the load generator (`gongkao-load submit`) are `load.0001`,
/// `load.0002`, …, with the demo password, each linked to a demo applicant who has no
/// application in the campaign, so each can create, submit and withdraw their own.
pub const LOAD_ACCOUNT_PREFIX: &str = "load.";

/// One load-test account and what its person's application form needs.
pub struct LoadAccount {
    pub username: String,
    pub unit_credit_code: String,
    pub work_type: String,
    pub work_start_date: time::Date,
    pub education: String,
    pub held_level: Option<u8>,
    pub target_level: u8,
}

impl LoadAccount {
    pub const TSV_HEADER: &str = "username\tunit_credit_code\twork_type\twork_start_date\teducation\theld_level\ttarget_level";

    pub fn tsv_line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.username,
            self.unit_credit_code,
            self.work_type,
            self.work_start_date,
            self.education,
            self.held_level.map(|l| l.to_string()).unwrap_or_default(),
            self.target_level
        )
    }
}

pub fn load_username(i: usize) -> String {
    format!("{LOAD_ACCOUNT_PREFIX}{i:04}")
}

pub async fn seed(state: &AppState, applicant_count: usize, load_accounts: usize) -> Result<Seeded> {
    let campaign = campaigns::bootstrap(state).await.map_err(|e| anyhow::anyhow!(e.message()))?;
    let db = state.store().conn();
    if accounts::by_username(db, "sysadmin").await?.is_some() {
        let units = units::count_in_scope(db, None).await?;
        let applicants = gongkao_storage::dialect::count_rows(db, "applicant").await?;
        if load_accounts > 0 && accounts::by_username(db, &load_username(load_accounts)).await?.is_none() {
            anyhow::bail!("--applicant-accounts：演示数据已存在但缺少压测账户，请使用新的数据目录重新载入");
        }
        return Ok(Seeded { units, applicants: u64::try_from(applicants).unwrap_or(0), created: false, load_accounts: Vec::new() });
    }
    let now = state.now();
    let agencies = henan_2020_agencies();
    let demo_units = generate_units(SEED, UNIT_COUNT, &agencies);
    let reference = time::Date::from_calendar_date(campaign.year, time::Month::April, 13).context("reference date")?;
    let demo_applicants = generate_applicants(SEED, applicant_count, &demo_units, &agencies, reference);
    let hash = gongkao_web::passwords::hash(DEMO_PASSWORD.to_owned(), state.config().argon2).await.map_err(|e| anyhow::anyhow!(e))?;

    let tx = state.store().write().await?;
    let c = tx.conn();
    units::insert_many(
        c,
        demo_units
            .iter()
            .map(|u| NewUnit {
                name: u.name.clone(),
                credit_code: u.credit_code.clone(),
                unit_type: u.unit_type.as_str().to_owned(),
                category: u.category.as_str().to_owned(),
                supervising_department: u.supervising_department.clone(),
                agency_code: u.agency_code.clone(),
            })
            .collect(),
        now,
    )
    .await?;
    // Unit ids in insertion order, looked up by credit code to stay engine-independent.
    let mut unit_ids = Vec::with_capacity(demo_units.len());
    for u in &demo_units {
        unit_ids.push(units::by_credit_code(c, &u.credit_code).await?.map(|r| r.id).context("unit just inserted")?);
    }
    units::insert_applicants(
        c,
        demo_applicants
            .iter()
            .map(|a| NewApplicant {
                id_number: a.id_number.clone(),
                name: a.name.clone(),
                sex: a.sex.as_str().to_owned(),
                birth_date: a.birth_date.to_string(),
                mobile: a.mobile.clone(),
                unit_id: unit_ids.get(a.unit_index).copied(),
                work_type: Some(a.work_type.clone()),
                current_level: a.current_level.map(|l| i32::from(l.number())),
                work_start_date: Some(a.work_start_date.to_string()),
                education: Some(a.education.clone()),
            })
            .collect(),
        now,
    )
    .await?;
    let mut staff = Vec::new();
    let mut holders = ADMIN_HOLDERS.iter();
    for (username, name, role, agency) in DEMO_STAFF {
        staff.push(NewAccount {
            username: username.to_owned(),
            display_name: name.to_owned(),
            role: role.as_str().to_owned(),
            agency_code: agency.map(str::to_owned),
            holder_id_number: if role.is_separated_admin() { holders.next().map(|h| (*h).to_owned()) } else { None },
            password_hash: Some(hash.clone()),
            ..Default::default()
        });
    }
    // The unit admin of the first Zhengzhou unit, and one demo applicant in that unit.
    let zz_index = demo_units.iter().position(|u| u.agency_code == "410100").context("a Zhengzhou unit")?;
    let zz_unit = unit_ids.get(zz_index).copied();
    staff.push(NewAccount {
        username: "unitadmin".to_owned(),
        display_name: "单位管理员（演示）".to_owned(),
        role: Role::UnitAdmin.as_str().to_owned(),
        agency_code: Some("410100".to_owned()),
        unit_id: zz_unit,
        password_hash: Some(hash.clone()),
        ..Default::default()
    });
    let first_applicant = demo_applicants.iter().find(|a| a.unit_index == zz_index).context("an applicant in the unit")?;
    let applicant = units::applicant_by_id_number(c, &first_applicant.id_number).await?.context("applicant just inserted")?;
    staff.push(NewAccount {
        username: "demo.applicant".to_owned(),
        display_name: applicant.name.clone(),
        role: Role::Applicant.as_str().to_owned(),
        applicant_id: Some(applicant.id),
        mobile: Some(applicant.mobile.clone()),
        password_hash: Some(hash.clone()),
        ..Default::default()
    });
    let load = load_accounts_for(c, &demo_applicants, &demo_units, &first_applicant.id_number, load_accounts).await?;
    for (a, applicant_id, l) in &load {
        staff.push(NewAccount {
            username: l.username.clone(),
            display_name: a.name.clone(),
            role: Role::Applicant.as_str().to_owned(),
            applicant_id: Some(*applicant_id),
            mobile: Some(a.mobile.clone()),
            password_hash: Some(hash.clone()),
            ..Default::default()
        });
    }
    accounts::insert_many(c, staff, now).await?;
    let applications = seed_applications(c, &campaign, &demo_applicants, &unit_ids, now).await?;
    advance_reviews(c, campaign.id, applicant.id, now).await?;
    // Two units filed 附件2 on 2020-04-09 and wait for their agency: one in 郑州, one in 开封.
    let filed = gongkao_domain::campaign::shanghai_datetime(
        time::Date::from_calendar_date(campaign.year, time::Month::April, 9).context("date")?,
        10,
        0,
    );
    for (no, name, agency, person, mobile) in DEMO_FORMS {
        let first17 = format!("12{agency}{}", &no[2..]);
        let check = gongkao_domain::credit_code::credit_code_check_character(&first17).context("demo credit code")?;
        misc::create_unit_admin_request(
            c,
            misc::NewUnitAdminRequest {
                reference_no: no.to_owned(),
                campaign_id: campaign.id,
                existing_unit_id: None,
                unit_name: name.to_owned(),
                credit_code: format!("{first17}{check}"),
                unit_type: "institution".to_owned(),
                category: "local".to_owned(),
                supervising_department: format!("{}城市管理局", &name[..name.find('市').map_or(0, |i| i + '市'.len_utf8())]),
                agency_code: agency.to_owned(),
                person_name: person.to_owned(),
                sex: "female".to_owned(),
                department: "人事科".to_owned(),
                post: "科员".to_owned(),
                office_phone: "0371-61612570".to_owned(),
                mobile: mobile.to_owned(),
            },
            filed,
        )
        .await?;
    }
    gongkao_storage::audit::append(
        &tx,
        now,
        Actor::system("demo").record(
            "demo.seed",
            "database",
            format!("{UNIT_COUNT} 个单位，{applicant_count} 名申报人员，{applications} 份申报，演示账户"),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Seeded {
        units: UNIT_COUNT as u64,
        applicants: applicant_count as u64,
        created: true,
        load_accounts: load.into_iter().map(|(_, _, l)| l).collect(),
    })
}

/// Picks `count` demo applicants who get no seeded application (see [`seed_applications`]: two
/// in five are skipped as `i % 5 >= 3`), other than the `demo.applicant` person, and can apply for a level above the one they hold.
async fn load_accounts_for<'a>(
    c: &impl gongkao_storage::sea_orm::ConnectionTrait,
    people: &'a [gongkao_domain::demo::DemoApplicant],
    demo_units: &[gongkao_domain::demo::DemoUnit],
    taken: &str,
    count: usize,
) -> Result<Vec<(&'a gongkao_domain::demo::DemoApplicant, i64, LoadAccount)>> {
    use gongkao_domain::campaign::Level;
    if count == 0 {
        return Ok(Vec::new());
    }
    let ids: std::collections::BTreeMap<String, i64> = units::applicant_ids(c).await?.into_iter().map(|(id, no)| (no, id)).collect();
    let mut out = Vec::with_capacity(count);
    for (i, p) in people.iter().enumerate() {
        if out.len() == count {
            break;
        }
        let target = match p.current_level {
            Some(l) => l.next_higher(),
            None => Some(Level::L5),
        };
        let (Some(target), Some(&id), Some(unit)) = (target, ids.get(&p.id_number), demo_units.get(p.unit_index)) else { continue };
        if i % 5 < 3 || p.id_number == taken {
            continue;
        }
        out.push((
            p,
            id,
            LoadAccount {
                username: load_username(out.len() + 1),
                unit_credit_code: unit.credit_code.clone(),
                work_type: p.work_type.clone(),
                work_start_date: p.work_start_date,
                education: p.education.clone(),
                held_level: p.current_level.map(Level::number),
                target_level: target.number(),
            },
        ));
    }
    if out.len() < count {
        anyhow::bail!("--applicant-accounts：只有 {} 名演示申报人员没有申报，请加大 --applicants", out.len());
    }
    Ok(out)
}

/// Moves some submitted demo applications through the reviews, so every reviewer's list, the
/// rosters and the cashier's page have something to show: of each six, one is approved by its
/// unit, one also approved online by the agency, one waits for an on-site check. The demo
/// applicant's own application is left for the newcomer to walk through.
async fn advance_reviews(
    c: &impl gongkao_storage::sea_orm::ConnectionTrait,
    campaign_id: i64,
    demo_applicant: i64,
    now: time::OffsetDateTime,
) -> Result<()> {
    use gongkao_domain::application::UNIT_CHECK_FIELDS;
    use gongkao_storage::applications::{self, AgencyFilter, NewEvent, TransitionData};
    let filter = AgencyFilter { statuses: Some(vec!["submitted".to_owned()]), ..Default::default() };
    let submitted = applications::all_for_agency(c, campaign_id, &filter, u64::MAX >> 1).await?;
    let checks: Vec<serde_json::Value> = UNIT_CHECK_FIELDS
        .iter()
        .map(|(code, label)| serde_json::json!({ "field": code, "label": label, "by": "单位管理员（演示）", "username": "demo", "at": gongkao_storage::to_ms(now) }))
        .collect();
    let checks = serde_json::Value::Array(checks).to_string();
    for (k, a) in submitted.iter().filter(|a| a.applicant_id != demo_applicant).enumerate() {
        let steps: &[(&str, &str, &str, &str)] = match k % 6 {
            1 => &[("unit_approve", "submitted", "unit_approved", "")],
            2 => &[("unit_approve", "submitted", "unit_approved", ""), ("agency_approve", "unit_approved", "agency_approved", "")],
            3 => &[
                ("unit_approve", "submitted", "unit_approved", ""),
                ("agency_require_on_site", "unit_approved", "on_site_required", "学历信息与档案记载需核实（需携带：学历证书原件）"),
            ],
            _ => &[],
        };
        for (action, from, to, reason) in steps {
            let data = TransitionData {
                unit_checks: (*action == "unit_approve").then(|| checks.clone()),
                unit_reviewed: *action == "unit_approve",
                on_site_note: (!reason.is_empty()).then(|| format!("原因：{reason}")),
                ..Default::default()
            };
            applications::transition_with(c, a.id, from, to, now, &data).await?;
            let actor = if *action == "unit_approve" { "unitadmin（演示）" } else { "zz.reviewer（演示）" };
            let event = NewEvent { application_id: a.id, actor, action, from_status: from, to_status: to, reason, facts_before: None };
            applications::add_event(c, event, now).await?;
        }
    }
    Ok(())
}

/// Three in five demo applicants have filed for the level above the one they hold; most are
/// submitted and wait for their unit. Facts come from the generated personnel data.
async fn seed_applications(
    c: &impl gongkao_storage::sea_orm::ConnectionTrait,
    campaign: &gongkao_storage::campaigns::Campaign,
    people: &[gongkao_domain::demo::DemoApplicant],
    unit_ids: &[i64],
    now: time::OffsetDateTime,
) -> Result<usize> {
    use gongkao_domain::campaign::Level;
    use gongkao_domain::eligibility::{Certificate, CertificateSource, Education, PersonFacts, StaffType};
    use gongkao_web::services::applications::{reasons_json, verdict_code};
    let rules = gongkao_web::services::eligibility::rule_set_for(&campaign.rule_set_id).map_err(|e| anyhow::anyhow!(e.message()))?;
    let ids: std::collections::BTreeMap<String, i64> = units::applicant_ids(c).await?.into_iter().map(|(id, no)| (no, id)).collect();
    let on = now.to_offset(gongkao_domain::campaign::SHANGHAI).date();
    let mut rows = Vec::new();
    for (i, p) in people.iter().enumerate() {
        if i % 5 >= 3 {
            continue;
        }
        let (Some(&applicant_id), Some(&unit_id)) = (ids.get(&p.id_number), unit_ids.get(p.unit_index)) else { continue };
        let target = match p.current_level {
            Some(l) => match l.next_higher() {
                Some(t) => t,
                None => continue,
            },
            None => Level::L5,
        };
        let held_since = gongkao_domain::person::add_years(p.work_start_date, 3 + i32::try_from(i % 9).unwrap_or(0));
        let facts = PersonFacts {
            id_number: Some(p.id_number.clone()),
            staff_type: Some(if i % 7 == 0 { StaffType::Contracted } else { StaffType::Permanent }),
            in_post: Some(true),
            retired: Some(false),
            work_start_date: Some(p.work_start_date),
            regularised_on: Some(gongkao_domain::person::add_years(p.work_start_date, 1)),
            education: Education::parse(&p.education),
            current_work_type: Some(p.work_type.clone()),
            certificates: p
                .current_level
                .map(|l| {
                    vec![Certificate {
                        level: l.number(),
                        work_type: Some(p.work_type.clone()),
                        issued_on: Some(held_since.min(on)),
                        source: Some(CertificateSource::Exam),
                    }]
                })
                .unwrap_or_default(),
            years_at_level_continuous: Some(true),
            ..Default::default()
        };
        let (verdict, reasons) = reasons_json(&facts, &rules, on, target);
        let status = if i % 10 == 0 { "draft" } else { "submitted" };
        let content = gongkao_storage::applications::Content {
            unit_id: Some(unit_id),
            agency_code: None,
            work_type: p.work_type.clone(),
            target_level: i32::from(target.number()),
            facts: serde_json::to_string(&facts)?,
            verdict: verdict_code(verdict).to_owned(),
            rule_set_id: rules.id.clone(),
            rule_set_version: i32::try_from(rules.version).unwrap_or(i32::MAX),
            trace: reasons,
        };
        rows.push((campaign.id, applicant_id, content, status, (status == "submitted").then_some(now)));
    }
    let count = rows.len();
    gongkao_storage::applications::insert_many(c, rows, now).await?;
    gongkao_storage::applications::backfill_agency_codes(c).await?;
    Ok(count)
}

pub fn print_accounts() {
    println!("演示账户（密码均为 {DEMO_PASSWORD}）：");
    println!("  {:<18} 角色", "用户名");
    for (username, _, role, _) in DEMO_STAFF {
        println!("  {username:<18} {}", role.label());
    }
    println!("  {:<18} {}（郑州市一家单位）", "unitadmin", Role::UnitAdmin.label());
    println!("  {:<18} {}", "demo.applicant", Role::Applicant.label());
    println!(
        "  {:<18} {}（已编排考场；以 --at \"2020-07-15 09:00\" 启动可签署承诺书并打印准考证；已参加培训，可模拟练习）",
        crate::demo_exam::CANDIDATE_ACCOUNT,
        Role::Applicant.label()
    );
}
