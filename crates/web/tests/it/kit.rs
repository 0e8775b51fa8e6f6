//! The test kit: a fresh database, the 2020 campaign, two units in two cities, one account per role.
use std::net::SocketAddr;
use std::sync::Arc;

use gongkao_domain::campaign::shanghai_datetime;
use gongkao_domain::clock::FixedClock;
use gongkao_domain::role::Role;
use gongkao_storage::Store;
use gongkao_storage::accounts::{self, NewAccount};
use gongkao_storage::misc::{self, NewUnitAdminRequest};
use gongkao_storage::units::{self, NewApplicant, NewUnit};
use gongkao_web::passwords::{Argon2Params, hash_blocking};
use gongkao_web::sender::LogSender;
use gongkao_web::{AppState, WebConfig};
use sea_orm::{ConnectionTrait, Database};

pub const PASSWORD: &str = "Test-Passw0rd!x";

pub struct TestApp {
    pub base: String,
    pub clock: Arc<FixedClock>,
    pub state: AppState,
    pub unit_a: i64,
    pub unit_b: i64,
    pub request_a: i64,
    pub request_b: i64,
    /// An application of the applicant account's person (unit A), and one of a person in unit B.
    pub application_a: i64,
    pub application_b: i64,
    /// Empty fee batches recorded by 郑州 (unit A) and 开封 (unit B), for the access matrix.
    pub fee_batch_a: i64,
    pub fee_batch_b: i64,
    pub centre_a: i64,
    pub centre_b: i64,
    /// Training classes of 郑州 (unit A's agency) and 开封, for the access matrix.
    pub class_a: i64,
    pub class_b: i64,
    pub victim_account: i64,
    pub applicant_account: i64,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

/// (username, role, agency, unit) of the role accounts; agency staff are in 郑州 (410100).
pub const ROLE_ACCOUNTS: [(&str, Role, Option<&str>); 17] = [
    ("t.applicant", Role::Applicant, None),
    ("t.unitadmin", Role::UnitAdmin, Some("410100")),
    ("t.reviewer", Role::AgencyReviewer, Some("410100")),
    ("t.cashier", Role::AgencyCashier, Some("410100")),
    ("t.examofficer", Role::AgencyExamOfficer, Some("410100")),
    ("t.provexam", Role::AgencyExamOfficer, Some("410000")),
    ("t.chief", Role::CentreChief, Some("410100")),
    ("t.proctor", Role::Proctor, Some("410100")),
    ("t.tech", Role::SiteTechnician, Some("410100")),
    ("t.examiner", Role::Examiner, Some("410000")),
    ("t.expert", Role::PanelExpert, Some("410000")),
    ("t.itemwriter", Role::ItemWriter, Some("410000")),
    ("t.itemreviewer", Role::ItemReviewer, Some("410000")),
    ("t.itemreviewer2", Role::ItemReviewer, Some("410000")),
    ("t.sysadmin", Role::SystemAdmin, None),
    ("t.secadmin", Role::SecurityAdmin, None),
    ("t.auditadmin", Role::AuditAdmin, None),
];

pub async fn database_url(dir: &tempfile::TempDir) -> (String, Option<(String, String)>) {
    match std::env::var("GONGKAO_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("gk_test_{}", uuid::Uuid::new_v4().simple());
            let db = Database::connect(&admin).await.expect("admin connection to PostgreSQL");
            db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            db.close().await.ok();
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin.clone());
            (format!("{base}/{name}"), Some((admin, name)))
        }
        _ => (format!("sqlite://{}?mode=rwc", dir.path().join("t.sqlite").display()), None),
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg) = database_url(&dir).await;
        let store = Store::connect(&url).await.unwrap().with_audit_key(b"test audit key".to_vec());
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::new(shanghai_datetime(time::macros::date!(2020 - 04 - 14), 9, 0)));
        let argon2 = Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 };
        let config = WebConfig { argon2, files_dir: dir.path().join("files"), ..WebConfig::default() };
        let state = AppState::new(store, clock.clone(), config, Arc::new(LogSender::default()));
        gongkao_web::services::campaigns::bootstrap(&state).await.unwrap();
        let now = state.now();
        let db = state.store().conn();
        let unit = |name: &str, code: &str, agency: &str| NewUnit {
            name: name.to_owned(),
            credit_code: code.to_owned(),
            unit_type: "institution".to_owned(),
            category: "local".to_owned(),
            supervising_department: "卫生健康委员会".to_owned(),
            agency_code: agency.to_owned(),
        };
        let unit_a = units::create(db, unit("郑州市第一测试医院", &credit("12410100", "TESTA0001"), "410100"), now).await.unwrap();
        let unit_b = units::create(db, unit("开封市第一测试医院", &credit("12410200", "TESTB0001"), "410200"), now).await.unwrap();
        let applicant = units::create_applicant(
            db,
            NewApplicant {
                id_number: "11010519491231002X".to_owned(),
                name: "张测试".to_owned(),
                sex: "female".to_owned(),
                birth_date: "1949-12-31".to_owned(),
                mobile: "13800138000".to_owned(),
                unit_id: Some(unit_a),
                work_type: Some("护理员".to_owned()),
                current_level: None,
                work_start_date: None,
                education: None,
            },
            now,
        )
        .await
        .unwrap();
        let hash = hash_blocking(PASSWORD, argon2).unwrap();
        let mut applicant_account = 0;
        for (username, role, agency) in ROLE_ACCOUNTS {
            let id = accounts::create(
                db,
                NewAccount {
                    username: username.to_owned(),
                    display_name: format!("测试{}", role.label()),
                    role: role.as_str().to_owned(),
                    agency_code: agency.map(str::to_owned),
                    unit_id: (role == Role::UnitAdmin).then_some(unit_a),
                    applicant_id: (role == Role::Applicant).then_some(applicant),
                    password_hash: Some(hash.clone()),
                    ..Default::default()
                },
                now,
            )
            .await
            .unwrap();
            if role == Role::Applicant {
                applicant_account = id;
            }
        }
        let victim_account = accounts::create(
            db,
            NewAccount {
                username: "t.victim".into(),
                display_name: "被操作账户".into(),
                role: "proctor".into(),
                agency_code: Some("410100".into()),
                password_hash: Some(hash),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        let campaign = gongkao_storage::campaigns::current(db).await.unwrap().unwrap();
        let request = |no: &str, code: String, agency: &str| NewUnitAdminRequest {
            reference_no: no.to_owned(),
            campaign_id: campaign.id,
            existing_unit_id: None,
            unit_name: format!("新建单位{no}"),
            credit_code: code,
            unit_type: "organ".into(),
            category: "local".into(),
            supervising_department: "人力资源和社会保障局".into(),
            agency_code: agency.to_owned(),
            person_name: "李管理".into(),
            sex: "male".into(),
            department: "人事科".into(),
            post: "科员".into(),
            office_phone: "0371-61612570".into(),
            mobile: "13900139000".into(),
        };
        let request_a = misc::create_unit_admin_request(db, request("DJA", credit("11410100", "NEWA00001"), "410100"), now).await.unwrap();
        let request_b = misc::create_unit_admin_request(db, request("DJB", credit("11410200", "NEWB00001"), "410200"), now).await.unwrap();

        let content = |unit: i64| gongkao_storage::applications::Content {
            unit_id: Some(unit),
            agency_code: Some(if unit == unit_a { "410100" } else { "410200" }.to_owned()),
            work_type: "护理员".into(),
            target_level: 4,
            facts: "{}".into(),
            verdict: "needs_review".into(),
            rule_set_id: "HN-GK-2020".into(),
            rule_set_version: 1,
            trace: "[]".into(),
        };
        let application_a = gongkao_storage::applications::create(db, campaign.id, applicant, content(unit_a), now).await.unwrap();
        let person_b = units::create_applicant(
            db,
            NewApplicant {
                id_number: "440524188001010014".to_owned(),
                name: "李开封".to_owned(),
                sex: "male".to_owned(),
                birth_date: "1880-01-01".to_owned(),
                mobile: "13800138001".to_owned(),
                unit_id: Some(unit_b),
                work_type: Some("护理员".to_owned()),
                current_level: None,
                work_start_date: None,
                education: None,
            },
            now,
        )
        .await
        .unwrap();
        let application_b = gongkao_storage::applications::create(db, campaign.id, person_b, content(unit_b), now).await.unwrap();

        let batch = |unit_id: i64, agency: &str, tag: &str| gongkao_storage::fees::NewBatch {
            campaign_id: campaign.id,
            unit_id,
            agency_code: agency.to_owned(),
            receipt_no: format!("KIT-{tag}"),
            payer_name: "王经办".into(),
            payment_method: "cash".into(),
            total_fen: 0,
            cashier: "t.cashier".into(),
            cashier_name: "测试收费员".into(),
            idempotency_key: format!("kit-{tag}"),
        };
        let fee_batch_a = gongkao_storage::fees::create_batch(db, batch(unit_a, "410100", "A"), Vec::new(), now).await.unwrap();
        let fee_batch_b = gongkao_storage::fees::create_batch(db, batch(unit_b, "410200", "B"), Vec::new(), now).await.unwrap();
        let centre = |agency: &'static str| gongkao_storage::exam_sites::NewCentre {
            campaign_id: campaign.id,
            agency_code: agency,
            number: 1,
            name: "测试考点",
            address: "测试路1号",
            contact: "张老师",
            phone: "0371-1234567",
            by: "kit",
        };
        let centre_a = gongkao_storage::exam_sites::insert_centre(db, centre("410100"), now).await.unwrap();
        let centre_b = gongkao_storage::exam_sites::insert_centre(db, centre("410200"), now).await.unwrap();
        let class = gongkao_storage::training::ClassFields {
            name: "测试培训班",
            place: "测试路2号",
            organiser: "",
            level: 4,
            work_type: None,
            starts_on: "2020-06-08",
            ends_on: "2020-06-09",
            capacity: 30,
        };
        let class_a = gongkao_storage::training::insert_class(db, campaign.id, "410100", &class, "kit", now).await.unwrap();
        let class_b = gongkao_storage::training::insert_class(db, campaign.id, "410200", &class, "kit", now).await.unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = gongkao_web::build_router(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.ok();
        });
        TestApp {
            clock,
            base: format!("http://{addr}"),
            state,
            unit_a,
            unit_b,
            request_a,
            request_b,
            application_a,
            application_b,
            fee_batch_a,
            fee_batch_b,
            centre_a,
            centre_b,
            class_a,
            class_b,
            victim_account,
            applicant_account,
            _dir: dir,
            pg,
        }
    }

    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in through the login form; returns the client and its CSRF token.
    pub async fn login(&self, username: &str) -> (reqwest::Client, String) {
        let c = self.client();
        let page = c.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        let token = csrf_of(&page);
        let resp = c
            .post(self.url("/login"))
            .form(&[("username", username), ("password", PASSWORD), ("csrf_token", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303, "login of {username} failed");
        let home = c.get(self.url("/")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&home);
        (c, csrf)
    }

    /// Posts a file to an upload form (`/application/photo` or `/application/attachments`) the
    /// way a browser does: multipart, with the CSRF token as a form field.
    pub async fn upload(
        &self,
        client: &reqwest::Client,
        csrf: &str,
        path: &str,
        kind: Option<&str>,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", csrf.to_owned());
        if let Some(k) = kind {
            form = form.text("kind", k.to_owned());
        }
        let form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
        client.post(self.url(path)).multipart(form).send().await.unwrap()
    }

    /// Uploads a valid photo for the signed-in applicant, as submission requires.
    pub async fn upload_photo(&self, client: &reqwest::Client, csrf: &str) {
        let r = self.upload(client, csrf, "/application/photo", None, "证件照.png", photo(590, 826, image::ImageFormat::Png)).await;
        assert_eq!(r.status(), 303, "photo upload refused: {}", r.text().await.unwrap_or_default());
    }

    pub async fn cleanup(self) {
        self.state.store().clone().close().await.ok();
        drop_database(self.pg.as_ref()).await;
    }
}

pub async fn drop_database(pg: Option<&(String, String)>) {
    if let Some((admin, name)) = pg
        && let Ok(db) = Database::connect(admin).await
    {
        db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
    }
}

pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    html.find(marker).map(|i| html[i + marker.len()..].split('"').next().unwrap_or("").to_owned()).unwrap_or_default()
}

