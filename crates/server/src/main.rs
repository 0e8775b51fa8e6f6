//! The `gongkao` binary: command line, configuration, wiring.
#![forbid(unsafe_code)]

mod config;
mod demo;
mod demo_exam;
mod eligibility;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use gongkao_domain::campaign::{format_shanghai, shanghai_datetime};
use gongkao_domain::clock::Clock;
use gongkao_domain::role::Role;
use gongkao_storage::{Store, accounts, audit};
use gongkao_web::sender::LogSender;
use gongkao_web::{AppState, SystemClock};
use time::OffsetDateTime;

/// mimalloc instead of glibc's allocator: under the exam's load (thousands of small requests a
/// second on two cores) glibc's malloc and free took about a fifth of the server's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "gongkao", version, about = "河南省机关事业单位工勤技能岗位等级考核管理系统")]
struct Cli {
    /// 数据目录：SQLite 数据库、上传文件、密钥
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// 监听地址
    #[arg(long, global = true)]
    listen: Option<String>,
    /// 数据库地址：sqlite://… 或 postgres://…
    #[arg(long, global = true, env = "GONGKAO_DATABASE_URL")]
    database_url: Option<String>,
    /// 配置文件（TOML）
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// 以指定的北京时间作为系统当前时间运行（演练和培训用），如 "2020-04-14 09:00"
    #[arg(long, global = true)]
    at: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 运行服务
    Serve,
    /// 载入演示数据并运行服务（默认以 2020-04-14 09:00 为当前时间）
    Demo {
        /// 只载入演示数据，不启动服务（用于测量载入时间）
        #[arg(long)]
        seed_only: bool,
        /// 演示申报人员人数（默认 5000；测量大批量处理时可加大）
        #[arg(long, default_value_t = demo::APPLICANT_COUNT)]
        applicants: usize,
        /// 压测用申报人员账户数（load.0001…，演示密码，各对应一名尚未申报的申报人员）；
        /// 账户清单写入数据目录下的 load-accounts.tsv，供 gongkao-load submit --users-from 使用
        #[arg(long, default_value_t = 0)]
        applicant_accounts: usize,
        /// 把郑州机考演示场次（2020-07-18 11:00 职业道德）有试卷的考生（准考证号、身份证号、
        /// 考场登录码、场次、考场）写入数据目录下的 exam-candidates.tsv，供 gongkao-load exam 使用
        #[arg(long)]
        exam_candidates: bool,
    },
    /// 执行数据库迁移并载入 2020 年考核年度
    Migrate,
    /// 账户管理
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// 审计日志
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// 申报资格预审：逐行读取人员信息（JSON Lines）输出带完整依据的审核结论；或读取单位名册 Excel 并写回结论
    #[command(args_conflicts_with_subcommands = true)]
    Eligibility {
        #[command(subcommand)]
        action: Option<EligibilityAction>,
        /// 考核年度，选用该年度的规则集（如 2020 → HN-GK-2020）
        #[arg(long)]
        campaign: Option<i32>,
        /// 评估日期（北京时间，年-月-日），默认今天
        #[arg(long)]
        date: Option<String>,
        /// 审核的等级，如 "2,3"；默认一级至五级全部
        #[arg(long, default_value = "")]
        levels: String,
        /// 单位名册（按模板填写的 .xlsx）
        #[arg(long, requires = "out")]
        xlsx: Option<PathBuf>,
        /// 写回结论的名册文件
        #[arg(long)]
        out: Option<PathBuf>,
        /// 输出空白名册模板到该文件后退出
        #[arg(long)]
        template: Option<PathBuf>,
        /// 人员信息文件，每行一个 JSON 对象；"-" 表示标准输入
        file: Option<PathBuf>,
    },
    /// 计算法定退休年龄和退休日期（含 2025 年起渐进式延迟退休），输出 JSON
    Retirement {
        /// 出生日期，如 1970-05-20
        #[arg(long)]
        birth: String,
        /// male（男职工）、female55（原法定退休年龄55周岁女职工）、female50（原法定退休年龄50周岁女职工）
        #[arg(long)]
        category: String,
        /// 达到退休年龄的认定方式：birthday_in_month（默认）、first_of_month、first_of_next_month
        #[arg(long, default_value = "birthday_in_month")]
        convention: String,
    },
    /// 显示版本
    Version,
}

