//! Roles of accounts, and the 三员分立 rule for the three separated administrators.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Applicant,
    UnitAdmin,
    AgencyReviewer,
    AgencyCashier,
    AgencyExamOfficer,
    CentreChief,
    Proctor,
    SiteTechnician,
    Examiner,
    PanelExpert,
    /// 命题员: writes items for the province's item bank.
    ItemWriter,
    /// 审题员: reviews items before they enter the pool; never the item's own writer.
    ItemReviewer,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
}

impl Role {
    pub const ALL: [Role; 15] = [
        Role::Applicant,
        Role::UnitAdmin,
        Role::AgencyReviewer,
        Role::AgencyCashier,
        Role::AgencyExamOfficer,
        Role::CentreChief,
        Role::Proctor,
        Role::SiteTechnician,
        Role::Examiner,
        Role::PanelExpert,
        Role::ItemWriter,
        Role::ItemReviewer,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::UnitAdmin => "unit_admin",
            Role::AgencyReviewer => "agency_reviewer",
            Role::AgencyCashier => "agency_cashier",
            Role::AgencyExamOfficer => "agency_exam_officer",
            Role::CentreChief => "centre_chief",
            Role::Proctor => "proctor",
            Role::SiteTechnician => "site_technician",
            Role::Examiner => "examiner",
            Role::PanelExpert => "panel_expert",
            Role::ItemWriter => "item_writer",
            Role::ItemReviewer => "item_reviewer",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Applicant => "申报人员",
            Role::UnitAdmin => "单位管理员",
            Role::AgencyReviewer => "工考管理机构审核员",
            Role::AgencyCashier => "工考管理机构收费员",
            Role::AgencyExamOfficer => "工考管理机构考务员",
            Role::CentreChief => "考点主考",
            Role::Proctor => "监考员",
            Role::SiteTechnician => "考点技术员",
            Role::Examiner => "考评员",
            Role::PanelExpert => "综合评审专家",
            Role::ItemWriter => "命题员",
            Role::ItemReviewer => "审题员",
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全保密管理员",
            Role::AuditAdmin => "安全审计员",
        }
    }

    /// Roles whose accounts are bound to one agency, whose jurisdiction limits what they see.
    pub fn is_agency_staff(self) -> bool {
        matches!(
            self,
            Role::AgencyReviewer
                | Role::AgencyCashier
                | Role::AgencyExamOfficer
                | Role::CentreChief
                | Role::Proctor
                | Role::SiteTechnician
                | Role::Examiner
                | Role::PanelExpert
                | Role::ItemWriter
                | Role::ItemReviewer
        )
    }

    /// The three separated administrators (三员).
    pub fn is_separated_admin(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)
    }

    /// Everyone who works the system rather than applies through it; the idle timeout applies
    /// to these.
    pub fn is_staff(self) -> bool {
        self != Role::Applicant
    }
}

/// 三员分立: one holder (identified by ID number) may hold at most one of the three separated
/// admin roles, so that nobody can both act and audit the action. `existing` = roles the same
/// holder already has.
pub fn check_separation_of_duties(new_role: Role, existing: &[Role]) -> Result<(), FieldError> {
    if !new_role.is_separated_admin() {
        return Ok(());
    }
    match existing.iter().find(|r| r.is_separated_admin() && **r != new_role) {
        None => Ok(()),
        Some(held) => Err(FieldError::new(
            "role",
            format!(
                "角色：按照三员分立要求，系统管理员、安全保密管理员、安全审计员须由不同人员担任；该人员已担任{}，不能再担任{}",
                held.label(),
                new_role.label()
            ),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let codes: HashSet<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        let labels: HashSet<_> = Role::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(codes.len(), 15);
        assert_eq!(labels.len(), 15);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::AgencyExamOfficer.label(), "工考管理机构考务员");
    }

    #[test]
    fn classification() {
        let agency: Vec<_> = Role::ALL.into_iter().filter(|r| r.is_agency_staff()).collect();
        assert_eq!(agency.len(), 10);
        assert!(!Role::UnitAdmin.is_agency_staff());
        assert!(!Role::SystemAdmin.is_agency_staff());
        let admins: Vec<_> = Role::ALL.into_iter().filter(|r| r.is_separated_admin()).collect();
        assert_eq!(admins, vec![Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin]);
        assert!(!Role::Applicant.is_staff());
        assert!(Role::ALL.into_iter().filter(|r| *r != Role::Applicant).all(Role::is_staff));
    }

    #[test]
    fn separated_admin_roles_exclude_each_other() {
        let err = check_separation_of_duties(Role::AuditAdmin, &[Role::SystemAdmin]).unwrap_err();
        assert_eq!(err.field, "role");
        assert!(err.message.contains("三员分立"));
        assert!(err.message.contains("已担任系统管理员"));
        assert!(err.message.contains("不能再担任安全审计员"));
        assert!(check_separation_of_duties(Role::SecurityAdmin, &[Role::Examiner, Role::AuditAdmin]).is_err());
    }

    #[test]
    fn other_combinations_are_allowed() {
        assert!(check_separation_of_duties(Role::SystemAdmin, &[]).is_ok());
        assert!(check_separation_of_duties(Role::SystemAdmin, &[Role::SystemAdmin]).is_ok());
        assert!(check_separation_of_duties(Role::AuditAdmin, &[Role::AgencyReviewer]).is_ok());
        assert!(check_separation_of_duties(Role::Examiner, &[Role::SystemAdmin, Role::AuditAdmin]).is_ok());
    }
}