/// A valid GB 32100 code from an 8-character prefix and 9 more characters.
pub fn credit(prefix: &str, rest: &str) -> String {
    let first17 = format!("{prefix}{rest}").replace(['I', 'O', 'S', 'V', 'Z'], "1");
    let check = gongkao_domain::credit_code::credit_code_check_character(&first17).unwrap();
    format!("{first17}{check}")
}

/// A portrait of the given size with some detail in it (a flat colour would compress to nothing
/// and test no size limit).
pub fn photo(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let v = (x.wrapping_mul(31) ^ y.wrapping_mul(17)).wrapping_mul(2_654_435_761);
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, (v >> 24) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Posts a form with the session's CSRF token first, as the pages do.
pub async fn post(c: &reqwest::Client, app: &TestApp, path: &str, csrf: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf)];
    form.extend_from_slice(fields);
    c.post(app.url(path)).form(&form).send().await.unwrap()
}

/// A person of `unit` and their application for the current campaign.
pub struct Candidate<'a> {
    pub unit: i64,
    pub id_number: String,
    pub name: String,
    pub mobile: String,
    pub work_type: &'a str,
    pub level: i32,
    /// Admitted (reviewed and paid, set directly: the cashier's admission is tested in fees.rs),
    /// or left a draft.
    pub admit: bool,
}

