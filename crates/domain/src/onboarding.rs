//! The unit-admin registration form (附件2) as a state machine: a form is decided once.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        match s {
            "pending" => Some(RequestStatus::Pending),
            "approved" => Some(RequestStatus::Approved),
            "rejected" => Some(RequestStatus::Rejected),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Pending => "待审核",
            RequestStatus::Approved => "已通过",
            RequestStatus::Rejected => "已退回",
        }
    }

    /// Only a pending form can be decided; a decided one is final (a new admin files a new form).
    pub fn decide(self, d: Decision) -> Result<RequestStatus, &'static str> {
        match self {
            RequestStatus::Pending => Ok(match d {
                Decision::Approve => RequestStatus::Approved,
                Decision::Reject => RequestStatus::Rejected,
            }),
            _ => Err("该登记表已处理，不能重复审核"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decision() -> impl Strategy<Value = Decision> {
        prop_oneof![Just(Decision::Approve), Just(Decision::Reject)]
    }

    proptest! {
        /// Whatever sequence of decisions arrives (double clicks, two reviewers at once), exactly
        /// the first one takes effect and every later one is refused.
        #[test]
        fn first_decision_wins(seq in prop::collection::vec(decision(), 1..20)) {
            let mut state = RequestStatus::Pending;
            let mut accepted = 0;
            for d in &seq {
                match state.decide(*d) {
                    Ok(next) => { accepted += 1; state = next; }
                    Err(msg) => prop_assert!(msg.contains("不能重复审核")),
                }
            }
            prop_assert_eq!(accepted, 1);
            let expected = if seq[0] == Decision::Approve { RequestStatus::Approved } else { RequestStatus::Rejected };
            prop_assert_eq!(state, expected);
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in [RequestStatus::Pending, RequestStatus::Approved, RequestStatus::Rejected] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestStatus::parse("done"), None);
    }
}
