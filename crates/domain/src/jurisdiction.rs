//! Agencies (工考管理机构), their tree, and the units (单位) registered under them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::validation::{FieldError, char_len};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    ProvinceCentre,
    City,
    Jiyuan,
    DirectCounty,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 4] = [AgencyKind::ProvinceCentre, AgencyKind::City, AgencyKind::Jiyuan, AgencyKind::DirectCounty];

    pub fn as_str(self) -> &'static str {
        match self {
            AgencyKind::ProvinceCentre => "province_centre",
            AgencyKind::City => "city",
            AgencyKind::Jiyuan => "jiyuan",
            AgencyKind::DirectCounty => "direct_county",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AgencyKind::ProvinceCentre => "省工考中心",
            AgencyKind::City => "省辖市",
            AgencyKind::Jiyuan => "济源示范区",
            AgencyKind::DirectCounty => "省直管县(市)",
        }
    }

    pub fn parse(s: &str) -> Option<AgencyKind> {
        let s = s.trim();
        AgencyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One agency as seeded into a campaign's registration tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencySeed {
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
    pub parent_code: Option<String>,
    pub region_name: String,
}

pub const PROVINCE_CENTRE_CODE: &str = "410000";
pub const PROVINCE_CENTRE_NAME: &str = "河南省机关事业单位工勤技能岗位等级考核服务中心";

/// The 17 省辖市 (GB/T 2260, about 2020).
pub const HENAN_CITIES: [(&str, &str); 17] = [
    ("410100", "郑州市"),
    ("410200", "开封市"),
    ("410300", "洛阳市"),
    ("410400", "平顶山市"),
    ("410500", "安阳市"),
    ("410600", "鹤壁市"),
    ("410700", "新乡市"),
    ("410800", "焦作市"),
    ("410900", "濮阳市"),
    ("411000", "许昌市"),
    ("411100", "漯河市"),
    ("411200", "三门峡市"),
    ("411300", "南阳市"),
    ("411400", "商丘市"),
    ("411500", "信阳市"),
    ("411600", "周口市"),
    ("411700", "驻马店市"),
];

pub const JIYUAN_CODE: &str = "419001";
pub const JIYUAN_REGION_NAME: &str = "济源示范区";

/// The 10 省直管县(市), fully province-administered since 2014-01-01, with the code of the city
/// they geographically belong to.
pub const HENAN_DIRECT_COUNTIES: [(&str, &str, &str); 10] = [
    ("410181", "巩义市", "410100"),
    ("410225", "兰考县", "410200"),
    ("410482", "汝州市", "410400"),
    ("410526", "滑县", "410500"),
    ("410783", "长垣市", "410700"),
    ("411381", "邓州市", "411300"),
    ("411481", "永城市", "411400"),
    ("411525", "固始县", "411500"),
    ("411628", "鹿邑县", "411600"),
    ("411729", "新蔡县", "411700"),
];

fn local_agency_name(region: &str) -> String {
    format!("{region}人社局工考办")
}

