//! The one place that decides who may do what, by role and by jurisdiction.
//!
//! Every route in [`crate::routes::table`] names a [`Permission`] and a [`TargetKind`]; the
//! enforcement middleware in [`crate::auth`] calls [`role_allows`] and then [`Scope::covers`]
//! for the route's target before any handler runs. Handlers that list data narrow their queries
//! with [`Principal::scope`]. Nothing else grants access.
use gongkao_domain::jurisdiction::agency_covers;
use gongkao_domain::role::Role;

/// What a route does, at the granularity the policy decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Anyone, signed in or not: login, sign-up, the unit-admin form, health checks.
    Public,
    /// Any signed-in account: home page, logout, own password.
    SignedIn,
    /// One's own background jobs (后台任务): list, progress, cancel, download the result. Every
    /// role has it; the `Job` target limits each to the jobs they queued. Unlike `SignedIn` it
    /// waits for a one-time password to be replaced.
    OwnJobs,
    /// Campaign schedule, fees and catalogue, read-only.
    ViewCampaign,
    /// Province-level campaign settings: windows, fees, catalogue import, copying a campaign.
    ManageCampaign,
    /// A city's or county's own photo-collection and exam dates inside the province windows.
    SetLocalDates,
    /// The agency tree of the current campaign.
    ViewAgencies,
    ViewUnits,
    ManageUnits,
    /// A unit's name (before the lock) and supervising department: its agency or its own admin.
    EditUnitDetails,
    /// 附件2 forms: list, view, approve or reject.
    DecideUnitAdminRequests,
    ViewApplicants,
    /// The applicant's own application for the current campaign.
    ApplyOwn,
    /// An application: its applicant, its unit's admin, or the agency over the unit.
    ViewApplication,
    /// The unit admin's initial review (初审) of the unit's applications.
    ReviewUnitApplications,
    /// The agency's qualification review (资格审查), on-site check, reopening and level-1 dossiers.
    ReviewAgencyApplications,
    /// The agency cashier's (收费员) work: unit fee batches, receipts, refunds.
    RecordFees,
    /// The exam officer's test centres, rooms, sittings and seating (考务编排).
    ManageExamSites,
    /// The exam officer's training classes (培训班, levels 5–2, May to July): classes,
    /// enrolment, attendance and the sign-in sheet.
    ManageTraining,
    /// A candidate at the seat (机考): their own attempt only, through the seat session
    /// (`gk_exam`), never through an account. No account role has it.
    SitExam,
    /// Practice (模拟练习): the applicant's own practice papers, for the admitted in a training
    /// class of the current campaign (`services::training::may_practice`, checked by the use
    /// cases); the `PracticeAttempt` target keeps each attempt to the applicant who started it.
    Practice,
    /// The exam-day room console (监考): open a room, start, pause and resume it, extend a
    /// candidate's time, mark absent, record violations and seat moves, the room record. For
    /// proctors, the centre chief (all rooms of the centre on one page) and the exam officer.
    ProctorRooms,
    /// The item bank (题库), read: the list, an item's content (each view audited), QTI export.
    ViewItems,
    /// Writing items: create, edit (a new version), submit for review, import.
    WriteItems,
    /// Reviewing items: approve, send back, retire, reinstate.
    ReviewItems,
    /// Blueprints and paper assembly (组卷), by the item bank's reviewers.
    AssemblePapers,
    ManageAccounts,
    ManageApiTokens,
    ViewOutbox,
    ManageSecurityPolicy,
    ReadAudit,
}

impl Permission {
    pub const ALL: [Permission; 31] = [
        Permission::Public,
        Permission::SignedIn,
        Permission::OwnJobs,
        Permission::ViewCampaign,
        Permission::ManageCampaign,
        Permission::SetLocalDates,
        Permission::ViewAgencies,
        Permission::ViewUnits,
        Permission::ManageUnits,
        Permission::EditUnitDetails,
        Permission::DecideUnitAdminRequests,
        Permission::ViewApplicants,
        Permission::ApplyOwn,
        Permission::ViewApplication,
        Permission::ReviewUnitApplications,
        Permission::ReviewAgencyApplications,
        Permission::RecordFees,
        Permission::ManageExamSites,
        Permission::ManageTraining,
        Permission::SitExam,
        Permission::Practice,
        Permission::ProctorRooms,
        Permission::ViewItems,
        Permission::WriteItems,
        Permission::ReviewItems,
        Permission::AssemblePapers,
        Permission::ManageAccounts,
        Permission::ManageApiTokens,
        Permission::ViewOutbox,
        Permission::ManageSecurityPolicy,
        Permission::ReadAudit,
    ];
}

