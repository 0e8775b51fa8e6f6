//! The demo's exam side, seeded through the same use cases as the pages: a synthetic item bank
//! reviewed by two people, blueprints with assembled forms, and in 郑州 the fees of the
//! approved applicants, a test centre with rooms, three sittings and the seating plan, and two
//! training classes (levels 4 and 3, June 2020) with the admitted enrolled and a day of
//! attendance, so a newcomer finds every exam page filled.
use anyhow::{Context, Result};
use gongkao_domain::campaign::Level;
use gongkao_domain::demo::{DEMO_BANKS, DEMO_CELLS, DEMO_FORMS, generate_items, generate_practice_items};
use gongkao_domain::exam::Difficulty;
use gongkao_domain::exam::blueprint::{Blueprint, BlueprintCell};
use gongkao_domain::item_bank::ItemPool;
use gongkao_domain::role::Role;
use gongkao_storage::applications::{self, AgencyFilter};
use gongkao_web::AppState;
use gongkao_web::policy::Principal;
use gongkao_web::services::fees::{BatchInput, Selected};
use gongkao_web::services::items::ItemInput;
use gongkao_web::services::{Actor, delivery, exam_sites, fees, items, papers, tickets, training};

/// The demo's agency for the exam: 郑州.
const AGENCY: &str = "410100";

fn staff(username: &str, role: Role) -> Actor {
    Actor { username: username.to_owned(), role: role.as_str().to_owned(), jurisdiction: String::new(), client_ip: "demo".to_owned() }
}

fn err(what: &str) -> impl Fn(gongkao_web::error::AppError) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("{what}：{}", e.message())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

pub struct ExamSeeded {
    pub items: usize,
    pub practice_items: usize,
    pub forms: usize,
    pub admitted: usize,
    pub seated: usize,
    pub trained: usize,
}