#[derive(Subcommand)]
enum AdminAction {
    /// 创建首个省级账户（默认为省工考中心考务员；也可创建三员账户）
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// 角色代码，如 agency_exam_officer、system_admin
        #[arg(long, default_value = "system_admin")]
        role: String,
        /// 三员账户持有人身份证号码
        #[arg(long)]
        holder_id_number: Option<String>,
        /// 密码从环境变量 GONGKAO_ADMIN_PASSWORD 读取，避免出现在命令历史中
        #[arg(long, env = "GONGKAO_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// 重置密码（生成一次性密码，首次登录须修改）
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// 列出工作人员账户
    List,
}

#[derive(Subcommand)]
enum EligibilityAction {
    /// 用当前规则集重新审核本考核年度已保存的全部申报，列出结论发生变化的申报
    Recheck {
        #[arg(long)]
        campaign: i32,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// 校验审计日志哈希链，指出第一条被修改、删除或调换顺序的记录
    Verify,
}

/// The system clock moved to a chosen instant at start-up, for rehearsals and the demo.
struct ShiftedClock {
    offset: time::Duration,
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.offset
    }
}

fn parse_at(s: &str) -> Result<OffsetDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let local = time::PrimitiveDateTime::parse(s.trim(), fmt)
        .with_context(|| format!("--at：时间格式应为 \"2020-04-14 09:00\"，实际为 \"{s}\""))?;
    Ok(shanghai_datetime(local.date(), local.hour(), local.minute()))
}

/// Hides the password of a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

struct Runtime {
    state: AppState,
    listen: String,
    data_dir: PathBuf,
    job_workers: usize,
}

async fn setup(cli: &Cli, default_at: Option<&str>) -> Result<Runtime> {
    let file = config::load(cli.config.as_deref())?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| file.log.clone().into()))
        .try_init();
    let data_dir = cli.data_dir.clone().or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from("./gongkao-data"));
    std::fs::create_dir_all(&data_dir).with_context(|| format!("无法创建数据目录 {}", data_dir.display()))?;
    let url = match cli.database_url.clone().or_else(|| file.database_url.clone()) {
        Some(u) => u,
        None => format!("sqlite://{}?mode=rwc", data_dir.join("gongkao.sqlite").display()),
    };
    if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("数据库地址应以 sqlite:// 或 postgres:// 开头：{}", redact(&url));
    }
    let key_path = file.audit_key_file.clone().unwrap_or_else(|| data_dir.join("keys").join("audit-seal.key"));
    let key = config::audit_key(&key_path)?;
    let store = Store::connect(&url).await.map_err(|e| anyhow::anyhow!("无法连接数据库 {}：{e}", redact(&url)))?.with_audit_key(key);
    store.migrate().await.map_err(|e| anyhow::anyhow!("数据库迁移失败：{e}"))?;
    let clock: Arc<dyn Clock> = match cli.at.as_deref().or(default_at) {
        Some(at) => {
            let target = parse_at(at)?;
            Arc::new(ShiftedClock { offset: target - OffsetDateTime::now_utc() })
        }
        None => Arc::new(SystemClock),
    };
    // The command line's --data-dir wins over the file's, for uploads as for the database.
    let item_key_path = file.item_key_file.clone().unwrap_or_else(|| data_dir.join("keys").join("item-bank.key"));
    let item_key = config::item_key(&item_key_path, std::env::var("GONGKAO_ITEM_KEY").ok().as_deref())?;
    let cipher = gongkao_web::crypto::CipherKind::parse(&file.item_cipher)
        .with_context(|| format!("配置项 item_cipher 应为 sm4-gcm 或 aes-256-gcm，现为 {}", file.item_cipher))?;
    let web = gongkao_web::WebConfig {
        files_dir: data_dir.join("files"),
        item_cipher: gongkao_web::crypto::ContentCipher::new(cipher, item_key),
        ..file.web()
    };
    let state = AppState::new(store, clock, web, Arc::new(LogSender::default()));
    gongkao_web::services::campaigns::bootstrap(&state).await.map_err(|e| anyhow::anyhow!("载入考核年度失败：{}", e.message()))?;
    let listen = cli.listen.clone().or(file.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    Ok(Runtime { state, listen, data_dir, job_workers: file.job_workers })
}