/// Creates the person and the application; returns the application's id.
pub async fn candidate(app: &TestApp, c: Candidate<'_>) -> i64 {
    let db = app.state.store().conn();
    let now = app.state.now();
    let person = units::create_applicant(
        db,
        NewApplicant {
            id_number: c.id_number,
            name: c.name,
            sex: "male".into(),
            birth_date: "1980-01-01".into(),
            mobile: c.mobile,
            unit_id: Some(c.unit),
            work_type: Some(c.work_type.into()),
            current_level: None,
            work_start_date: None,
            education: None,
        },
        now,
    )
    .await
    .unwrap();
    let campaign = gongkao_storage::campaigns::current(db).await.unwrap().unwrap();
    let content = gongkao_storage::applications::Content {
        unit_id: Some(c.unit),
        agency_code: None,
        work_type: c.work_type.into(),
        target_level: c.level,
        facts: "{}".into(),
        verdict: "eligible".into(),
        rule_set_id: "HN-GK-2020".into(),
        rule_set_version: 1,
        trace: "[]".into(),
    };
    let id = gongkao_storage::applications::create(db, campaign.id, person, content, now).await.unwrap();
    gongkao_storage::applications::backfill_agency_codes(db).await.unwrap();
    if c.admit {
        gongkao_storage::applications::transition(db, id, "draft", "admitted", now, true, true).await.unwrap();
    }
    id
}
