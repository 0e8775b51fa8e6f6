//! The binary as an operator runs it: migrations, demo seeding, audit verification, bad options.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn gongkao(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gongkao"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("GONGKAO_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run gongkao")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn audit_verify_names_the_edited_entry() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = gongkao(dir.path(), &["demo", "--seed-only"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    assert!(text(&seeded).contains("5000 名申报人员"));
    assert!(text(&seeded).contains("题库 1440 道试题、24 套试卷"), "{}", text(&seeded));
    assert!(text(&seeded).contains("人已编排考场"), "{}", text(&seeded));
    let key = std::fs::read_to_string(dir.path().join("keys").join("item-bank.key")).unwrap();
    assert_eq!(key.trim().len(), 64, "the item-bank key is created outside the database");
    // Seeding again is idempotent.
    let again = gongkao(dir.path(), &["demo", "--seed-only"]);
    assert!(text(&again).contains("演示数据已存在"), "{}", text(&again));

    let ok = gongkao(dir.path(), &["audit", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("校验通过"));

    // Edit entry 2 behind the application's back, with SQLite itself.
    let db = dir.path().join("gongkao.sqlite");
    let edit = Command::new("sqlite3").arg(&db).arg("UPDATE audit_log SET summary = '篡改' WHERE seq = 2").status();
    match edit {
        Ok(s) if s.success() => {}
        // No sqlite3 shell on this machine: edit through the library instead.
        _ => edit_with_library(&db),
    }
    let broken = gongkao(dir.path(), &["audit", "verify"]);
    assert!(!broken.status.success());
    assert!(text(&broken).contains("第 2 条"), "{}", text(&broken));
}

fn edit_with_library(db: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use gongkao_storage::sea_orm::ConnectionTrait;
        let store = gongkao_storage::Store::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        store.conn().execute_unprepared("UPDATE audit_log SET summary = '篡改' WHERE seq = 2").await.unwrap();
    });
}

#[test]
fn unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gongkao.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:9\"\nsession_hour = 3\n").unwrap();
    let out = gongkao(dir.path(), &["--config", cfg.to_str().unwrap(), "migrate"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("session_hour"), "{}", text(&out));
}

