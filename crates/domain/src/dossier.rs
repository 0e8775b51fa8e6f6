//! The level-1 (高级技师) dossier (档案材料): after the online review the unit sends the paper
//! archive to the agency (2020 notice §三(一)), which ticks what arrived.
//!
//! The notice defers the list to the provincial website, which our reference does not hold;
//! the items below are the papers the eligibility rules of a level-1 application rest on, so
//! each rule that passed on a stated fact has its paper. Which items a given application needs
//! is decided by [`required_items`].
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DossierItem {
    /// The printed application form with the unit's stamp.
    ApplicationForm,
    IdCardCopy,
    EducationCertificate,
    /// The level-2 (技师) certificate.
    CurrentLevelCertificate,
    /// The wage approval form of the current post, stamped by the supervising department.
    WageApprovalForm,
    /// Annual appraisal records of the last five years.
    AnnualAppraisals,
    /// The paper published in a CN journal (2020 rule set only).
    CnJournalPaper,
    /// Award certificates, where the application states awards.
    AwardCertificates,
}

impl DossierItem {
    pub const ALL: [DossierItem; 8] = [
        Self::ApplicationForm,
        Self::IdCardCopy,
        Self::EducationCertificate,
        Self::CurrentLevelCertificate,
        Self::WageApprovalForm,
        Self::AnnualAppraisals,
        Self::CnJournalPaper,
        Self::AwardCertificates,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplicationForm => "application_form",
            Self::IdCardCopy => "id_card_copy",
            Self::EducationCertificate => "education_certificate",
            Self::CurrentLevelCertificate => "current_level_certificate",
            Self::WageApprovalForm => "wage_approval_form",
            Self::AnnualAppraisals => "annual_appraisals",
            Self::CnJournalPaper => "cn_journal_paper",
            Self::AwardCertificates => "award_certificates",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ApplicationForm => "申报表（加盖单位公章）",
            Self::IdCardCopy => "身份证复印件",
            Self::EducationCertificate => "学历证书复印件",
            Self::CurrentLevelCertificate => "技师（二级）证书复印件",
            Self::WageApprovalForm => "现岗位工资审批表（主管部门盖章）",
            Self::AnnualAppraisals => "近五年年度考核登记表",
            Self::CnJournalPaper => "CN 刊号期刊发表的论文",
            Self::AwardCertificates => "获奖证书",
        }
    }
}

/// The items a level-1 application needs: the CN paper only where the rule set asks for it,
/// award certificates only where awards are stated.
pub fn required_items(needs_cn_paper: bool, states_awards: bool) -> Vec<DossierItem> {
    DossierItem::ALL
        .into_iter()
        .filter(|i| match i {
            DossierItem::CnJournalPaper => needs_cn_paper,
            DossierItem::AwardCertificates => states_awards,
            _ => true,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DossierState {
    /// Nothing recorded yet.
    NotReceived,
    Incomplete,
    Complete,
}

impl DossierState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotReceived => "not_received",
            Self::Incomplete => "incomplete",
            Self::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "complete" => Self::Complete,
            "incomplete" => Self::Incomplete,
            _ => Self::NotReceived,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotReceived => "档案材料未报送",
            Self::Incomplete => "档案材料不齐全",
            Self::Complete => "档案材料齐全",
        }
    }
}

/// The dossier's state and the required items still missing.
pub fn assess(required: &[DossierItem], received: &[DossierItem]) -> (DossierState, Vec<DossierItem>) {
    let missing: Vec<DossierItem> = required.iter().copied().filter(|i| !received.contains(i)).collect();
    let state = if received.is_empty() {
        DossierState::NotReceived
    } else if missing.is_empty() {
        DossierState::Complete
    } else {
        DossierState::Incomplete
    };
    (state, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_only_when_every_required_item_arrived() {
        let req = required_items(true, false);
        assert!(req.contains(&DossierItem::CnJournalPaper));
        assert!(!req.contains(&DossierItem::AwardCertificates));
        assert_eq!(assess(&req, &[]).0, DossierState::NotReceived);
        let (state, missing) = assess(&req, &[DossierItem::ApplicationForm]);
        assert_eq!(state, DossierState::Incomplete);
        assert_eq!(missing.len(), req.len() - 1);
        assert_eq!(assess(&req, &req).0, DossierState::Complete);
        // An extra item that was not required does not make an incomplete dossier complete.
        assert_eq!(assess(&req, &[DossierItem::AwardCertificates]).0, DossierState::Incomplete);
        for i in DossierItem::ALL {
            assert_eq!(DossierItem::parse(i.as_str()), Some(i));
        }
    }
}