/// The Henan 2020 tree: the province centre, the 17 省辖市, 济源示范区 and the 10 省直管县(市),
/// all directly under the province centre (29 entries).
pub fn henan_2020_agencies() -> Vec<AgencySeed> {
    let parent = || Some(PROVINCE_CENTRE_CODE.to_owned());
    let mut agencies = Vec::with_capacity(29);
    agencies.push(AgencySeed {
        code: PROVINCE_CENTRE_CODE.to_owned(),
        name: PROVINCE_CENTRE_NAME.to_owned(),
        kind: AgencyKind::ProvinceCentre,
        parent_code: None,
        region_name: "河南省".to_owned(),
    });
    for (code, region) in HENAN_CITIES {
        agencies.push(AgencySeed {
            code: code.to_owned(),
            name: local_agency_name(region),
            kind: AgencyKind::City,
            parent_code: parent(),
            region_name: region.to_owned(),
        });
    }
    agencies.push(AgencySeed {
        code: JIYUAN_CODE.to_owned(),
        name: local_agency_name(JIYUAN_REGION_NAME),
        kind: AgencyKind::Jiyuan,
        parent_code: parent(),
        region_name: JIYUAN_REGION_NAME.to_owned(),
    });
    for (code, region, _) in HENAN_DIRECT_COUNTIES {
        agencies.push(AgencySeed {
            code: code.to_owned(),
            name: local_agency_name(region),
            kind: AgencyKind::DirectCounty,
            parent_code: parent(),
            region_name: region.to_owned(),
        });
    }
    agencies
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitCategory {
    Local,
    Provincial,
    Central,
}

impl UnitCategory {
    pub const ALL: [UnitCategory; 3] = [UnitCategory::Local, UnitCategory::Provincial, UnitCategory::Central];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitCategory::Local => "local",
            UnitCategory::Provincial => "provincial",
            UnitCategory::Central => "central",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            UnitCategory::Local => "属地单位",
            UnitCategory::Provincial => "省直单位",
            UnitCategory::Central => "中央驻豫单位",
        }
    }

    pub fn parse(s: &str) -> Option<UnitCategory> {
        let s = s.trim();
        UnitCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// 省直 and 中央驻豫 units register with the province centre, not with a local agency.
    pub fn registers_with_province_centre(self) -> bool {
        matches!(self, UnitCategory::Provincial | UnitCategory::Central)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    Organ,
    Institution,
}

impl UnitType {
    pub const ALL: [UnitType; 2] = [UnitType::Organ, UnitType::Institution];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitType::Organ => "organ",
            UnitType::Institution => "institution",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            UnitType::Organ => "机关",
            UnitType::Institution => "事业单位",
        }
    }

    pub fn parse(s: &str) -> Option<UnitType> {
        let s = s.trim();
        UnitType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Whether agency `scope_code` covers `target_code` in the tree given as (code, parent_code)
/// pairs: true if equal or target is a descendant.
///
/// The walk is bounded by the tree size so that a corrupted tree with a cycle cannot hang a
/// permission check; a cycle simply grants nothing beyond what was reached.
pub fn agency_covers(tree: &[(String, Option<String>)], scope_code: &str, target_code: &str) -> bool {
    if scope_code == target_code {
        return true;
    }
    let parent_of = |code: &str| tree.iter().find(|(c, _)| c == code).and_then(|(_, p)| p.as_deref());
    let mut current = target_code;
    for _ in 0..tree.len() {
        match parent_of(current) {
            Some(parent) if parent == scope_code => return true,
            Some(parent) => current = parent,
            None => return false,
        }
    }
    false
}

/// Unit names may not be edited or deleted from the campaign's lock instant on (2018 notice
/// practice), because rosters and certificates print them; adding stays allowed.
pub fn unit_name_locked(lock_at: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    lock_at.is_some_and(|lock| now >= lock)
}

pub fn validate_unit_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "单位名称：不能为空"));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "单位名称：不能包含换行等控制字符"));
    }
    let len = char_len(name);
    if !(2..=60).contains(&len) {
        return Err(FieldError::new("name", format!("单位名称：长度应为2至60个字符，现为{len}个")));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use time::macros::datetime;

    #[test]
    fn henan_tree_has_29_agencies_under_the_centre() {
        let agencies = henan_2020_agencies();
        assert_eq!(agencies.len(), 29);
        let codes: HashSet<_> = agencies.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes.len(), 29);
        let centre = &agencies[0];
        assert_eq!(centre.code, "410000");
        assert_eq!(centre.name, "河南省机关事业单位工勤技能岗位等级考核服务中心");
        assert_eq!(centre.kind, AgencyKind::ProvinceCentre);
        assert_eq!(centre.parent_code, None);
        for a in &agencies[1..] {
            assert_eq!(a.parent_code.as_deref(), Some("410000"), "{}", a.name);
            assert_eq!(a.name, format!("{}人社局工考办", a.region_name));
        }
        let count = |k| agencies.iter().filter(|a| a.kind == k).count();
        assert_eq!(count(AgencyKind::City), 17);
        assert_eq!(count(AgencyKind::Jiyuan), 1);
        assert_eq!(count(AgencyKind::DirectCounty), 10);
        let changyuan = agencies.iter().find(|a| a.region_name == "长垣市").unwrap();
        assert_eq!(changyuan.code, "410783");
        let zhengzhou = agencies.iter().find(|a| a.code == "410100").unwrap();
        assert_eq!(zhengzhou.name, "郑州市人社局工考办");
        let jiyuan = agencies.iter().find(|a| a.kind == AgencyKind::Jiyuan).unwrap();
        assert_eq!((jiyuan.code.as_str(), jiyuan.region_name.as_str()), ("419001", "济源示范区"));
    }

    #[test]
    fn enums_round_trip() {
        for k in AgencyKind::ALL {
            assert_eq!(AgencyKind::parse(k.as_str()), Some(k));
        }
        for c in UnitCategory::ALL {
            assert_eq!(UnitCategory::parse(c.as_str()), Some(c));
        }
        for t in UnitType::ALL {
            assert_eq!(UnitType::parse(t.as_str()), Some(t));
        }
        assert_eq!(AgencyKind::DirectCounty.label(), "省直管县(市)");
        assert_eq!(UnitCategory::Central.label(), "中央驻豫单位");
        assert_eq!(UnitType::Institution.label(), "事业单位");
        assert!(UnitCategory::Provincial.registers_with_province_centre());
        assert!(!UnitCategory::Local.registers_with_province_centre());
        assert_eq!(AgencyKind::parse("county"), None);
    }

    fn tree() -> Vec<(String, Option<String>)> {
        let mut t: Vec<_> = henan_2020_agencies().into_iter().map(|a| (a.code, a.parent_code)).collect();
        t.push(("410100-A".to_owned(), Some("410100".to_owned())));
        t
    }

    #[test]
    fn coverage_follows_the_tree() {
        let t = tree();
        assert!(agency_covers(&t, "410000", "410100"));
        assert!(agency_covers(&t, "410000", "410100-A"));
        assert!(agency_covers(&t, "410100", "410100-A"));
        assert!(agency_covers(&t, "410100", "410100"));
        assert!(!agency_covers(&t, "410100", "410000"));
        assert!(!agency_covers(&t, "410100", "410181"), "巩义 is not under 郑州 for 工考");
        assert!(!agency_covers(&t, "410100", "999999"));
    }

    #[test]
    fn coverage_survives_cycles() {
        let t = vec![("a".to_owned(), Some("b".to_owned())), ("b".to_owned(), Some("a".to_owned()))];
        assert!(agency_covers(&t, "b", "a"));
        assert!(!agency_covers(&t, "c", "a"));
    }

    #[test]
    fn unit_names_lock_at_the_instant() {
        let lock = datetime!(2020-04-11 00:00 +8);
        assert!(!unit_name_locked(None, lock));
        assert!(!unit_name_locked(Some(lock), datetime!(2020-04-10 23:59:59 +8)));
        assert!(unit_name_locked(Some(lock), lock));
        assert!(unit_name_locked(Some(lock), datetime!(2020-04-10 16:00 UTC)));
    }

    #[test]
    fn unit_name_validation() {
        assert_eq!(validate_unit_name("  开封市水利局 ").unwrap(), "开封市水利局");
        let err = validate_unit_name("局").unwrap_err();
        assert_eq!(err.field, "name");
        assert!(err.message.starts_with("单位名称："));
        assert!(validate_unit_name(&"单".repeat(61)).is_err());
        assert!(validate_unit_name(&"单".repeat(60)).is_ok());
        assert!(validate_unit_name("开封市\n水利局").is_err());
        assert!(validate_unit_name("").unwrap_err().message.contains("不能为空"));
    }
}