async fn serve(rt: Runtime) -> Result<()> {
    let addr: SocketAddr = rt.listen.parse().with_context(|| format!("--listen：地址格式不正确：{}", rt.listen))?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("无法监听 {addr}（端口可能已被占用）"))?;
    let app = gongkao_web::build_router(rt.state.clone());
    // The queue is in the database: every serving node runs workers, and a job runs once.
    let workers = gongkao_web::jobs::spawn_workers(&rt.state, gongkao_web::jobs::Registry::standard(), rt.job_workers);
    // Submits exams whose time ran out even when no browser is connected; on several nodes each
    // runs it, and the guarded status change lets only one submit an attempt.
    gongkao_web::services::delivery::spawn_clock(rt.state.clone(), std::time::Duration::from_secs(5));
    rt.state.store().spawn_checkpoints(std::time::Duration::from_millis(500));
    println!(
        "工考系统已启动：http://{addr}  （数据目录 {}，当前系统时间 {} 北京时间）",
        rt.data_dir.display(),
        format_shanghai(rt.state.now())
    );
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // A job still running after the grace period is taken over by another node (or by this
    // one after a restart) once its lease runs out.
    workers.shutdown(std::time::Duration::from_secs(10)).await;
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Eligibility { action: Some(EligibilityAction::Recheck { campaign }), .. } => {
            let rt = setup(&cli, None).await?;
            eligibility::recheck(&rt.state, *campaign).await
        }
        Command::Eligibility { action: None, campaign, date, levels, xlsx, out, template, file } => {
            let campaign = campaign.context("--campaign：请指定考核年度，例如 --campaign 2020")?;
            eligibility::run(campaign, date.as_deref(), levels, xlsx.as_deref(), out.as_deref(), template.as_deref(), file.as_deref())
        }
        Command::Retirement { birth, category, convention } => {
            println!("{}", retirement_json(birth, category, convention)?);
            Ok(())
        }
        Command::Version => {
            println!("gongkao {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Migrate => {
            let rt = setup(&cli, None).await?;
            println!("数据库迁移完成，考核年度已就绪。");
            rt.state.store().clone().close().await?;
            Ok(())
        }
        Command::Serve => serve(setup(&cli, None).await?).await,
        Command::Demo { seed_only, applicants, applicant_accounts, exam_candidates } => {
            let rt = setup(&cli, Some("2020-04-14 09:00")).await?;
            let started = std::time::Instant::now();
            let seeded = demo::seed(&rt.state, *applicants, *applicant_accounts).await?;
            if seeded.created {
                let exam = demo_exam::seed(&rt.state).await?;
                println!(
                    "演示数据已载入：{} 个单位，{} 名申报人员；题库 {} 道试题、{} 套试卷，练习题库 {} 道试题；郑州 {} 人缴费准考、{} 人已编排考场、{} 人参加培训；用时 {:.1} 秒。",
                    seeded.units,
                    seeded.applicants,
                    exam.items,
                    exam.forms,
                    exam.practice_items,
                    exam.admitted,
                    exam.seated,
                    exam.trained,
                    started.elapsed().as_secs_f64()
                );
            } else {
                println!("演示数据已存在：{} 个单位，{} 名申报人员。", seeded.units, seeded.applicants);
            }
            demo::print_accounts();
            demo_exam::print_exam_day(&rt.state).await?;
            if *exam_candidates {
                let path = rt.data_dir.join("exam-candidates.tsv");
                let mut text = format!("{}\n", demo_exam::SeatedCandidate::TSV_HEADER);
                let list = demo_exam::exam_day_candidates(&rt.state).await?;
                for c in &list {
                    text.push_str(&c.tsv_line());
                    text.push('\n');
                }
                std::fs::write(&path, text).with_context(|| format!("无法写入 {}", path.display()))?;
                println!("机考演示场次考生 {} 名，清单：{}", list.len(), path.display());
            }
            if !seeded.load_accounts.is_empty() {
                let path = rt.data_dir.join("load-accounts.tsv");
                let mut text = format!("{}\n", demo::LoadAccount::TSV_HEADER);
                for a in &seeded.load_accounts {
                    text.push_str(&a.tsv_line());
                    text.push('\n');
                }
                std::fs::write(&path, text).with_context(|| format!("无法写入 {}", path.display()))?;
                println!("压测账户 {} 个（{}…，密码同上），清单：{}", seeded.load_accounts.len(), demo::load_username(1), path.display());
            }
            if *seed_only {
                rt.state.store().clone().close().await?;
                return Ok(());
            }
            serve(rt).await
        }
        Command::Admin { action } => {
            let rt = setup(&cli, None).await?;
            let state = &rt.state;
            match action {
                AdminAction::CreateAdmin { username, name, role, holder_id_number, password } => {
                    let role = Role::parse(role).with_context(|| format!("--role：未知角色 {role}"))?;
                    let agency = role.is_agency_staff().then_some(gongkao_domain::jurisdiction::PROVINCE_CENTRE_CODE);
                    let id = gongkao_web::services::accounts::create_initial_admin(
                        state,
                        username,
                        name,
                        role,
                        agency,
                        holder_id_number.as_deref(),
                        password,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message()))?;
                    println!("已创建账户 {username}（{}，编号 {id}）。", role.label());
                }
                AdminAction::ResetPassword { username } => {
                    let account =
                        accounts::by_username(state.store().conn(), username).await?.with_context(|| format!("账户 {username} 不存在"))?;
                    let created =
                        gongkao_web::services::accounts::reset_password(state, &gongkao_web::services::Actor::system("cli"), account.id)
                            .await
                            .map_err(|e| anyhow::anyhow!(e.message()))?;
                    println!("账户 {} 的一次性密码：{}（首次登录须修改）", created.username, created.one_time_password);
                }
                AdminAction::List => {
                    let page = gongkao_domain::paging::Page::new(Some(1), Some(100));
                    let list = accounts::list(state.store().conn(), &accounts::AccountFilter::default(), page).await?;
                    println!("{:<24} {:<12} {:<20} 姓名", "用户名", "状态", "角色");
                    for a in list.items {
                        println!(
                            "{:<24} {:<12} {:<20} {}",
                            a.username,
                            a.status,
                            Role::parse(&a.role).map_or(a.role.clone(), |r| r.label().to_owned()),
                            a.display_name
                        );
                    }
                    if list.total > 100 {
                        println!("……共 {} 个工作人员账户，仅显示前 100 个", list.total);
                    }
                }
            }
            Ok(())
        }
        Command::Audit { action: AuditAction::Verify } => {
            let rt = setup(&cli, None).await?;
            match audit::verify(rt.state.store()).await? {
                Ok(n) => {
                    println!("审计日志校验通过：{n} 条记录完整。");
                    Ok(())
                }
                Err(b) => bail!("审计日志校验失败：{b}"),
            }
        }
    }
}

