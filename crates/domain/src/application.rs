//! The application (申报) life cycle as an explicit state machine (issue 4, 2020 notice §三, §五).
//!
//! ```text
//! draft ─submit→ submitted ─unit approve→ unit_approved ─agency approve→ agency_approved ─pay→ paid ─admit→ admitted
//!   ↑               │  │  └─unit reject→ unit_rejected        └─require on-site→ on_site_required ─confirm→ on_site_confirmed ─pay→ paid
//!   └──resubmit── returned ←─unit return─┘
//! draft / submitted / returned ─withdraw→ withdrawn;   any live state after submission ─void (false information)→ voided
//! submitted / unit_approved / agency_approved / on_site_required / on_site_confirmed ─agency reopen→ returned
//! ```
//!
//! Reopening is the agency's way to let one applicant correct an application after the
//! deadlines (the service records until when); it sends the application back through the
//! unit's initial review.
use serde::{Deserialize, Serialize};

use crate::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Draft,
    Submitted,
    Returned,
    UnitApproved,
    UnitRejected,
    AgencyApproved,
    OnSiteRequired,
    OnSiteConfirmed,
    Paid,
    Admitted,
    Withdrawn,
    Voided,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationAction {
    /// Change the application's content (the applicant, before the unit has reviewed it).
    Edit,
    Submit,
    Withdraw,
    UnitApprove,
    UnitReturn,
    UnitReject,
    AgencyApprove,
    AgencyRequireOnSite,
    AgencyConfirmOnSite,
    /// The agency sends an application back for correction, also after the deadlines.
    AgencyReopen,
    RecordPayment,
    Admit,
    /// False information found: this year's application is void (and a two-year ban follows).
    Void,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 12] = [
        Self::Draft,
        Self::Submitted,
        Self::Returned,
        Self::UnitApproved,
        Self::UnitRejected,
        Self::AgencyApproved,
        Self::OnSiteRequired,
        Self::OnSiteConfirmed,
        Self::Paid,
        Self::Admitted,
        Self::Withdrawn,
        Self::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::UnitApproved => "unit_approved",
            Self::UnitRejected => "unit_rejected",
            Self::AgencyApproved => "agency_approved",
            Self::OnSiteRequired => "on_site_required",
            Self::OnSiteConfirmed => "on_site_confirmed",
            Self::Paid => "paid",
            Self::Admitted => "admitted",
            Self::Withdrawn => "withdrawn",
            Self::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "草稿（未提交）",
            Self::Submitted => "已提交，待单位初审",
            Self::Returned => "单位退回修改",
            Self::UnitApproved => "单位初审通过，待工考管理机构审查",
            Self::UnitRejected => "单位初审不通过",
            Self::AgencyApproved => "网上资格审查通过",
            Self::OnSiteRequired => "需现场审查确认",
            Self::OnSiteConfirmed => "现场审查确认通过",
            Self::Paid => "已缴费",
            Self::Admitted => "报名资格审查通过，准予参加考核",
            Self::Withdrawn => "本人已撤回",
            Self::Voided => "申报资格已取消（填报虚假材料）",
        }
    }

    /// A live application blocks another one for the same person in the same campaign.
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Withdrawn | Self::Voided | Self::UnitRejected)
    }

    /// The applicant may still change the content.
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::Submitted | Self::Returned)
    }
}

impl ApplicationAction {
    pub const ALL: [ApplicationAction; 13] = [
        Self::Edit,
        Self::Submit,
        Self::Withdraw,
        Self::UnitApprove,
        Self::UnitReturn,
        Self::UnitReject,
        Self::AgencyApprove,
        Self::AgencyRequireOnSite,
        Self::AgencyConfirmOnSite,
        Self::AgencyReopen,
        Self::RecordPayment,
        Self::Admit,
        Self::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::Submit => "submit",
            Self::Withdraw => "withdraw",
            Self::UnitApprove => "unit_approve",
            Self::UnitReturn => "unit_return",
            Self::UnitReject => "unit_reject",
            Self::AgencyApprove => "agency_approve",
            Self::AgencyRequireOnSite => "agency_require_on_site",
            Self::AgencyConfirmOnSite => "agency_confirm_on_site",
            Self::AgencyReopen => "agency_reopen",
            Self::RecordPayment => "record_payment",
            Self::Admit => "admit",
            Self::Void => "void",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Edit => "修改申报信息",
            Self::Submit => "提交申报",
            Self::Withdraw => "撤回申报",
            Self::UnitApprove => "单位初审通过",
            Self::UnitReturn => "单位退回修改",
            Self::UnitReject => "单位初审不通过",
            Self::AgencyApprove => "网上资格审查通过",
            Self::AgencyRequireOnSite => "要求现场审查",
            Self::AgencyConfirmOnSite => "现场审查确认",
            Self::AgencyReopen => "重新开放修改",
            Self::RecordPayment => "登记缴费",
            Self::Admit => "准予参加考核",
            Self::Void => "取消申报资格",
        }
    }

    /// Who may take the action at all; jurisdiction is checked by the policy module.
    pub fn allowed_for(self, role: Role) -> bool {
        use ApplicationAction::*;
        match self {
            Edit | Submit | Withdraw => role == Role::Applicant,
            UnitApprove | UnitReturn | UnitReject => role == Role::UnitAdmin,
            AgencyApprove | AgencyRequireOnSite | AgencyConfirmOnSite | AgencyReopen | Admit | Void => role == Role::AgencyReviewer,
            RecordPayment => role == Role::AgencyCashier,
        }
    }
}