/// Which path parameter names the object a route acts on, so its jurisdiction can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    None,
    /// `{id}` is a unit id.
    Unit,
    /// `{code}` is an agency code.
    Agency,
    /// `{id}` is an account id.
    Account,
    /// `{id}` is a unit-admin registration form id.
    UnitAdminRequest,
    /// `{id}` is an applicant id.
    Applicant,
    /// `{id}` is an application id.
    Application,
    /// `{id}` is a fee batch id; covered by the agency that collected the money.
    FeeBatch,
    /// `{id}` is a test centre; covered by the agency that runs it.
    TestCentre,
    /// `{id}` is a training class; covered by the agency that runs it.
    TrainingClass,
    /// `{id}` is an item or a blueprint of the item bank, which is the province's: covered for
    /// province staff.
    Item,
    /// `{id}` is a background job; covered only for the account that queued it.
    Job,
    /// `{id}` is an exam room; covered by the agency that runs its test centre.
    ExamRoom,
    /// `{id}` is a practice attempt (模拟练习); covered only for the applicant who started it.
    PracticeAttempt,
}

/// An authenticated caller, from a session or an API token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: Option<i64>,
    pub api_token_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub agency_code: Option<String>,
    pub unit_id: Option<i64>,
    pub applicant_id: Option<i64>,
    pub must_change_password: bool,
    pub csrf_token: String,
}

/// The jurisdiction a principal may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole province (the province centre's staff).
    Province,
    /// These agency codes: the caller's agency and everything under it.
    Agencies(Vec<String>),
    Unit(i64),
    Applicant(i64),
    /// 三员 and unscoped roles see no jurisdictional data.
    Nothing,
}

/// Role-level rule: may this role use routes with this permission at all?
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    use Role as R;
    let agency_office = matches!(role, R::AgencyReviewer | R::AgencyCashier | R::AgencyExamOfficer);
    match permission {
        P::Public | P::SignedIn | P::OwnJobs => true,
        P::ViewCampaign => !matches!(role, R::SecurityAdmin | R::AuditAdmin),
        P::ManageCampaign | P::SetLocalDates => role == R::AgencyExamOfficer,
        P::ViewAgencies => agency_office || role == R::SystemAdmin,
        P::ViewUnits => agency_office || role == R::UnitAdmin,
        P::ManageUnits | P::DecideUnitAdminRequests => role == R::AgencyReviewer,
        P::EditUnitDetails => matches!(role, R::AgencyReviewer | R::UnitAdmin),
        P::ViewApplicants => agency_office || role == R::UnitAdmin,
        P::ApplyOwn => role == R::Applicant,
        P::ViewApplication => agency_office || matches!(role, R::UnitAdmin | R::Applicant),
        P::ReviewUnitApplications => role == R::UnitAdmin,
        P::ReviewAgencyApplications => role == R::AgencyReviewer,
        P::RecordFees => role == R::AgencyCashier,
        P::ManageExamSites | P::ManageTraining => role == R::AgencyExamOfficer,
        // Candidates at the seat are not accounts: see `seat_session_allows`.
        P::SitExam => false,
        P::Practice => role == R::Applicant,
        P::ProctorRooms => matches!(role, R::Proctor | R::CentreChief | R::AgencyExamOfficer),
        // Reviewers may correct a draft too (a new version they then cannot approve themselves).
        P::ViewItems | P::WriteItems => matches!(role, R::ItemWriter | R::ItemReviewer),
        P::ReviewItems | P::AssemblePapers => role == R::ItemReviewer,
        P::ManageAccounts | P::ManageApiTokens | P::ViewOutbox => role == R::SystemAdmin,
        P::ManageSecurityPolicy => role == R::SecurityAdmin,
        P::ReadAudit => role == R::AuditAdmin,
    }
}

/// What a seat session (a candidate logged in at the seat with ticket number, ID number and the
/// room's access code) may use: the exam routes, for its own attempt, which the session names
/// (no route takes an attempt id from the request).
pub fn seat_session_allows(permission: Permission) -> bool {
    permission == Permission::SitExam
}

/// Extra rule for province-wide work: campaign settings (the province centre's exam officer)
/// and the item bank, which belongs to the province centre.
pub fn requires_province(permission: Permission) -> bool {
    matches!(
        permission,
        Permission::ManageCampaign | Permission::ViewItems | Permission::WriteItems | Permission::ReviewItems | Permission::AssemblePapers
    )
}