/// `gongkao retirement`: one person's statutory retirement age and date, for HR staff.
fn retirement_json(birth: &str, category: &str, convention: &str) -> Result<String> {
    use gongkao_domain::retirement::{ReachConvention, RetirementCategory, retirement_date, retirement_month, statutory_age};
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let birth = time::Date::parse(birth.trim(), fmt)
        .map_err(|_| anyhow::anyhow!("--birth：出生日期应为真实的 年-月-日，例如 1970-05-20，实际为 \"{birth}\""))?;
    let category = RetirementCategory::parse(category.trim())
        .with_context(|| format!("--category：应为 male、female55 或 female50，实际为 \"{category}\""))?;
    let convention: ReachConvention = serde_json::from_value(serde_json::Value::String(convention.trim().to_owned()))
        .map_err(|_| anyhow::anyhow!("--convention：应为 birthday_in_month、first_of_month 或 first_of_next_month"))?;
    let age = statutory_age(category, birth);
    let (year, month) = retirement_month(category, birth);
    let date = retirement_date(category, birth, convention);
    let out = serde_json::json!({
        "birth_date": birth.to_string(),
        "category": category.as_str(),
        "category_label": category.label(),
        "statutory_age": { "years": age.years, "months": age.months, "label": age.to_string() },
        "delay_months": age.delay_months,
        "retirement_month": format!("{year:04}-{:02}", u8::from(month)),
        "reached_on": date.to_string(),
        "convention": convention,
        "convention_label": convention.label(),
        "basis": "全国人大常委会《关于实施渐进式延迟法定退休年龄的决定》（2024-09-13），自 2025-01-01 起施行",
    });
    Ok(serde_json::to_string_pretty(&out)?)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("错误：{e:#}");
        std::process::exit(1);
    }
}
