//! Work types (工种) and the catalogues they come from.

use crate::validation::{FieldError, char_len};

/// 附件1 of the 2020 notice, exactly, in its order (62 names, from 办公设备维修工 to 装饰美工).
pub const HENAN_2020_LEVEL1_WORK_TYPES: [&str; 62] = [
    "办公设备维修工",
    "保育员",
    "殡葬服务工",
    "不动产测绘员",
    "产品检验工",
    "超硬合成工",
    "城管监察员",
    "畜禽饲养工",
    "大气环境监测工",
    "淡水成鱼饲养工",
    "地图制图工",
    "地震观测工",
    "地质调查员",
    "电子线圈制作工",
    "防疫员",
    "纺织设备检验工",
    "放射技术员",
    "放映员",
    "固体废物监测工",
    "广播电视天线工",
    "焊工",
    "河道修防工",
    "护理员",
    "机械冷加工工",
    "机械热加工工",
    "假肢制作装配工",
    "检验员",
    "胶粘工",
    "教育辅助管理员",
    "酒店服务员",
    "掘进工",
    "口腔技术员",
    "垃圾清扫与处理工",
    "理疗技术员",
    "林木种苗工",
    "煤田技术工",
    "墓地管理员",
    "农机驾驶维修工",
    "农业技术员",
    "起重机械工",
    "汽车驾驶维修员",
    "燃气储运工",
    "热力运行工",
    "森林管护工",
    "社会救助员",
    "数控机床操作工",
    "水工试验工",
    "水环境监测工",
    "水利机械运行维护工",
    "体育场地工",
    "土壤环境监测工",
    "文物技术工",
    "无损探伤工",
    "舞台技术工",
    "下水道养护工",
    "样品制备工",
    "药剂员",
    "医疗器械技术员",
    "印刷工",
    "造林更新工",
    "制冷工",
    "装饰美工",
];

/// Work types of the 豫人社办〔2019〕107号 catalogue that are known from public sources but are
/// not in the 2020 level-1 list. The full catalogue is not public, so this is a starting point
/// that agencies extend, not the authority.
const HENAN_2019_KNOWN_OTHERS: [&str; 38] = [
    "保管工",
    "农艺工",
    "汽车驾驶员",
    "汽车维修工",
    "花卉工",
    "公路养护工",
    "动物检疫员",
    "环境噪声监测工",
    "图书资料员",
    "药工",
    "电工",
    "维修电工",
    "锅炉操作工",
    "水电工",
    "水暖工",
    "管道工",
    "木工",
    "空调工",
    "电梯安装维修工",
    "收银员",
    "中式烹调师",
    "中式面点师",
    "西式烹调师",
    "餐厅服务员",
    "客房服务员",
    "绿化工",
    "仓库保管员",
    "打字员",
    "计算机操作员",
    "电话总机话务员",
    "保安员",
    "讲解员",
    "消毒员",
    "水文勘测工",
    "闸门运行工",
    "泵站运行工",
    "气象观测员",
    "工程测量员",
];

/// The level-1 list followed by the other known names of the 2019 catalogue (100 names).
pub fn henan_2019_known_catalogue() -> Vec<&'static str> {
    HENAN_2020_LEVEL1_WORK_TYPES.iter().chain(HENAN_2019_KNOWN_OTHERS.iter()).copied().collect()
}

pub fn validate_work_type_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "工种名称：不能为空"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(FieldError::new("name", "工种名称：不能包含换行等控制字符"));
    }
    let len = char_len(name);
    if !(2..=30).contains(&len) {
        return Err(FieldError::new("name", format!("工种名称：长度应为2至30个字符，现为{len}个")));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn level1_list_is_the_notice_attachment() {
        assert_eq!(HENAN_2020_LEVEL1_WORK_TYPES.len(), 62);
        let unique: HashSet<_> = HENAN_2020_LEVEL1_WORK_TYPES.iter().collect();
        assert_eq!(unique.len(), 62);
        assert_eq!(HENAN_2020_LEVEL1_WORK_TYPES[0], "办公设备维修工");
        assert_eq!(HENAN_2020_LEVEL1_WORK_TYPES[61], "装饰美工");
        assert_eq!(HENAN_2020_LEVEL1_WORK_TYPES[40], "汽车驾驶维修员", "序号 41");
        assert_eq!(HENAN_2020_LEVEL1_WORK_TYPES[19], "广播电视天线工", "序号 20");
        assert_eq!(HENAN_2020_LEVEL1_WORK_TYPES[42], "热力运行工", "序号 43");
        assert!(HENAN_2020_LEVEL1_WORK_TYPES.contains(&"汽车驾驶维修员"));
    }

    #[test]
    fn known_catalogue_is_unique_and_contains_level1() {
        let catalogue = henan_2019_known_catalogue();
        assert_eq!(catalogue.len(), 100);
        let unique: HashSet<_> = catalogue.iter().collect();
        assert_eq!(unique.len(), catalogue.len(), "no duplicates");
        for name in HENAN_2020_LEVEL1_WORK_TYPES {
            assert!(catalogue.contains(&name));
        }
        for name in ["保管工", "汽车驾驶员", "汽车维修工", "药工", "花卉工", "维修电工"] {
            assert!(catalogue.contains(&name), "{name}");
        }
        assert!(!catalogue.contains(&"司机"), "the catalogue name is 汽车驾驶员");
        for name in &catalogue {
            assert!(validate_work_type_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn work_type_name_validation() {
        assert_eq!(validate_work_type_name(" 焊工 ").unwrap(), "焊工");
        let err = validate_work_type_name("焊").unwrap_err();
        assert_eq!(err.field, "name");
        assert!(err.message.starts_with("工种名称："));
        assert!(validate_work_type_name(&"工".repeat(31)).is_err());
        assert!(validate_work_type_name(&"工".repeat(30)).is_ok());
        assert!(validate_work_type_name("").is_err());
    }
}