pub async fn seed(state: &AppState) -> Result<ExamSeeded> {
    let writer = staff("item.writer", Role::ItemWriter);
    let reviewer = staff("item.reviewer", Role::ItemReviewer);
    let mut item_count = 0;
    let mut form_count = 0;
    let mut practice_count = 0;
    for bank in &DEMO_BANKS {
        let inputs: Vec<ItemInput> = generate_items(2020, bank).into_iter().map(|(meta, content)| ItemInput { meta, content }).collect();
        item_count += items::seed_reviewed(state, &writer, &reviewer, inputs).await.map_err(err("载入演示题库"))?;
        let cells = bank
            .knowledge_points
            .iter()
            .flat_map(|kp| {
                DEMO_CELLS.iter().map(move |(kind, difficulty, count, points)| BlueprintCell {
                    kind: *kind,
                    difficulty: Difficulty::new(*difficulty).unwrap_or(Difficulty::MEDIUM),
                    knowledge_point: (*kp).to_owned(),
                    count: *count,
                    points_per_item: *points,
                })
            })
            .collect();
        let level = Level::from_number(bank.level).context("demo level")?;
        let mut blueprint = Blueprint::new(bank.subject, level, bank.work_type.map(str::to_owned), cells);
        blueprint.forms_per_sitting = DEMO_FORMS;
        let id = papers::save(state, &reviewer, &blueprint).await.map_err(err("保存演示蓝图"))?;
        form_count += papers::assemble(state, &reviewer, id).await.map_err(err("演示组卷"))?;
        // The practice pool (练习题库) of the same subject, level and work type, for the
        // candidates of the training classes (模拟练习); assembly above never sees it.
        let practice: Vec<ItemInput> =
            generate_practice_items(2020, bank).into_iter().map(|(meta, content)| ItemInput { meta, content }).collect();
        practice_count +=
            items::seed_reviewed_in(state, ItemPool::Practice, &writer, &reviewer, practice).await.map_err(err("载入演示练习题库"))?;
    }

    // 郑州's cashier records the fees of the levels 5–2 applications its reviewers approved;
    // level 1's theory exam is organised apart (its own window and sites) and is left unpaid.
    let (campaign, _) = gongkao_web::services::campaigns::current(state).await.map_err(err("考核年度"))?;
    let filter =
        AgencyFilter { agencies: Some(vec![AGENCY.to_owned()]), statuses: Some(vec!["agency_approved".to_owned()]), ..Default::default() };
    let approved: Vec<_> = applications::all_for_agency(state.store().conn(), campaign.id, &filter, 100_000)
        .await?
        .into_iter()
        .filter(|a| a.target_level != 1)
        .collect();
    let cashier = Principal {
        account_id: None,
        api_token_id: None,
        username: "zz.cashier".to_owned(),
        display_name: "郑州市收费员".to_owned(),
        role: Role::AgencyCashier,
        agency_code: Some(AGENCY.to_owned()),
        unit_id: None,
        applicant_id: None,
        must_change_password: false,
        csrf_token: String::new(),
    };
    let cashier_actor = staff("zz.cashier", Role::AgencyCashier);
    let mut by_unit: std::collections::BTreeMap<i64, Vec<Selected>> = std::collections::BTreeMap::new();
    for a in &approved {
        if let Some(unit) = a.unit_id {
            by_unit.entry(unit).or_default().push(Selected { id: a.id, version: None, amount_fen: None });
        }
    }
    for (unit, selected) in by_unit {
        let input = BatchInput {
            selected,
            payer_name: "单位经办人".to_owned(),
            method: "transfer".to_owned(),
            idempotency_key: format!("demo-{unit}"),
        };
        fees::record_batch(state, &cashier, &cashier_actor, unit, &input).await.map_err(err("演示缴费"))?;
    }

    // A test centre with enough rooms, three sittings on one day, and the seating plan.
    let officer = staff("zz.examofficer", Role::AgencyExamOfficer);
    let centre = exam_sites::add_centre(
        state,
        &officer,
        AGENCY,
        &pairs(&[
            ("number", "1"),
            ("name", "郑州市工勤技能考核考点（演示）"),
            ("address", "郑州市金水区文化路1号"),
            ("contact", "王老师"),
            ("phone", "0371-60000001"),
        ]),
    )
    .await
    .map_err(err("演示考点"))?;
    let rooms = approved.len().div_ceil(30).max(1) + 1;
    for n in 1..=rooms {
        let number = n.to_string();
        exam_sites::add_room(state, &officer, centre, &pairs(&[("number", &number), ("seat_count", "32"), ("spare_seats", "2")]))
            .await
            .map_err(err("演示考场"))?;
    }
    for (subject, from, to) in [("post_skills", "09:00", "10:30"), ("ethics", "11:00", "12:30"), ("competence", "14:30", "16:00")] {
        exam_sites::add_sitting(
            state,
            &officer,
            AGENCY,
            &pairs(&[("subject", subject), ("date", "2020-07-18"), ("starts_at", from), ("ends_at", to)]),
        )
        .await
        .map_err(err("演示场次"))?;
    }
    let seated = if approved.is_empty() {
        0
    } else {
        exam_sites::run_seating(state, &officer, AGENCY).await.map_err(err("演示编排"))?.candidates
    };
    // Every room of every sitting gets its access code now, so the demo can be sat at once.
    open_rooms(state).await?;
    // The province's pledge, which candidates sign online before printing (as in 2022).
    let province = staff("prov.examofficer", Role::AgencyExamOfficer);
    tickets::set_pledge(state, &province, &pairs(&[("body", DEMO_PLEDGE)])).await.map_err(err("演示承诺书"))?;
    candidate_account(state).await?;
    let trained = seed_training(state, &officer, &approved).await?;
    Ok(ExamSeeded { items: item_count, practice_items: practice_count, forms: form_count, admitted: approved.len(), seated, trained })
}

