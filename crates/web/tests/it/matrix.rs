//! Every role × every route in the route table × a target inside and outside its scope.
use std::collections::HashMap;

use axum::http::Method;
use gongkao_domain::role::Role;
use gongkao_web::policy::{Permission, TargetKind};
use gongkao_web::routes::table;

use crate::kit::{ROLE_ACCOUNTS, TestApp};

/// Written independently of `policy::role_allows`: what each permission is for.
fn expected(role: Role, username: &str, p: Permission) -> bool {
    use Role::*;
    let office = matches!(role, AgencyReviewer | AgencyCashier | AgencyExamOfficer);
    match p {
        Permission::Public | Permission::SignedIn => true,
        // Everyone has their own background jobs; the Job target keeps them to their own.
        Permission::OwnJobs => true,
        Permission::ViewCampaign => !matches!(role, SecurityAdmin | AuditAdmin),
        Permission::ManageCampaign => username == "t.provexam",
        Permission::SetLocalDates => role == AgencyExamOfficer,
        Permission::ViewAgencies => office || role == SystemAdmin,
        Permission::ViewUnits | Permission::ViewApplicants => office || role == UnitAdmin,
        Permission::ApplyOwn => role == Applicant,
        Permission::ViewApplication => office || matches!(role, UnitAdmin | Applicant),
        Permission::ReviewUnitApplications => role == UnitAdmin,
        Permission::ReviewAgencyApplications => role == AgencyReviewer,
        Permission::RecordFees => role == AgencyCashier,
        Permission::ManageUnits | Permission::DecideUnitAdminRequests => role == AgencyReviewer,
        Permission::EditUnitDetails => matches!(role, AgencyReviewer | UnitAdmin),
        Permission::ManageAccounts | Permission::ManageApiTokens | Permission::ViewOutbox => role == SystemAdmin,
        Permission::ManageSecurityPolicy => role == SecurityAdmin,
        Permission::ReadAudit => role == AuditAdmin,
        Permission::ManageExamSites | Permission::ManageTraining => role == AgencyExamOfficer,
        Permission::ViewItems | Permission::WriteItems => matches!(role, ItemWriter | ItemReviewer),
        Permission::ReviewItems | Permission::AssemblePapers => role == ItemReviewer,
        Permission::ProctorRooms => matches!(role, Proctor | CentreChief | AgencyExamOfficer),
        // Seat sessions, not accounts: walked apart (`seat_routes_refuse_accounts`).
        Permission::SitExam => false,
        // The applicant's own practice; the PracticeAttempt target keeps them to their own.
        Permission::Practice => role == Applicant,
    }
}

/// A queued job per account, for the `Job` target: each user's own is inside, another's is out.
async fn jobs_by_owner(app: &TestApp) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    let owners = ROLE_ACCOUNTS.iter().map(|(u, _, _)| *u).chain(["t.victim"]);
    for owner in owners {
        let tx = app.state.store().write().await.unwrap();
        let new = gongkao_storage::jobs::NewJob::new("matrix.noop", serde_json::Value::Null, owner);
        let id = gongkao_storage::jobs::enqueue(tx.conn(), new, app.state.now()).await.unwrap();
        tx.commit().await.unwrap();
        out.insert(owner.to_owned(), id);
    }
    out
}

/// A room in 郑州's centre (inside for its staff) and one in 开封's.
async fn rooms(app: &TestApp) -> (i64, i64) {
    let db = app.state.store().conn();
    let now = app.state.now();
    let room =
        |centre_id| gongkao_storage::exam_sites::NewRoom { centre_id, number: 90, name: "第90考场", seat_count: 10, spare_seats: 1 };
    (
        gongkao_storage::exam_sites::insert_room(db, room(app.centre_a), now).await.unwrap(),
        gongkao_storage::exam_sites::insert_room(db, room(app.centre_b), now).await.unwrap(),
    )
}

/// A practice attempt of the applicant account's person (inside for them) and one of the person
/// of unit B (outside for everyone else).
async fn practice_attempts(app: &TestApp) -> (i64, i64) {
    let db = app.state.store().conn();
    let mut ids = Vec::new();
    for application in [app.application_a, app.application_b] {
        let a = gongkao_storage::applications::get(db, application).await.unwrap().unwrap();
        let new = gongkao_storage::practice::NewPracticeAttempt {
            campaign_id: a.campaign_id,
            application_id: a.id,
            applicant_id: a.applicant_id,
            subject: "ethics",
            level: 4,
            work_type: "",
            seed: "1",
            items: "[]",
            scoring: "all_or_nothing",
            total_tenths: 0,
        };
        ids.push(gongkao_storage::practice::insert_attempt(db, new, 0).await.unwrap());
    }
    (ids[0], ids[1])
}