/// The state after `action`, or why it is refused. Editing keeps the state.
pub fn next(from: ApplicationStatus, action: ApplicationAction) -> Result<ApplicationStatus, String> {
    use ApplicationAction as A;
    use ApplicationStatus as S;
    let to = match (from, action) {
        (S::Draft | S::Submitted | S::Returned, A::Edit) => from,
        (S::Draft | S::Returned, A::Submit) => S::Submitted,
        (S::Draft | S::Submitted | S::Returned, A::Withdraw) => S::Withdrawn,
        (S::Submitted, A::UnitApprove) => S::UnitApproved,
        (S::Submitted, A::UnitReturn) => S::Returned,
        (S::Submitted, A::UnitReject) => S::UnitRejected,
        (S::UnitApproved, A::AgencyApprove) => S::AgencyApproved,
        (S::UnitApproved, A::AgencyRequireOnSite) => S::OnSiteRequired,
        (S::OnSiteRequired, A::AgencyConfirmOnSite) => S::OnSiteConfirmed,
        (S::AgencyApproved | S::OnSiteConfirmed, A::RecordPayment) => S::Paid,
        (S::Paid, A::Admit) => S::Admitted,
        (S::Submitted | S::UnitApproved | S::AgencyApproved | S::OnSiteRequired | S::OnSiteConfirmed, A::AgencyReopen) => S::Returned,
        (
            S::Submitted
            | S::Returned
            | S::UnitApproved
            | S::AgencyApproved
            | S::OnSiteRequired
            | S::OnSiteConfirmed
            | S::Paid
            | S::Admitted,
            A::Void,
        ) => S::Voided,
        _ => return Err(format!("当前状态为“{}”，不能“{}”", from.label(), action.label())),
    };
    Ok(to)
}

/// The facts the notice (§三(二)) makes the unit answerable for: each must be checked against
/// the personnel file (人事档案) before the unit approves. (code, label)
pub const UNIT_CHECK_FIELDS: [(&str, &str); 6] = [
    ("birth_date", "出生年月"),
    ("work_years", "工作年限"),
    ("education", "文化程度"),
    ("current_level", "现岗位等级"),
    ("annual_appraisals", "年度考核结果"),
    ("rewards_sanctions", "奖惩情况"),
];

/// The check fields not in `confirmed`, by label, so the message can name them.
pub fn missing_unit_checks(confirmed: &[&str]) -> Vec<&'static str> {
    UNIT_CHECK_FIELDS.iter().filter(|(code, _)| !confirmed.contains(code)).map(|(_, label)| *label).collect()
}

/// `next` for a role: the role check first, so the message says who may act.
pub fn next_by(from: ApplicationStatus, action: ApplicationAction, role: Role) -> Result<ApplicationStatus, String> {
    if !action.allowed_for(role) {
        return Err(format!("“{}”不能由{}办理", action.label(), role.label()));
    }
    next(from, action)
}

/// One step of the machine: from, action, to.
pub type Step = (ApplicationStatus, ApplicationAction, ApplicationStatus);