/// 郑州's training (notice §三(四)): a class for level 4 and one for level 3, every work type,
/// in June 2020, with the admitted of the level enrolled and the first day's attendance (most
/// present, some absent or on leave). A level with more admitted than one class holds gets its
/// class without enrolment: the officer splits it by work type on the page.
async fn seed_training(state: &AppState, officer: &Actor, admitted: &[applications::Application]) -> Result<usize> {
    let mut trained = 0;
    for (level, name, starts, ends) in [
        (4, "四级（中级工）岗位技能培训班（演示）", "2020-06-08", "2020-06-12"),
        (3, "三级（高级工）岗位技能培训班（演示）", "2020-06-15", "2020-06-19"),
    ] {
        let count = admitted.iter().filter(|a| a.target_level == level).count();
        let capacity = count.clamp(1, 500).to_string();
        let level_text = level.to_string();
        let id = training::create(
            state,
            officer,
            AGENCY,
            &pairs(&[
                ("name", name),
                ("place", "郑州市职业技能公共实训基地（演示）"),
                ("organiser", "郑州市人社局职业技能鉴定指导中心"),
                ("level", &level_text),
                ("work_type", ""),
                ("starts_on", starts),
                ("ends_on", ends),
                ("capacity", &capacity),
            ]),
        )
        .await
        .map_err(err("演示培训班"))?;
        if count == 0 || count > 500 {
            continue;
        }
        trained += training::enrol_all(state, officer, id).await.map_err(err("演示参训报名"))?;
        let enrolled = gongkao_storage::training::enrolments(state.store().conn(), id).await?;
        let mut sheet = vec![("day".to_owned(), starts.to_owned())];
        for (i, e) in enrolled.iter().enumerate() {
            let mark = match i % 20 {
                7 => "absent",
                13 => "excused",
                _ => "present",
            };
            sheet.push((format!("mark_{}", e.application_id), mark.to_owned()));
        }
        training::record_attendance(state, officer, id, &sheet).await.map_err(err("演示考勤"))?;
    }
    Ok(trained)
}

const DEMO_PLEDGE: &str = "本人郑重承诺：\n一、本人申报信息真实、准确，如有虚假，自愿承担取消考核资格、两年内不得申报等后果。\n二、本人将按准考证规定的时间、地点参加考试，携带准考证和有效身份证件，服从考场工作人员管理。\n三、本人遵守考试纪律，不携带通讯工具和资料进入考场，不替考、不抄袭、不泄露试题；如有违纪违规行为，自愿接受处理。";

/// `demo.candidate`: an applicant account of the first seated candidate with a paper in the
/// exam-day sitting, so a newcomer can sign the pledge and print a ticket (with
/// `--at "2020-07-15 09:00"`, inside the print window) and then sit the exam (with
/// `--at "2020-07-18 10:55"`).
async fn candidate_account(state: &AppState) -> Result<()> {
    let db = state.store().conn();
    // A candidate with a paper in the exam-day sitting, so the same account can sit it.
    let Some(sitting) = exam_day_sitting(state).await? else { return Ok(()) };
    let mut seated = Vec::new();
    let centres = gongkao_storage::exam_sites::centres(db, sitting.campaign_id, Some(&[AGENCY.to_owned()])).await?;
    for room in gongkao_storage::exam_sites::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await? {
        seated.extend(gongkao_storage::delivery::seats_in_room(db, sitting.id, room.id).await?);
    }
    let Some(first) = seated.iter().find(|s| s.form_number.is_some()) else { return Ok(()) };
    let app = applications::get(db, first.application_id).await?.context("seated application")?;
    let person = gongkao_storage::units::applicant(db, app.applicant_id).await?.context("seated applicant")?;
    let hash =
        gongkao_web::passwords::hash(crate::demo::DEMO_PASSWORD.to_owned(), state.config().argon2).await.map_err(|e| anyhow::anyhow!(e))?;
    let account = gongkao_storage::accounts::NewAccount {
        username: CANDIDATE_ACCOUNT.to_owned(),
        display_name: person.name.clone(),
        role: Role::Applicant.as_str().to_owned(),
        applicant_id: Some(person.id),
        mobile: Some(person.mobile.clone()),
        password_hash: Some(hash),
        ..Default::default()
    };
    gongkao_storage::accounts::insert_many(db, vec![account], state.now()).await?;
    Ok(())
}

async fn open_rooms(state: &AppState) -> Result<()> {
    let db = state.store().conn();
    let (campaign, _) = gongkao_web::services::campaigns::current(state).await.map_err(err("考核年度"))?;
    let centres = gongkao_storage::exam_sites::centres(db, campaign.id, Some(&[AGENCY.to_owned()])).await?;
    let rooms = gongkao_storage::exam_sites::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    for sitting in gongkao_storage::exam_sites::sittings(db, campaign.id, AGENCY).await? {
        for room in &rooms {
            if !gongkao_storage::delivery::seats_in_room(db, sitting.id, room.id).await?.is_empty() {
                delivery::open_room(state, sitting.id, room.id).await.map_err(err("演示考场登录码"))?;
            }
        }
    }
    Ok(())
}

/// The time to start the demo at to sit its exam-day sitting: 郑州's 职业道德 of 2020-07-18
/// 11:00, the sitting every level 3 and 4 candidate has a paper for (the demo bank holds
/// 岗位技能 items only for 汽车驾驶员).
pub const EXAM_DAY_AT: &str = "2020-07-18 10:55";