#[test]
fn unreachable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = gongkao(dir.path(), &["--database-url", "postgres://gk:secret@127.0.0.1:1/none", "migrate"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("无法连接数据库"), "{t}");
    assert!(!t.contains("secret"), "the password leaked: {t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn admin_commands_create_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gongkao"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["admin", "create-admin", "--username", "root.admin", "--name", "首位管理员", "--holder-id-number", "11010519491231002X"])
        .env("GONGKAO_ADMIN_PASSWORD", "Strong-Passw0rd!")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let weak = Command::new(env!("CARGO_BIN_EXE_gongkao"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["admin", "create-admin", "--username", "weak.admin", "--name", "弱密码", "--role", "security_admin"])
        .env("GONGKAO_ADMIN_PASSWORD", "short")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(text(&weak).contains("密码"), "{}", text(&weak));
    let list = gongkao(dir.path(), &["admin", "list"]);
    let t = text(&list);
    assert!(t.contains("root.admin") && !t.contains("weak.admin"), "{t}");
    let reset = gongkao(dir.path(), &["admin", "reset-password", "--username", "root.admin"]);
    assert!(text(&reset).contains("一次性密码"), "{}", text(&reset));
}

#[test]
fn retirement_command_prints_the_reform_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let out = gongkao(dir.path(), &["retirement", "--birth", "1976-03-15", "--category", "female50"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Reference §10.3, women of original age 50, row 8: born 1976-03 → 50 y 8 m → 2026-11.
    assert_eq!(v["statutory_age"]["label"], "50岁8个月");
    assert_eq!(v["retirement_month"], "2026-11");
    assert_eq!(v["reached_on"], "2026-11-15");
    let bad = gongkao(dir.path(), &["retirement", "--birth", "1976-02-30", "--category", "female50"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--birth"), "{}", text(&bad));
    let bad = gongkao(dir.path(), &["retirement", "--birth", "1976-02-01", "--category", "woman"]);
    assert!(text(&bad).contains("--category"), "{}", text(&bad));
}

#[test]
fn eligibility_command_reads_json_lines_and_rosters() {
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../domain/rulesets/example-facts.jsonl");
    let input = dir.path().join("facts.jsonl");
    let mut lines_in = std::fs::read_to_string(example).unwrap();
    lines_in.push_str("{\"facts\": {\"sex\": \"男\", \"birth_date\": \"1966-05-20\", \"staff_type\": \"在岗正式工作人员\", \"in_post\": true}, \"levels\": [4]}\n");
    lines_in.push_str("not json\n");
    std::fs::write(&input, lines_in).unwrap();
    let out = gongkao(dir.path(), &["eligibility", "--campaign", "2020", "--date", "2020-04-13", input.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 7);
    for v in &lines[..5] {
        let levels = v["evaluation"]["levels"].as_array().unwrap();
        assert_eq!(levels.len(), 5, "all five levels by default");
        assert!(levels.iter().all(|l| l["results"].as_array().is_some_and(|r| !r.is_empty())));
    }
    assert_eq!(lines[5]["evaluation"]["levels"].as_array().unwrap().len(), 1, "the wrapped form's levels");
    assert!(lines[6]["error"].as_str().unwrap().contains("JSON"));
    // An unknown campaign year is refused with the years that exist.
    let bad = gongkao(dir.path(), &["eligibility", "--campaign", "1999", input.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("HN-GK-2020"), "{}", text(&bad));

    // Roster round trip: the template comes out, goes back in, and returns with the verdicts.
    let template = dir.path().join("t.xlsx");
    let annotated = dir.path().join("out.xlsx");
    assert!(gongkao(dir.path(), &["eligibility", "--campaign", "2020", "--template", template.to_str().unwrap()]).status.success());
    let run = gongkao(
        dir.path(),
        &[
            "eligibility",
            "--campaign",
            "2020",
            "--date",
            "2020-04-13",
            "--xlsx",
            template.to_str().unwrap(),
            "--out",
            annotated.to_str().unwrap(),
        ],
    );
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("已审核 1 行"), "{}", text(&run));
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&annotated).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header[23], "审核结论");
    let row: Vec<String> = range.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
    assert!(row[23].starts_with("三级："), "{row:?}");
}

#[test]
fn recheck_lists_the_applications_whose_verdict_changed() {
    let dir = tempfile::tempdir().unwrap();
    assert!(gongkao(dir.path(), &["demo", "--seed-only", "--applicants", "400"]).status.success());
    let none = gongkao(dir.path(), &["eligibility", "recheck", "--campaign", "2020"]);
    assert!(none.status.success(), "{}", text(&none));
    assert!(none.stdout.is_empty(), "nothing changed, nothing listed");
    assert!(text(&none).contains("结论变化 0 份"), "{}", text(&none));
    // Stored verdicts edited behind the application's back come back, and are listed.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use gongkao_storage::sea_orm::ConnectionTrait;
        let store = gongkao_storage::Store::connect(&format!("sqlite://{}", dir.path().join("gongkao.sqlite").display())).await.unwrap();
        store
            .conn()
            .execute_unprepared("UPDATE application SET verdict = 'needs_review' WHERE id IN (1, 2, 3) AND verdict <> 'needs_review'")
            .await
            .unwrap();
    });
    let changed = gongkao(dir.path(), &["eligibility", "recheck", "--campaign", "2020"]);
    assert!(changed.status.success(), "{}", text(&changed));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&changed.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty() && lines.len() <= 3, "{lines:?}");
    assert!(lines.iter().all(|l| l["from"] == "needs_review" && l["to"] != "needs_review"));
    let unknown = gongkao(dir.path(), &["eligibility", "recheck", "--campaign", "2031"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown).contains("2031"));
}

#[test]
fn demo_creates_load_test_accounts_of_applicants_without_an_application() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = gongkao(dir.path(), &["demo", "--seed-only", "--applicants", "400", "--applicant-accounts", "30"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    assert!(text(&seeded).contains("压测账户 30 个"), "{}", text(&seeded));
    let tsv = std::fs::read_to_string(dir.path().join("load-accounts.tsv")).unwrap();
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(lines.len(), 31, "header and one line per account");
    assert!(lines[0].starts_with("username\tunit_credit_code"));
    assert!(lines[1].starts_with("load.0001\t") && lines[30].starts_with("load.0030\t"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use gongkao_storage::sea_orm::{ConnectionTrait, Statement};
        let store = gongkao_storage::Store::connect(&format!("sqlite://{}", dir.path().join("gongkao.sqlite").display())).await.unwrap();
        let db = store.conn();
        let sql = "SELECT COUNT(*) AS n FROM account a WHERE a.username LIKE 'load.%' AND a.role = 'applicant' \
                   AND NOT EXISTS (SELECT 1 FROM application p WHERE p.applicant_id = a.applicant_id) \
                   AND (SELECT COUNT(*) FROM account b WHERE b.applicant_id = a.applicant_id) = 1";
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 30, "each linked to its own applicant, none of whom has applied");
    });
    // Asking again for accounts the data does not have is refused rather than ignored.
    let more = gongkao(dir.path(), &["demo", "--seed-only", "--applicant-accounts", "40"]);
    assert!(!more.status.success());
    assert!(text(&more).contains("--applicant-accounts"), "{}", text(&more));
}