/// The cashier's payment and the admission it brings. The notice admits every applicant whose
/// qualification the agency approved once the unit has paid at the agency (§五(三)); nobody
/// decides anything between the two, so `Admit` follows `RecordPayment` in the same
/// transaction instead of waiting for a reviewer. The role is checked for the payment only:
/// the admission is the payment's consequence, not a second decision. The machine itself is
/// unchanged, so a paid application that was not admitted (none is, today) still needs `Admit`.
pub fn pay_and_admit(from: ApplicationStatus, role: Role) -> Result<[Step; 2], String> {
    let paid = next_by(from, ApplicationAction::RecordPayment, role)?;
    let admitted = next(paid, ApplicationAction::Admit)?;
    Ok([(from, ApplicationAction::RecordPayment, paid), (paid, ApplicationAction::Admit, admitted)])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ApplicationAction as A;
    use ApplicationStatus as S;
    use proptest::prelude::*;

    const ACTIONS: [ApplicationAction; 13] = ApplicationAction::ALL;

    /// The diagram of the issue, written out edge by edge independently of `next`.
    fn diagram() -> Vec<(S, S)> {
        vec![
            (S::Draft, S::Submitted),
            (S::Returned, S::Submitted),
            (S::Submitted, S::UnitApproved),
            (S::Submitted, S::Returned),
            (S::Submitted, S::UnitRejected),
            (S::UnitApproved, S::AgencyApproved),
            (S::UnitApproved, S::OnSiteRequired),
            (S::OnSiteRequired, S::OnSiteConfirmed),
            (S::AgencyApproved, S::Paid),
            (S::OnSiteConfirmed, S::Paid),
            (S::Paid, S::Admitted),
            (S::Draft, S::Withdrawn),
            (S::Submitted, S::Withdrawn),
            (S::Returned, S::Withdrawn),
            (S::Submitted, S::Returned),
            (S::UnitApproved, S::Returned),
            (S::AgencyApproved, S::Returned),
            (S::OnSiteRequired, S::Returned),
            (S::OnSiteConfirmed, S::Returned),
        ]
    }

    proptest! {
        /// Random actions by random roles never reach a state the diagram does not allow, and a
        /// refused action leaves the state as it was.
        #[test]
        fn random_walks_follow_the_diagram(steps in prop::collection::vec((0usize..13, 0usize..13), 1..60)) {
            let edges = diagram();
            let mut state = S::Draft;
            for (a, r) in steps {
                let action = ACTIONS[a];
                let role = Role::ALL[r];
                let before = state;
                match next_by(state, action, role) {
                    Ok(to) => {
                        prop_assert!(action.allowed_for(role));
                        let allowed = to == before || to == S::Voided || edges.contains(&(before, to));
                        prop_assert!(allowed, "{:?} --{:?}--> {:?} is not in the diagram", before, action, to);
                        prop_assert!(to != before || action == A::Edit);
                        state = to;
                    }
                    Err(msg) => {
                        prop_assert!(!msg.is_empty());
                        prop_assert_eq!(state, before);
                    }
                }
            }
        }
    }

    #[test]
    fn unit_checks_name_what_is_missing() {
        assert_eq!(missing_unit_checks(&["birth_date", "education"]), vec!["工作年限", "现岗位等级", "年度考核结果", "奖惩情况"]);
        assert!(missing_unit_checks(&UNIT_CHECK_FIELDS.map(|(c, _)| c)).is_empty());
    }

    #[test]
    fn reopening_is_the_agencys_and_stops_at_payment() {
        assert_eq!(next_by(S::AgencyApproved, A::AgencyReopen, Role::AgencyReviewer).unwrap(), S::Returned);
        assert!(next_by(S::AgencyApproved, A::AgencyReopen, Role::UnitAdmin).is_err());
        for s in [S::Draft, S::Returned, S::Paid, S::Admitted, S::Withdrawn, S::Voided, S::UnitRejected] {
            assert!(next(s, A::AgencyReopen).is_err(), "{s:?}");
        }
    }

    #[test]
    fn payment_admits_at_once() {
        for from in [S::AgencyApproved, S::OnSiteConfirmed] {
            let [pay, admit] = pay_and_admit(from, Role::AgencyCashier).unwrap();
            assert_eq!(pay, (from, A::RecordPayment, S::Paid));
            assert_eq!(admit, (S::Paid, A::Admit, S::Admitted));
        }
        for from in ApplicationStatus::ALL {
            if !matches!(from, S::AgencyApproved | S::OnSiteConfirmed) {
                assert!(pay_and_admit(from, Role::AgencyCashier).is_err(), "{from:?}");
            }
        }
        assert_eq!(pay_and_admit(S::AgencyApproved, Role::AgencyReviewer).unwrap_err(), "“登记缴费”不能由工考管理机构审核员办理");
    }

    #[test]
    fn terminal_states_accept_nothing() {
        for s in [S::Withdrawn, S::Voided, S::UnitRejected] {
            for a in ACTIONS {
                assert!(next(s, a).is_err(), "{s:?} {a:?}");
            }
            assert!(!s.is_live());
        }
        for a in ACTIONS {
            if a != A::Void {
                assert!(next(S::Admitted, a).is_err(), "{a:?}");
            }
        }
    }

    #[test]
    fn every_path_of_the_diagram_is_reachable() {
        let online = [A::Submit, A::UnitApprove, A::AgencyApprove, A::RecordPayment, A::Admit];
        let on_site = [A::Submit, A::UnitApprove, A::AgencyRequireOnSite, A::AgencyConfirmOnSite, A::RecordPayment, A::Admit];
        let returned = [A::Submit, A::UnitReturn, A::Edit, A::Submit, A::UnitApprove];
        for path in [&online[..], &on_site[..], &returned[..]] {
            let mut s = S::Draft;
            for a in path {
                s = next(s, *a).unwrap();
            }
            assert!(matches!(s, S::Admitted | S::UnitApproved));
        }
        assert_eq!(next_by(S::Submitted, A::UnitApprove, Role::Applicant).unwrap_err(), "“单位初审通过”不能由申报人员办理");
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(s.as_str()), Some(s));
        }
    }
}