async fn exam_day_sitting(state: &AppState) -> Result<Option<gongkao_storage::exam_sites::SittingRow>> {
    let db = state.store().conn();
    let (campaign, _) = gongkao_web::services::campaigns::current(state).await.map_err(err("考核年度"))?;
    Ok(gongkao_storage::exam_sites::sittings(db, campaign.id, AGENCY).await?.into_iter().find(|s| s.subject == "ethics"))
}

/// One seated candidate of the exam-day sitting, for the load generator's `exam` mode.
pub struct SeatedCandidate {
    pub ticket_no: String,
    pub id_number: String,
    pub access_code: String,
    pub sitting_id: i64,
    pub room_id: i64,
}

impl SeatedCandidate {
    pub const TSV_HEADER: &'static str = "ticket_no\tid_number\taccess_code\tsitting_id\troom_id";

    pub fn tsv_line(&self) -> String {
        format!("{}\t{}\t{}\t{}\t{}", self.ticket_no, self.id_number, self.access_code, self.sitting_id, self.room_id)
    }
}

/// The candidates of the exam-day sitting who have a paper, with their rooms' access codes, by
/// room and seat.
pub async fn exam_day_candidates(state: &AppState) -> Result<Vec<SeatedCandidate>> {
    let db = state.store().conn();
    let (campaign, _) = gongkao_web::services::campaigns::current(state).await.map_err(err("考核年度"))?;
    let Some(sitting) = exam_day_sitting(state).await? else { return Ok(Vec::new()) };
    let centres = gongkao_storage::exam_sites::centres(db, campaign.id, Some(&[AGENCY.to_owned()])).await?;
    let rooms = gongkao_storage::exam_sites::rooms_of(db, &centres.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let mut out = Vec::new();
    for room in rooms {
        let seats = gongkao_storage::delivery::seats_in_room(db, sitting.id, room.id).await?;
        if seats.is_empty() {
            continue;
        }
        let code = delivery::open_room(state, sitting.id, room.id).await.map_err(err("考场登录码"))?.access_code;
        let apps = applications::by_ids(db, &seats.iter().map(|s| s.application_id).collect::<Vec<_>>()).await?;
        for seat in seats.into_iter().filter(|s| s.form_number.is_some()) {
            let Some(app) = apps.iter().find(|a| a.id == seat.application_id) else { continue };
            let Some(person) = gongkao_storage::units::applicant(db, app.applicant_id).await? else { continue };
            out.push(SeatedCandidate {
                ticket_no: seat.ticket_no,
                id_number: person.id_number,
                access_code: code.clone(),
                sitting_id: sitting.id,
                room_id: room.id,
            });
        }
    }
    Ok(out)
}

/// Prints how to sit the demo's first exam as `demo.candidate` and watch it as the proctor.
pub async fn print_exam_day(state: &AppState) -> Result<()> {
    let db = state.store().conn();
    let Some(account) = gongkao_storage::accounts::by_username(db, CANDIDATE_ACCOUNT).await? else { return Ok(()) };
    let Some(applicant_id) = account.applicant_id else { return Ok(()) };
    let all = exam_day_candidates(state).await?;
    let Some(person) = gongkao_storage::units::applicant(db, applicant_id).await? else { return Ok(()) };
    let Some(c) = all.iter().find(|c| c.id_number == person.id_number) else { return Ok(()) };
    println!(
        "机考演示：以 --at \"{EXAM_DAY_AT}\" 启动后，考生在 /exam/login 用准考证号 {}、身份证号 {}、考场登录码 {} 登录；\n          监考员 zz.proctor 在 /proctor/rooms/{}?sitting={} 开考并查看进度（共 {} 名考生可登录本场次）。",
        c.ticket_no,
        c.id_number,
        c.access_code,
        c.room_id,
        c.sitting_id,
        all.len()
    );
    println!(
        "模拟练习：{CANDIDATE_ACCOUNT} 登录后在“模拟练习”（/practice）按本人申报科目练习，交卷后查看得分和答案解析（练习题库的试题，不计入成绩）。"
    );
    Ok(())
}

/// The demo candidate's username, printed with the other demo accounts.
pub const CANDIDATE_ACCOUNT: &str = "demo.candidate";