fn targets(
    app: &TestApp,
    kind: TargetKind,
    username: &str,
    jobs: &HashMap<String, i64>,
    rooms: (i64, i64),
    practice: (i64, i64),
) -> Vec<(String, bool)> {
    match kind {
        TargetKind::None => vec![(String::new(), true)],
        TargetKind::Unit => vec![(app.unit_a.to_string(), true), (app.unit_b.to_string(), false)],
        TargetKind::Agency => vec![("410100".into(), true), ("410200".into(), false)],
        TargetKind::UnitAdminRequest => vec![(app.request_a.to_string(), true), (app.request_b.to_string(), false)],
        TargetKind::Account => vec![(app.victim_account.to_string(), true), (app.applicant_account.to_string(), false)],
        TargetKind::Applicant => vec![("1".into(), true), ("999999".into(), false)],
        TargetKind::Application => vec![(app.application_a.to_string(), true), (app.application_b.to_string(), false)],
        TargetKind::FeeBatch => vec![(app.fee_batch_a.to_string(), true), (app.fee_batch_b.to_string(), false)],
        TargetKind::Item => vec![("1".into(), true)],
        TargetKind::TestCentre => vec![(app.centre_a.to_string(), true), (app.centre_b.to_string(), false)],
        // 郑州's officer may not open or change 开封's class; an unknown id is refused the same way.
        TargetKind::TrainingClass => {
            vec![(app.class_a.to_string(), true), (app.class_b.to_string(), false), ("999999".into(), false)]
        }
        TargetKind::Job => vec![(jobs[username].to_string(), true), (jobs["t.victim"].to_string(), false), ("999999".into(), false)],
        TargetKind::ExamRoom => vec![(rooms.0.to_string(), true), (rooms.1.to_string(), false), ("999999".into(), false)],
        TargetKind::PracticeAttempt => {
            vec![(practice.0.to_string(), true), (practice.1.to_string(), false), ("999999".into(), false)]
        }
    }
}

#[tokio::test]
async fn every_role_every_route_in_and_out_of_scope() {
    let app = TestApp::spawn().await;
    let routes = table();
    assert!(routes.len() >= 40, "the route table lost routes");
    let jobs = jobs_by_owner(&app).await;
    let rooms = rooms(&app).await;
    let practice = practice_attempts(&app).await;
    let mut checked = 0;
    for (username, role, _) in ROLE_ACCOUNTS {
        let (mut client, mut csrf) = app.login(username).await;
        for spec in routes.iter().filter(|s| s.permission != Permission::SitExam) {
            for (target, inside) in targets(&app, spec.target, username, &jobs, rooms, practice) {
                let path = spec.path.replace("{id}", &target).replace("{code}", &target);
                let province_wide = username == "t.provexam";
                let want = expected(role, username, spec.permission)
                    && (inside
                        || province_wide
                            && matches!(
                                spec.target,
                                TargetKind::Unit
                                    | TargetKind::Agency
                                    | TargetKind::UnitAdminRequest
                                    | TargetKind::Application
                                    | TargetKind::FeeBatch
                                    | TargetKind::TestCentre
                                    | TargetKind::TrainingClass
                                    | TargetKind::ExamRoom
                            ))
                    && !(matches!(spec.target, TargetKind::TrainingClass | TargetKind::ExamRoom) && target == "999999");
                let req = if spec.method == Method::GET {
                    client.get(app.url(&path))
                } else {
                    client.post(app.url(&path)).header("x-csrf-token", &csrf).form(&[("x", "")])
                };
                let status = req.send().await.unwrap().status().as_u16();
                if want {
                    assert!(
                        status != 403 && status != 401,
                        "{username} ({}) {} {path}: expected access, got {status}",
                        role.as_str(),
                        spec.method
                    );
                } else {
                    assert_eq!(status, 403, "{username} ({}) {} {path}: expected 403", role.as_str(), spec.method);
                }
                checked += 1;
                if spec.path == "/logout" && spec.method == Method::POST {
                    (client, csrf) = app.login(username).await;
                }
            }
        }
    }
    assert!(checked > 14 * 45, "only {checked} checks ran");
    app.cleanup().await;
}

/// The exam routes answer only to a seat session: every account, whatever its role, is sent to
/// the exam login (pages) or refused with 401 (scripts), and nothing is read or written.
#[tokio::test]
async fn seat_routes_refuse_accounts() {
    let app = TestApp::spawn().await;
    let seat_routes: Vec<_> = table().into_iter().filter(|s| s.permission == Permission::SitExam).collect();
    assert!(seat_routes.len() >= 8);
    for (username, _, _) in ROLE_ACCOUNTS {
        let (client, csrf) = app.login(username).await;
        for spec in &seat_routes {
            let req = if spec.method == Method::GET {
                client.get(app.url(spec.path))
            } else {
                client.post(app.url(spec.path)).header("x-csrf-token", &csrf).json(&serde_json::json!({"saves": []}))
            };
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            if spec.path.starts_with("/exam/api/") {
                assert_eq!(status, 401, "{username} {} {}", spec.method, spec.path);
            } else {
                assert_eq!(status, 303, "{username} {} {}", spec.method, spec.path);
                assert_eq!(r.headers()["location"], "/exam/login");
            }
        }
    }
    app.cleanup().await;
}

#[tokio::test]
async fn denial_is_audited_and_reveals_nothing() {
    let app = TestApp::spawn().await;
    let (c, _) = app.login("t.reviewer").await;
    let existing = c.get(app.url(&format!("/units/{}", app.unit_b))).send().await.unwrap();
    let missing = c.get(app.url("/units/987654")).send().await.unwrap();
    assert_eq!(existing.status(), 403);
    assert_eq!(missing.status(), 403);
    assert_eq!(existing.text().await.unwrap(), missing.text().await.unwrap());
    let page = gongkao_storage::audit::list(
        app.state.store().conn(),
        &gongkao_storage::audit::AuditFilter { outcome: Some("denied".into()), ..Default::default() },
        gongkao_domain::paging::Page::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].actor, "t.reviewer");
    app.cleanup().await;
}