impl Principal {
    /// `tree` is the current campaign's agency tree as (code, parent code).
    pub fn scope(&self, tree: &[(String, Option<String>)]) -> Scope {
        match self.role {
            Role::Applicant => self.applicant_id.map_or(Scope::Nothing, Scope::Applicant),
            Role::UnitAdmin => self.unit_id.map_or(Scope::Nothing, Scope::Unit),
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin => Scope::Nothing,
            _ => match &self.agency_code {
                Some(code) => {
                    let is_root = tree.iter().any(|(c, parent)| c == code && parent.is_none());
                    if is_root {
                        Scope::Province
                    } else {
                        Scope::Agencies(tree.iter().filter(|(c, _)| agency_covers(tree, code, c)).map(|(c, _)| c.clone()).collect())
                    }
                }
                None => Scope::Nothing,
            },
        }
    }
}

impl Scope {
    /// Agency codes to filter lists by; `None` means no filter (province-wide).
    pub fn agency_filter(&self) -> Option<Vec<String>> {
        match self {
            Scope::Province => None,
            Scope::Agencies(codes) => Some(codes.clone()),
            _ => Some(Vec::new()),
        }
    }

    pub fn covers_agency(&self, code: &str) -> bool {
        match self {
            Scope::Province => true,
            Scope::Agencies(codes) => codes.iter().any(|c| c == code),
            _ => false,
        }
    }

    /// A unit is covered if it is the caller's own unit or registered with a covered agency.
    pub fn covers_unit(&self, unit_id: i64, unit_agency: &str) -> bool {
        match self {
            Scope::Unit(own) => *own == unit_id,
            _ => self.covers_agency(unit_agency),
        }
    }

    /// A practice attempt is its applicant's alone: no unit admin or agency opens it.
    pub fn covers_practice_attempt(&self, owner_applicant_id: i64) -> bool {
        matches!(self, Scope::Applicant(own) if *own == owner_applicant_id)
    }

    pub fn covers_applicant(&self, applicant_id: i64, unit: Option<(i64, &str)>) -> bool {
        match self {
            Scope::Applicant(own) => *own == applicant_id,
            _ => unit.is_some_and(|(id, agency)| self.covers_unit(id, agency)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tree() -> Vec<(String, Option<String>)> {
        vec![
            ("410000".into(), None),
            ("410100".into(), Some("410000".into())),
            ("410200".into(), Some("410000".into())),
            ("410181".into(), Some("410000".into())),
        ]
    }

    fn principal(role: Role, agency: Option<&str>) -> Principal {
        Principal {
            account_id: Some(1),
            api_token_id: None,
            username: "u".into(),
            display_name: "u".into(),
            role,
            agency_code: agency.map(str::to_owned),
            unit_id: Some(7),
            applicant_id: Some(9),
            must_change_password: false,
            csrf_token: String::new(),
        }
    }

    #[test]
    fn city_agency_sees_only_itself() {
        let s = principal(Role::AgencyReviewer, Some("410100")).scope(&tree());
        assert!(s.covers_agency("410100"));
        assert!(!s.covers_agency("410200"));
        assert!(!s.covers_agency("410000"));
        assert_eq!(s.agency_filter(), Some(vec!["410100".to_owned()]));
    }

    #[test]
    fn province_centre_sees_all() {
        let s = principal(Role::AgencyReviewer, Some("410000")).scope(&tree());
        assert_eq!(s, Scope::Province);
        assert!(s.covers_agency("410181"));
    }

    #[test]
    fn separated_admins_see_no_jurisdictional_data() {
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin] {
            let s = principal(role, Some("410000")).scope(&tree());
            assert_eq!(s, Scope::Nothing);
            assert!(!s.covers_unit(7, "410100"));
            assert!(!role_allows(role, Permission::ViewApplicants));
        }
    }

    #[test]
    fn practice_attempts_are_their_applicants_alone() {
        let own = principal(Role::Applicant, None).scope(&tree());
        assert!(own.covers_practice_attempt(9));
        assert!(!own.covers_practice_attempt(10));
        assert!(!principal(Role::UnitAdmin, None).scope(&tree()).covers_practice_attempt(9));
        assert!(!principal(Role::AgencyExamOfficer, Some("410000")).scope(&tree()).covers_practice_attempt(9));
        assert!(role_allows(Role::Applicant, Permission::Practice));
        assert!(!role_allows(Role::UnitAdmin, Permission::Practice));
    }

    #[test]
    fn unit_admin_sees_own_unit_only() {
        let s = principal(Role::UnitAdmin, None).scope(&tree());
        assert!(s.covers_unit(7, "410100"));
        assert!(!s.covers_unit(8, "410100"));
        assert!(s.covers_applicant(3, Some((7, "410100"))));
        assert!(!s.covers_applicant(3, Some((8, "410100"))));
    }
}
