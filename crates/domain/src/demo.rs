//! Deterministic synthetic data for the demo: units and applicants that look like Henan's.
//!
//! Pure: a seed in, the same data out, on every platform. The PRNG is SplitMix64, written here so
//! that the output never changes with a dependency's version.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::campaign::Level;
use crate::credit_code::credit_code_check_character;
use crate::id_number::check_character;
use crate::jurisdiction::{AgencyKind, AgencySeed, HENAN_CITIES, UnitCategory, UnitType};
use crate::person::{Sex, add_years, full_years};

use Scope::{Any, City};
use UnitType::{Institution as Inst, Organ};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUnit {
    pub name: String,
    pub credit_code: String,
    pub unit_type: UnitType,
    pub category: UnitCategory,
    pub supervising_department: String,
    pub agency_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoApplicant {
    pub id_number: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: Date,
    pub mobile: String,
    /// Index into the units slice the applicants were generated for.
    pub unit_index: usize,
    pub work_type: String,
    /// Level held; `None` = no certificate yet.
    pub current_level: Option<Level>,
    pub work_start_date: Date,
    /// One of 初中, 高中, 中专, 技校, 大专, 本科.
    pub education: String,
}

// ---------------------------------------------------------------------------------------------
// PRNG

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and good enough for test data.
struct Rng(u64);

/// Different streams for units and applicants, so that changing the unit count does not shift
/// every applicant of the same seed.
const UNIT_STREAM: u64 = 0x756e_6974_7300_0001;
const APPLICANT_STREAM: u64 = 0x6170_706c_6963_0002;

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Rng(seed ^ stream);
        // Warm up so that nearby seeds do not start with correlated outputs.
        rng.next_u64();
        rng
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is negligible for small `n`);
    /// 0 when `n` is 0.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `percent`/100.
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy, const N: usize>(&mut self, items: &[T; N]) -> T {
        const { assert!(N > 0) };
        items[self.index(N)]
    }

    /// Index drawn with the given weights; uniform if they are all zero.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        if total == 0 {
            return self.index(weights.len());
        }
        let mut roll = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            let w = u64::from(w);
            if roll < w {
                return i;
            }
            roll -= w;
        }
        weights.len().saturating_sub(1)
    }

    fn weighted_pick<T: Copy>(&mut self, items: &[(T, u32)], fallback: T) -> T {
        let weights: Vec<u32> = items.iter().map(|(_, w)| *w).collect();
        items.get(self.weighted(&weights)).map_or(fallback, |(item, _)| *item)
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Geography

/// Resident population in 10 000s (2020 census, rounded; cities without their 省直管县), so that
/// demo units spread over agencies the way real ones do. 郑州 is raised for the capital's
/// concentration of public bodies.
const POPULATION: [(&str, u32); 28] = [
    ("410100", 1400),
    ("410200", 416),
    ("410300", 706),
    ("410400", 403),
    ("410500", 436),
    ("410600", 157),
    ("410700", 537),
    ("410800", 352),
    ("410900", 377),
    ("411000", 438),
    ("411100", 237),
    ("411200", 204),
    ("411300", 840),
    ("411400", 657),
    ("411500", 520),
    ("411600", 812),
    ("411700", 628),
    ("419001", 73),
    ("410181", 80),
    ("410225", 66),
    ("410482", 96),
    ("410526", 112),
    ("410783", 88),
    ("411381", 131),
    ("411481", 125),
    ("411525", 103),
    ("411628", 91),
    ("411729", 73),
];

fn population_weight(agency: &AgencySeed) -> u32 {
    POPULATION.iter().find(|(code, _)| *code == agency.code).map_or(
        match agency.kind {
            AgencyKind::City => 400,
            AgencyKind::Jiyuan => 73,
            AgencyKind::DirectCounty => 90,
            AgencyKind::ProvinceCentre => 0,
        },
        |(_, w)| *w,
    )
}

/// Districts and counties of each 省辖市 (GB/T 2260, about 2020), without the 省直管县 which have
/// their own agencies. Used for district-level unit names and for ID address codes.
const DISTRICTS: [(&str, &[(&str, &str)]); 17] = [
    (
        "410100",
        &[
            ("410102", "中原区"),
            ("410103", "二七区"),
            ("410104", "管城回族区"),
            ("410105", "金水区"),
            ("410106", "上街区"),
            ("410108", "惠济区"),
            ("410122", "中牟县"),
            ("410182", "荥阳市"),
            ("410183", "新密市"),
            ("410184", "新郑市"),
            ("410185", "登封市"),
        ],
    ),
    (
        "410200",
        &[
            ("410202", "龙亭区"),
            ("410203", "顺河回族区"),
            ("410204", "鼓楼区"),
            ("410205", "禹王台区"),
            ("410212", "祥符区"),
            ("410221", "杞县"),
            ("410222", "通许县"),
            ("410223", "尉氏县"),
        ],
    ),
    (
        "410300",
        &[
            ("410302", "老城区"),
            ("410303", "西工区"),
            ("410304", "瀍河回族区"),
            ("410305", "涧西区"),
            ("410311", "洛龙区"),
            ("410323", "新安县"),
            ("410324", "栾川县"),
            ("410325", "嵩县"),
            ("410326", "汝阳县"),
            ("410327", "宜阳县"),
            ("410328", "洛宁县"),
            ("410329", "伊川县"),
        ],
    ),
    (
        "410400",
        &[
            ("410402", "新华区"),
            ("410403", "卫东区"),
            ("410404", "石龙区"),
            ("410411", "湛河区"),
            ("410421", "宝丰县"),
            ("410422", "叶县"),
            ("410423", "鲁山县"),
            ("410425", "郏县"),
            ("410481", "舞钢市"),
        ],
    ),
    (
        "410500",
        &[
            ("410502", "文峰区"),
            ("410503", "北关区"),
            ("410505", "殷都区"),
            ("410506", "龙安区"),
            ("410522", "安阳县"),
            ("410523", "汤阴县"),
            ("410527", "内黄县"),
            ("410581", "林州市"),
        ],
    ),
    ("410600", &[("410602", "鹤山区"), ("410603", "山城区"), ("410611", "淇滨区"), ("410621", "浚县"), ("410622", "淇县")]),
    (
        "410700",
        &[
            ("410702", "红旗区"),
            ("410703", "卫滨区"),
            ("410704", "凤泉区"),
            ("410711", "牧野区"),
            ("410721", "新乡县"),
            ("410724", "获嘉县"),
            ("410725", "原阳县"),
            ("410726", "延津县"),
            ("410727", "封丘县"),
            ("410781", "卫辉市"),
            ("410782", "辉县市"),
        ],
    ),
    (
        "410800",
        &[
            ("410802", "解放区"),
            ("410803", "中站区"),
            ("410804", "马村区"),
            ("410811", "山阳区"),
            ("410821", "修武县"),
            ("410822", "博爱县"),
            ("410823", "武陟县"),
            ("410825", "温县"),
            ("410882", "沁阳市"),
            ("410883", "孟州市"),
        ],
    ),
    (
        "410900",
        &[("410902", "华龙区"), ("410922", "清丰县"), ("410923", "南乐县"), ("410926", "范县"), ("410927", "台前县"), ("410928", "濮阳县")],
    ),
    (
        "411000",
        &[
            ("411002", "魏都区"),
            ("411003", "建安区"),
            ("411024", "鄢陵县"),
            ("411025", "襄城县"),
            ("411081", "禹州市"),
            ("411082", "长葛市"),
        ],
    ),
    ("411100", &[("411102", "源汇区"), ("411103", "郾城区"), ("411104", "召陵区"), ("411121", "舞阳县"), ("411122", "临颍县")]),
    (
        "411200",
        &[
            ("411202", "湖滨区"),
            ("411203", "陕州区"),
            ("411221", "渑池县"),
            ("411224", "卢氏县"),
            ("411281", "义马市"),
            ("411282", "灵宝市"),
        ],
    ),
    (
        "411300",
        &[
            ("411302", "宛城区"),
            ("411303", "卧龙区"),
            ("411321", "南召县"),
            ("411322", "方城县"),
            ("411323", "西峡县"),
            ("411324", "镇平县"),
            ("411325", "内乡县"),
            ("411326", "淅川县"),
            ("411327", "社旗县"),
            ("411328", "唐河县"),
            ("411329", "新野县"),
            ("411330", "桐柏县"),
        ],
    ),
    (
        "411400",
        &[
            ("411402", "梁园区"),
            ("411403", "睢阳区"),
            ("411421", "民权县"),
            ("411422", "睢县"),
            ("411423", "宁陵县"),
            ("411424", "柘城县"),
            ("411425", "虞城县"),
            ("411426", "夏邑县"),
        ],
    ),
    (
        "411500",
        &[
            ("411502", "浉河区"),
            ("411503", "平桥区"),
            ("411521", "罗山县"),
            ("411522", "光山县"),
            ("411523", "新县"),
            ("411524", "商城县"),
            ("411526", "潢川县"),
            ("411527", "淮滨县"),
            ("411528", "息县"),
        ],
    ),
    (
        "411600",
        &[
            ("411602", "川汇区"),
            ("411621", "扶沟县"),
            ("411622", "西华县"),
            ("411623", "商水县"),
            ("411624", "沈丘县"),
            ("411625", "郸城县"),
            ("411626", "淮阳县"),
            ("411627", "太康县"),
            ("411681", "项城市"),
        ],
    ),
    (
        "411700",
        &[
            ("411702", "驿城区"),
            ("411721", "西平县"),
            ("411722", "上蔡县"),
            ("411723", "平舆县"),
            ("411724", "正阳县"),
            ("411725", "确山县"),
            ("411726", "泌阳县"),
            ("411727", "汝南县"),
            ("411728", "遂平县"),
        ],
    ),
];

fn districts_of(city_code: &str) -> &'static [(&'static str, &'static str)] {
    DISTRICTS.iter().find(|(code, _)| *code == city_code).map_or(&[], |(_, d)| *d)
}

/// 长垣 became a city (410783) in 2019; everyone born before then carries the county's code.
const CHANGYUAN_NEW: &str = "410783";
const CHANGYUAN_OLD: &str = "410728";

fn city_stem(region: &str) -> &str {
    region.strip_suffix('市').unwrap_or(region)
}

// ---------------------------------------------------------------------------------------------
// Unit names

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Exists at city, district and county level.
    Any,
    /// Only a prefecture-level city (or 济源) has it.
    City,
}

/// `{R}` = region name, `{N}` = Chinese ordinal, `{GOV}` = the region's government.
struct LocalTemplate {
    name: &'static str,
    unit_type: UnitType,
    supervisor: &'static str,
    scope: Scope,
    weight: u32,
}

const fn t(name: &'static str, unit_type: UnitType, supervisor: &'static str, scope: Scope, weight: u32) -> LocalTemplate {
    LocalTemplate { name, unit_type, supervisor, scope, weight }
}

const LOCAL_TEMPLATES: [LocalTemplate; 50] = [
    t("{R}人民医院", Inst, "{R}卫生健康委员会", Any, 3),
    t("{R}第{N}人民医院", Inst, "{R}卫生健康委员会", Any, 5),
    t("{R}中医院", Inst, "{R}卫生健康委员会", Any, 2),
    t("{R}妇幼保健院", Inst, "{R}卫生健康委员会", Any, 2),
    t("{R}疾病预防控制中心", Inst, "{R}卫生健康委员会", Any, 2),
    t("{R}中心血站", Inst, "{R}卫生健康委员会", City, 1),
    t("{R}急救中心", Inst, "{R}卫生健康委员会", City, 1),
    t("{R}第{N}中学", Inst, "{R}教育局", Any, 3),
    t("{R}实验幼儿园", Inst, "{R}教育局", Any, 1),
    t("{R}机关幼儿园", Inst, "{R}机关事务管理局", City, 1),
    t("{R}职业技术教育中心", Inst, "{R}教育局", Any, 1),
    t("{R}特殊教育学校", Inst, "{R}教育局", Any, 1),
    t("{R}水利局", Organ, "{GOV}", Any, 2),
    t("{R}市场监督管理局", Organ, "{GOV}", Any, 2),
    t("{R}城市管理局", Organ, "{GOV}", Any, 2),
    t("{R}自然资源和规划局", Organ, "{GOV}", Any, 1),
    t("{R}交通运输局", Organ, "{GOV}", Any, 2),
    t("{R}农业农村局", Organ, "{GOV}", Any, 2),
    t("{R}民政局", Organ, "{GOV}", Any, 1),
    t("{R}财政局", Organ, "{GOV}", Any, 1),
    t("{R}人力资源和社会保障局", Organ, "{GOV}", Any, 1),
    t("{R}卫生健康委员会", Organ, "{GOV}", Any, 1),
    t("{R}教育局", Organ, "{GOV}", Any, 1),
    t("{R}公安局", Organ, "{GOV}", Any, 1),
    t("{R}文化广电和旅游局", Organ, "{GOV}", Any, 1),
    t("{R}生态环境局", Organ, "{GOV}", City, 1),
    t("{R}机关事务管理局", Organ, "{GOV}", City, 1),
    t("{R}城市管理局环卫处", Inst, "{R}城市管理局", Any, 3),
    t("{R}园林绿化中心", Inst, "{R}城市管理局", City, 1),
    t("{R}市政工程管理处", Inst, "{R}城市管理局", City, 1),
    t("{R}公路事业发展中心", Inst, "{R}交通运输局", Any, 2),
    t("{R}农业技术推广站", Inst, "{R}农业农村局", Any, 1),
    t("{R}动物疫病预防控制中心", Inst, "{R}农业农村局", Any, 1),
    t("{R}农业机械技术中心", Inst, "{R}农业农村局", Any, 1),
    t("{R}河道管理处", Inst, "{R}水利局", City, 1),
    t("{R}水利工程管理站", Inst, "{R}水利局", Any, 1),
    t("{R}殡仪馆", Inst, "{R}民政局", Any, 1),
    t("{R}社会福利院", Inst, "{R}民政局", Any, 1),
    t("{R}救助管理站", Inst, "{R}民政局", Any, 1),
    t("{R}图书馆", Inst, "{R}文化广电和旅游局", Any, 1),
    t("{R}博物馆", Inst, "{R}文化广电和旅游局", Any, 1),
    t("{R}文化馆", Inst, "{R}文化广电和旅游局", Any, 1),
    t("{R}文物保护管理所", Inst, "{R}文化广电和旅游局", Any, 1),
    t("{R}群众艺术馆", Inst, "{R}文化广电和旅游局", City, 1),
    t("{R}广播电视台", Inst, "中共{R}委宣传部", Any, 1),
    t("{R}住房公积金管理中心", Inst, "{GOV}", City, 1),
    t("{R}环境监测站", Inst, "{R}生态环境局", City, 1),
    t("{R}体育运动学校", Inst, "{R}体育局", City, 1),
    t("{R}林业技术推广站", Inst, "{R}自然资源和规划局", Any, 1),
    t("{R}公共就业和人才服务中心", Inst, "{R}人力资源和社会保障局", Any, 1),
];

/// Fixed province-level units (省直): name, type, supervising department.
const PROVINCIAL_UNITS: [(&str, UnitType, &str); 25] = [
    ("河南省农业科学院", Inst, "河南省人民政府"),
    ("河南省人民医院", Inst, "河南省卫生健康委员会"),
    ("河南省肿瘤医院", Inst, "河南省卫生健康委员会"),
    ("河南省胸科医院", Inst, "河南省卫生健康委员会"),
    ("河南省疾病预防控制中心", Inst, "河南省卫生健康委员会"),
    ("河南省荣誉军人康复医院", Inst, "河南省退役军人事务厅"),
    ("河南省图书馆", Inst, "河南省文化和旅游厅"),
    ("河南博物院", Inst, "河南省文化和旅游厅"),
    ("河南省文物考古研究院", Inst, "河南省文物局"),
    ("河南省地质调查院", Inst, "河南省自然资源厅"),
    ("河南省地图院", Inst, "河南省自然资源厅"),
    ("河南省林业科学研究院", Inst, "河南省林业局"),
    ("河南省水利科学研究院", Inst, "河南省水利厅"),
    ("河南省实验中学", Inst, "河南省教育厅"),
    ("河南省水利厅", Organ, "河南省人民政府"),
    ("河南省交通运输厅", Organ, "河南省人民政府"),
    ("河南省农业农村厅", Organ, "河南省人民政府"),
    ("河南省民政厅", Organ, "河南省人民政府"),
    ("河南省自然资源厅", Organ, "河南省人民政府"),
    ("河南省人力资源和社会保障厅", Organ, "河南省人民政府"),
    ("河南省机关事务管理局", Organ, "河南省人民政府"),
    ("河南省广播电视局", Organ, "河南省人民政府"),
    ("河南省生态环境厅", Organ, "河南省人民政府"),
    ("河南省卫生健康委员会", Organ, "河南省人民政府"),
    ("河南省林业局", Organ, "河南省自然资源厅"),
];

/// Fixed central units in Henan (中央驻豫).
const CENTRAL_UNITS: [(&str, UnitType, &str); 10] = [
    ("中国气象局河南省气象台", Inst, "河南省气象局"),
    ("河南省气象局", Inst, "中国气象局"),
    ("河南省地震局", Inst, "中国地震局"),
    ("国家统计局河南调查总队", Organ, "国家统计局"),
    ("河南黄河河务局", Inst, "水利部黄河水利委员会"),
    ("水利部黄河水利委员会水文局", Inst, "水利部黄河水利委员会"),
    ("国家粮食和物资储备局河南局", Organ, "国家粮食和物资储备局"),
    ("河南省通信管理局", Organ, "工业和信息化部"),
    ("郑州海关", Organ, "海关总署"),
    ("国家税务总局河南省税务局", Organ, "国家税务总局"),
];

/// Cities on the Yellow River, which have a 黄河河务局 each.
const YELLOW_RIVER_CITIES: [&str; 5] = ["郑州市", "开封市", "新乡市", "焦作市", "濮阳市"];

fn provincial_candidates() -> Vec<(String, UnitType, String)> {
    let mut all: Vec<(String, UnitType, String)> =
        PROVINCIAL_UNITS.iter().map(|(n, t, s)| ((*n).to_owned(), *t, (*s).to_owned())).collect();
    for (_, city) in HENAN_CITIES {
        let stem = city_stem(city);
        all.push((format!("河南省{stem}水文水资源勘测局"), Inst, "河南省水文水资源局".to_owned()));
        all.push((format!("河南省{stem}生态环境监测中心"), Inst, "河南省生态环境厅".to_owned()));
    }
    all
}

fn central_candidates() -> Vec<(String, UnitType, String)> {
    let mut all: Vec<(String, UnitType, String)> = CENTRAL_UNITS.iter().map(|(n, t, s)| ((*n).to_owned(), *t, (*s).to_owned())).collect();
    for (_, city) in HENAN_CITIES {
        let stem = city_stem(city);
        all.push((format!("{city}气象局"), Inst, "河南省气象局".to_owned()));
        all.push((format!("国家统计局{stem}调查队"), Organ, "国家统计局河南调查总队".to_owned()));
        if YELLOW_RIVER_CITIES.contains(&city) {
            all.push((format!("{stem}黄河河务局"), Inst, "河南黄河河务局".to_owned()));
        }
    }
    all
}

fn government_of(region: &str) -> String {
    if region == "济源示范区" { "济源示范区管理委员会".to_owned() } else { format!("{region}人民政府") }
}

/// Chinese numeral for 1..=99, as in 第十二中学.
fn chinese_number(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (tens, ones) = ((n / 10) as usize % 10, (n % 10) as usize);
    let mut s = String::new();
    if tens > 1 {
        s.push_str(DIGITS[tens]);
    }
    if tens > 0 {
        s.push('十');
    }
    if ones > 0 || tens == 0 {
        s.push_str(DIGITS[ones]);
    }
    s
}

fn local_candidate(rng: &mut Rng, agency: &AgencySeed) -> (String, UnitType, String) {
    let county_level = agency.kind == AgencyKind::DirectCounty;
    let weights: Vec<u32> = LOCAL_TEMPLATES.iter().map(|t| if county_level && t.scope == Scope::City { 0 } else { t.weight }).collect();
    let template = &LOCAL_TEMPLATES[rng.weighted(&weights) % LOCAL_TEMPLATES.len()];
    let districts = districts_of(&agency.code);
    let district_level = agency.kind == AgencyKind::City && template.scope == Scope::Any && !districts.is_empty() && rng.percent(30);
    // Districts (区) are named with their city, counties and county-level cities stand alone:
    // 郑州市金水区…, but 登封市… and 社旗县….
    let region = if district_level {
        let (_, district) = districts[rng.index(districts.len())];
        if district.ends_with('区') { format!("{}{district}", agency.region_name) } else { district.to_owned() }
    } else {
        agency.region_name.clone()
    };
    // Cities number a handful of hospitals but many schools; counties fewer of both.
    let is_hospital = template.name.contains("医院");
    let max_ordinal = match (district_level || county_level, is_hospital) {
        (true, true) => 3,
        (true, false) => 5,
        (false, true) => 6,
        (false, false) => 15,
    };
    let ordinal = chinese_number(rng.range(1, max_ordinal) as u32);
    let name = template.name.replace("{R}", &region).replace("{N}", &ordinal);
    let supervisor = template.supervisor.replace("{GOV}", &government_of(&region)).replace("{R}", &region);
    (name, template.unit_type, supervisor)
}

// ---------------------------------------------------------------------------------------------
// Codes

/// GB 11714 check character of an 8-character organisation code body (digits here).
fn organisation_code_check(body8: &str) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body8.bytes().zip(W).map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        v => char::from(b'0' + v as u8),
    }
}

fn region_digits(agency_code: &str) -> String {
    let head: String = agency_code.chars().take(6).collect();
    if head.len() == 6 && head.bytes().all(|b| b.is_ascii_digit()) { head } else { "410000".to_owned() }
}

/// 机构编制 registration (1), then 1 = 机关 / 2 = 事业单位, region, organisation code, check.
fn credit_code(rng: &mut Rng, unit_type: UnitType, agency_code: &str) -> String {
    let kind = match unit_type {
        UnitType::Organ => '1',
        UnitType::Institution => '2',
    };
    let body = match unit_type {
        UnitType::Organ => format!("00{}", rng.digits(6)),
        UnitType::Institution => format!("4{}", rng.digits(7)),
    };
    let first17 = format!("1{kind}{}{body}{}", region_digits(agency_code), organisation_code_check(&body));
    let check = credit_code_check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

// ---------------------------------------------------------------------------------------------
// Units

/// `count` units spread over `agencies` roughly by population: about 8 % 省直 and 2 % 中央驻豫
/// units under the province centre, the rest under local agencies. Names and credit codes are
/// unique.
pub fn generate_units(seed: u64, count: usize, agencies: &[AgencySeed]) -> Vec<DemoUnit> {
    let mut rng = Rng::new(seed, UNIT_STREAM);
    let centre = agencies.iter().find(|a| a.kind == AgencyKind::ProvinceCentre);
    let locals: Vec<&AgencySeed> = agencies.iter().filter(|a| a.kind != AgencyKind::ProvinceCentre).collect();
    if centre.is_none() && locals.is_empty() {
        return Vec::new();
    }
    let local_weights: Vec<u32> = locals.iter().map(|a| population_weight(a)).collect();
    let provincial = provincial_candidates();
    let central = central_candidates();

    let mut names = HashSet::new();
    let mut codes = HashSet::new();
    let mut units = Vec::with_capacity(count);
    for _ in 0..count {
        let roll = rng.below(100);
        let (category, agency_code) = match centre {
            Some(c) if locals.is_empty() || roll < 10 => {
                let category = if roll % 10 < 8 { UnitCategory::Provincial } else { UnitCategory::Central };
                (category, c.code.clone())
            }
            _ => {
                let agency = locals[rng.weighted(&local_weights) % locals.len()];
                (UnitCategory::Local, agency.code.clone())
            }
        };
        let local_agency = locals.iter().find(|a| a.code == agency_code);
        let candidate = |rng: &mut Rng| match (category, local_agency) {
            (UnitCategory::Local, Some(agency)) => local_candidate(rng, agency),
            (UnitCategory::Central, _) => central[rng.index(central.len())].clone(),
            _ => provincial[rng.index(provincial.len())].clone(),
        };
        let mut chosen = candidate(&mut rng);
        let mut attempts = 1;
        while names.contains(&chosen.0) && attempts < 60 {
            chosen = candidate(&mut rng);
            attempts += 1;
        }
        // Only very large requests exhaust the templates; number the overflow.
        let base = chosen.0.clone();
        let mut k: u32 = 2;
        while names.contains(&chosen.0) {
            chosen.0 = if k < 100 { format!("{base}（{}）", chinese_number(k)) } else { format!("{base}（{k}）") };
            k += 1;
        }
        names.insert(chosen.0.clone());

        let (name, unit_type, supervising_department) = chosen;
        let mut code = credit_code(&mut rng, unit_type, &agency_code);
        while !codes.insert(code.clone()) {
            code = credit_code(&mut rng, unit_type, &agency_code);
        }
        units.push(DemoUnit { name, credit_code: code, unit_type, category, supervising_department, agency_code });
    }
    units
}

// ---------------------------------------------------------------------------------------------
// Applicants

const SURNAMES: [(&str, u32); 60] = [
    ("王", 80),
    ("李", 75),
    ("张", 72),
    ("刘", 60),
    ("陈", 30),
    ("杨", 30),
    ("赵", 25),
    ("黄", 12),
    ("周", 15),
    ("吴", 10),
    ("徐", 12),
    ("孙", 18),
    ("胡", 10),
    ("朱", 10),
    ("高", 12),
    ("林", 5),
    ("何", 6),
    ("郭", 22),
    ("马", 18),
    ("罗", 4),
    ("梁", 8),
    ("宋", 10),
    ("郑", 6),
    ("谢", 4),
    ("韩", 8),
    ("唐", 4),
    ("冯", 8),
    ("于", 6),
    ("董", 8),
    ("程", 6),
    ("曹", 6),
    ("袁", 5),
    ("邓", 4),
    ("许", 6),
    ("傅", 2),
    ("沈", 3),
    ("曾", 2),
    ("彭", 3),
    ("吕", 5),
    ("苏", 4),
    ("卢", 4),
    ("蒋", 3),
    ("蔡", 3),
    ("贾", 6),
    ("丁", 4),
    ("魏", 6),
    ("薛", 3),
    ("叶", 2),
    ("阎", 3),
    ("潘", 2),
    ("杜", 4),
    ("田", 5),
    ("任", 4),
    ("姜", 3),
    ("范", 4),
    ("石", 4),
    ("姚", 3),
    ("崔", 4),
    ("常", 4),
    ("乔", 3),
];

const MALE_CHARS: [&str; 48] = [
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宁", "建", "国", "志",
    "海", "峰", "亮", "东", "林", "文", "俊", "龙", "浩", "宇", "博", "晨", "阳", "凯", "旭", "振", "永", "新", "卫", "庆", "春", "德",
    "荣", "成", "利", "清",
];

const FEMALE_CHARS: [&str; 40] = [
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "洁", "莉", "萍", "红", "梅", "琳", "颖", "倩", "丹",
    "秀", "英", "兰", "凤", "玉", "佳", "琴", "云", "莹", "晶", "欣", "悦", "瑶", "蕾", "月", "薇", "菲", "素",
];

/// Only used when random names run out inside one unit; never drawn at random, so these names
/// cannot collide with random ones.
const FALLBACK_SURNAMES: [&str; 4] = ["欧阳", "司马", "上官", "诸葛"];

const MOBILE_PREFIXES: [&str; 32] = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166",
    "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199",
];

fn random_name(rng: &mut Rng, sex: Sex) -> String {
    let surname = rng.weighted_pick(&SURNAMES, "王");
    let given_char = |rng: &mut Rng| match sex {
        Sex::Male => rng.pick(&MALE_CHARS),
        Sex::Female => rng.pick(&FEMALE_CHARS),
    };
    let mut name = surname.to_owned();
    name.push_str(given_char(rng));
    if !rng.percent(30) {
        name.push_str(given_char(rng));
    }
    name
}

/// A name built from `n` alone, unique for every `n` below 4 × 48³.
fn fallback_name(n: usize) -> String {
    let mut name = FALLBACK_SURNAMES[n % FALLBACK_SURNAMES.len()].to_owned();
    let mut rest = n / FALLBACK_SURNAMES.len();
    for _ in 0..3 {
        name.push_str(MALE_CHARS[rest % MALE_CHARS.len()]);
        rest /= MALE_CHARS.len();
    }
    name
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sector {
    Medical,
    Education,
    Sanitation,
    Water,
    Transport,
    Agriculture,
    Forestry,
    Funeral,
    Welfare,
    Culture,
    Broadcasting,
    Environment,
    Meteorology,
    Seismology,
    Geology,
    Sports,
    General,
}

/// First match wins, so the more specific keywords come first (环卫 before 城市管理, 体育 before
/// 学校).
const SECTOR_KEYWORDS: [(&str, Sector); 39] = [
    ("环卫", Sector::Sanitation),
    ("园林", Sector::Sanitation),
    ("市政", Sector::Sanitation),
    ("城市管理", Sector::Sanitation),
    ("医院", Sector::Medical),
    ("卫生", Sector::Medical),
    ("疾病", Sector::Medical),
    ("妇幼", Sector::Medical),
    ("血站", Sector::Medical),
    ("急救", Sector::Medical),
    ("体育", Sector::Sports),
    ("中学", Sector::Education),
    ("幼儿园", Sector::Education),
    ("学校", Sector::Education),
    ("教育", Sector::Education),
    ("水利", Sector::Water),
    ("河务", Sector::Water),
    ("水文", Sector::Water),
    ("河道", Sector::Water),
    ("公路", Sector::Transport),
    ("交通", Sector::Transport),
    ("林业", Sector::Forestry),
    ("农", Sector::Agriculture),
    ("动物", Sector::Agriculture),
    ("殡仪", Sector::Funeral),
    ("福利", Sector::Welfare),
    ("救助", Sector::Welfare),
    ("广播电视", Sector::Broadcasting),
    ("图书馆", Sector::Culture),
    ("博物", Sector::Culture),
    ("文物", Sector::Culture),
    ("艺术馆", Sector::Culture),
    ("文化馆", Sector::Culture),
    ("气象", Sector::Meteorology),
    ("地震", Sector::Seismology),
    ("环境", Sector::Environment),
    ("地质", Sector::Geology),
    ("地图", Sector::Geology),
    ("自然资源", Sector::Geology),
];

fn sector_of(unit_name: &str) -> Sector {
    SECTOR_KEYWORDS.iter().find(|(k, _)| unit_name.contains(k)).map_or(Sector::General, |(_, s)| *s)
}

fn sector_work_types(sector: Sector) -> &'static [(&'static str, u32)] {
    match sector {
        Sector::Medical => &[
            ("护理员", 30),
            ("药剂员", 10),
            ("检验员", 10),
            ("放射技术员", 5),
            ("口腔技术员", 3),
            ("理疗技术员", 4),
            ("医疗器械技术员", 4),
            ("防疫员", 4),
            ("消毒员", 5),
        ],
        Sector::Education => &[("保育员", 20), ("教育辅助管理员", 15), ("中式烹调师", 8), ("中式面点师", 3)],
        Sector::Sanitation => &[("垃圾清扫与处理工", 20), ("城管监察员", 10), ("下水道养护工", 6), ("绿化工", 10), ("花卉工", 4)],
        Sector::Water => &[
            ("河道修防工", 15),
            ("水文勘测工", 10),
            ("水工试验工", 5),
            ("闸门运行工", 6),
            ("泵站运行工", 6),
            ("水利机械运行维护工", 6),
            ("水环境监测工", 3),
        ],
        Sector::Transport => &[("公路养护工", 20), ("汽车维修工", 5), ("起重机械工", 2)],
        Sector::Agriculture => &[
            ("农艺工", 15),
            ("农业技术员", 10),
            ("动物检疫员", 8),
            ("畜禽饲养工", 5),
            ("农机驾驶维修工", 5),
            ("林木种苗工", 3),
            ("淡水成鱼饲养工", 2),
        ],
        Sector::Forestry => &[("林木种苗工", 10), ("造林更新工", 10), ("森林管护工", 10)],
        Sector::Funeral => &[("殡葬服务工", 20), ("墓地管理员", 5)],
        Sector::Welfare => &[("护理员", 15), ("社会救助员", 15), ("保育员", 3)],
        Sector::Culture => &[("图书资料员", 15), ("文物技术工", 10), ("讲解员", 10), ("舞台技术工", 3)],
        Sector::Broadcasting => &[("广播电视天线工", 10), ("舞台技术工", 5), ("放映员", 3)],
        Sector::Environment => &[
            ("水环境监测工", 8),
            ("大气环境监测工", 8),
            ("土壤环境监测工", 5),
            ("固体废物监测工", 4),
            ("环境噪声监测工", 4),
            ("样品制备工", 3),
        ],
        Sector::Meteorology => &[("气象观测员", 15), ("大气环境监测工", 3)],
        Sector::Seismology => &[("地震观测工", 15)],
        Sector::Geology => &[("地质调查员", 10), ("地图制图工", 8), ("不动产测绘员", 8), ("工程测量员", 6)],
        Sector::Sports => &[("体育场地工", 10)],
        Sector::General => GENERAL_WORK_TYPES,
    }
}

/// Trades every kind of unit has; drivers are by far the largest group of worker-grade staff.
const GENERAL_WORK_TYPES: &[(&str, u32)] = &[
    ("汽车驾驶员", 40),
    ("电工", 6),
    ("维修电工", 5),
    ("中式烹调师", 6),
    ("打字员", 5),
    ("计算机操作员", 6),
    ("保管工", 4),
    ("仓库保管员", 3),
    ("锅炉操作工", 4),
    ("水电工", 4),
    ("水暖工", 3),
    ("空调工", 2),
    ("收银员", 1),
    ("餐厅服务员", 3),
    ("客房服务员", 1),
    ("保安员", 4),
    ("电话总机话务员", 2),
    ("办公设备维修工", 3),
    ("汽车维修工", 3),
    ("汽车驾驶维修员", 3),
    ("印刷工", 2),
    ("制冷工", 2),
    ("木工", 2),
    ("焊工", 2),
    ("绿化工", 3),
    ("中式面点师", 2),
    ("酒店服务员", 1),
    ("管道工", 1),
    ("电梯安装维修工", 1),
    ("热力运行工", 1),
    ("燃气储运工", 1),
    ("药工", 1),
    ("图书资料员", 1),
];

/// How many worker-grade staff a unit of this sector tends to have, relative to an office.
fn sector_size(sector: Sector) -> u32 {
    match sector {
        Sector::Medical => 6,
        Sector::Sanitation => 5,
        Sector::Water | Sector::Transport | Sector::Education => 3,
        _ => 2,
    }
}

const EDUCATIONS: [&str; 6] = ["初中", "高中", "中专", "技校", "大专", "本科"];

fn education_weights(age: i64) -> [(&'static str, u32); 6] {
    let w: [u32; 6] = if age >= 45 {
        [15, 30, 20, 20, 12, 3]
    } else if age >= 35 {
        [5, 20, 20, 20, 25, 10]
    } else {
        [1, 8, 12, 14, 40, 25]
    };
    [
        (EDUCATIONS[0], w[0]),
        (EDUCATIONS[1], w[1]),
        (EDUCATIONS[2], w[2]),
        (EDUCATIONS[3], w[3]),
        (EDUCATIONS[4], w[4]),
        (EDUCATIONS[5], w[5]),
    ]
}

/// Levels held by working years: young staff mostly have none, mid-career staff mostly hold
/// 四级 or 三级, and few reach 二级 or 一级.
fn level_weights(working_years: i32) -> [(Option<Level>, u32); 6] {
    let w: [u32; 6] = match working_years {
        ..=2 => [85, 15, 0, 0, 0, 0],
        3..=7 => [30, 40, 30, 0, 0, 0],
        8..=14 => [10, 15, 45, 30, 0, 0],
        15..=24 => [3, 5, 30, 50, 12, 0],
        _ => [2, 3, 20, 52, 20, 3],
    };
    [
        (None, w[0]),
        (Some(Level::L5), w[1]),
        (Some(Level::L4), w[2]),
        (Some(Level::L3), w[3]),
        (Some(Level::L2), w[4]),
        (Some(Level::L1), w[5]),
    ]
}

/// Address codes people working for a unit of this agency were plausibly first registered in;
/// empty means "anywhere in the province".
fn address_codes(agency: Option<&AgencySeed>) -> Vec<String> {
    let Some(agency) = agency else {
        return vec![];
    };
    match agency.kind {
        AgencyKind::City => districts_of(&agency.code).iter().map(|(c, _)| (*c).to_owned()).collect(),
        AgencyKind::DirectCounty if agency.code == CHANGYUAN_NEW => vec![CHANGYUAN_OLD.to_owned()],
        AgencyKind::DirectCounty | AgencyKind::Jiyuan => {
            let own = region_digits(&agency.code);
            if own == agency.code { vec![own] } else { vec![] }
        }
        // 省直 and 中央驻豫 staff come from all over the province.
        AgencyKind::ProvinceCentre => vec![],
    }
}

fn province_wide_address(rng: &mut Rng) -> String {
    let weights: Vec<u32> = POPULATION.iter().map(|(_, w)| *w).collect();
    let (code, _) = POPULATION[rng.weighted(&weights) % POPULATION.len()];
    if code == CHANGYUAN_NEW {
        return CHANGYUAN_OLD.to_owned();
    }
    let districts = districts_of(code);
    if districts.is_empty() { code.to_owned() } else { districts[rng.index(districts.len())].0.to_owned() }
}

fn format_ymd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month() as u8, d.day())
}

/// `count` applicants working for `units`, with ages, levels and work start dates as of
/// `reference_date`. ID numbers and mobiles are unique; names are unique within a unit.
pub fn generate_applicants(
    seed: u64,
    count: usize,
    units: &[DemoUnit],
    agencies: &[AgencySeed],
    reference_date: Date,
) -> Vec<DemoApplicant> {
    if units.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng::new(seed, APPLICANT_STREAM);
    let sectors: Vec<Sector> = units.iter().map(|u| sector_of(&u.name)).collect();
    let unit_weights: Vec<u32> = sectors.iter().map(|&s| sector_size(s) * (1 + rng.below(3) as u32)).collect();
    let unit_addresses: Vec<Vec<String>> = units.iter().map(|u| address_codes(agencies.iter().find(|a| a.code == u.agency_code))).collect();

    let mut ids = HashSet::with_capacity(count);
    let mut mobiles = HashSet::with_capacity(count);
    let mut names: Vec<HashSet<String>> = vec![HashSet::new(); units.len()];
    let mut applicants = Vec::with_capacity(count);

    for _ in 0..count {
        let unit_index = rng.weighted(&unit_weights) % units.len();
        let sex = if rng.percent(55) { Sex::Male } else { Sex::Female };
        let roll = rng.below(100);
        // Women in worker posts retire at 50, so few are older; men work to 60.
        let age = match sex {
            Sex::Male if roll < 15 => rng.range(22, 34),
            Sex::Male if roll < 85 => rng.range(35, 55),
            Sex::Male => rng.range(56, 59),
            Sex::Female if roll < 22 => rng.range(22, 34),
            Sex::Female if roll < 95 => rng.range(35, 50),
            Sex::Female => rng.range(51, 54),
        };
        let anchor = add_years(reference_date, -(age as i32));
        let mut birth_date = anchor - Duration::days(rng.range(0, 364));

        let address = match unit_addresses[unit_index].as_slice() {
            [] => {
                let own = region_digits(&units[unit_index].agency_code);
                if units[unit_index].category == UnitCategory::Local && own != "410000" { own } else { province_wide_address(&mut rng) }
            }
            codes => codes[rng.index(codes.len())].clone(),
        };
        let parity = u64::from(sex == Sex::Male);
        let mut tries = 0;
        let id_number = loop {
            tries += 1;
            // One address and birth date only have 500 sequence numbers per sex; a crowded
            // day moves the birthday by one, which keeps the age.
            if tries % 1000 == 0 {
                let earlier = birth_date - Duration::DAY;
                birth_date = if full_years(earlier, reference_date) == age as i32 { earlier } else { birth_date + Duration::DAY };
            }
            let seq = rng.below(500) * 2 + parity;
            let first17 = format!("{address}{}{seq:03}", format_ymd(birth_date));
            let Some(check) = check_character(&first17) else {
                break first17;
            };
            let id = format!("{first17}{check}");
            if ids.insert(id.clone()) {
                break id;
            }
        };

        let unit_names = &mut names[unit_index];
        let mut name = random_name(&mut rng, sex);
        let mut tries = 0;
        while unit_names.contains(&name) {
            tries += 1;
            name = if tries < 50 { random_name(&mut rng, sex) } else { fallback_name(unit_names.len() + tries) };
        }
        unit_names.insert(name.clone());

        let mobile = loop {
            let m = format!("{}{}", rng.pick(&MOBILE_PREFIXES), rng.digits(8));
            if mobiles.insert(m.clone()) {
                break m;
            }
        };

        let education = rng.weighted_pick(&education_weights(age), "高中");
        let earliest_start = match education {
            "本科" => 22,
            "大专" => 20,
            _ => 18,
        };
        let start_age = rng.range(earliest_start.min(age), 24.min(age));
        let work_start_date = (add_years(birth_date, start_age as i32) + Duration::days(rng.range(0, 300))).min(reference_date);
        let working_years = full_years(work_start_date, reference_date);
        let current_level = rng.weighted_pick(&level_weights(working_years), None);

        let sector = sectors[unit_index];
        let pool = if sector != Sector::General && rng.percent(60) { sector_work_types(sector) } else { GENERAL_WORK_TYPES };
        let work_type = rng.weighted_pick(pool, "汽车驾驶员").to_owned();

        applicants.push(DemoApplicant {
            id_number,
            name,
            sex,
            birth_date,
            mobile,
            unit_index,
            work_type,
            current_level,
            work_start_date,
            education: education.to_owned(),
        });
    }
    applicants
}

/// One bank of the demo item bank: a subject, a level and, for 岗位技能, a work type.
pub struct DemoBank {
    pub subject: crate::exam::Subject,
    pub level: u8,
    pub work_type: Option<&'static str>,
    pub knowledge_points: [&'static str; 5],
}

/// The banks the demo fills: the shared subjects at levels 3 and 4 and 岗位技能 of two work types.
pub const DEMO_BANKS: [DemoBank; 6] = {
    use crate::exam::Subject::*;
    const ETHICS: [&str; 5] = ["职业道德基本规范", "爱岗敬业", "诚实守信", "办事公道", "服务群众"];
    const COMPETENCE: [&str; 5] = ["公文与沟通", "安全生产", "法律常识", "计算机应用", "团队协作"];
    const DRIVER: [&str; 5] = ["道路交通安全法规", "车辆构造", "安全驾驶", "车辆维护", "应急处置"];
    [
        DemoBank { subject: Ethics, level: 3, work_type: None, knowledge_points: ETHICS },
        DemoBank { subject: Ethics, level: 4, work_type: None, knowledge_points: ETHICS },
        DemoBank { subject: Competence, level: 3, work_type: None, knowledge_points: COMPETENCE },
        DemoBank { subject: Competence, level: 4, work_type: None, knowledge_points: COMPETENCE },
        DemoBank { subject: PostSkills, level: 3, work_type: Some("汽车驾驶员"), knowledge_points: DRIVER },
        DemoBank { subject: PostSkills, level: 4, work_type: Some("汽车驾驶员"), knowledge_points: DRIVER },
    ]
};

/// The demo blueprint's cells per knowledge point: (kind, difficulty, count, points in tenths).
/// Five knowledge points × (6×1.5 + 4×1 + 2×3.5) = 100 points in 60 items.
pub const DEMO_CELLS: [(crate::exam::ItemKind, u8, u32, u32); 3] = [
    (crate::exam::ItemKind::SingleChoice, 3, 6, 15),
    (crate::exam::ItemKind::TrueFalse, 2, 4, 10),
    (crate::exam::ItemKind::MultipleChoice, 4, 2, 35),
];

/// Items per cell in the demo bank: enough for four parallel forms that share no item.
pub const DEMO_FORMS: u32 = 4;

/// Synthetic items for one bank, deterministic from the seed: enough of every cell of
/// [`DEMO_CELLS`] for [`DEMO_FORMS`] forms. Marked 【演示】 so nobody mistakes them for real items.
pub fn generate_items(seed: u64, bank: &DemoBank) -> Vec<(crate::item_bank::ItemMeta, crate::item_bank::ItemContent)> {
    use crate::exam::{Difficulty, ItemKind};
    use crate::item_bank::{ItemContent, ItemMeta, TRUE_FALSE_OPTIONS};
    let mut rng = Rng::new(seed, 0x6974_656d_7300_0003 ^ u64::from(bank.level) ^ ((bank.subject as u64) << 8));
    let mut out = Vec::new();
    for kp in bank.knowledge_points {
        for (kind, difficulty, count, points) in DEMO_CELLS {
            for n in 1..=count * DEMO_FORMS {
                let stem;
                let (options, key): (Vec<String>, Vec<usize>) = match kind {
                    ItemKind::TrueFalse => {
                        stem = format!("【演示】关于“{kp}”的判断题第{n}题：在工作中遵守{kp}的要求是本岗位的基本职责。");
                        (TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(), vec![rng.index(2)])
                    }
                    ItemKind::MultipleChoice => {
                        stem = format!("【演示】关于“{kp}”的多选题第{n}题：下列做法中符合要求的有（　）。");
                        let options = (1..=5).map(|o| format!("{kp}的做法{o}")).collect();
                        let first = rng.index(3);
                        (options, vec![first, first + 1 + rng.index(2)])
                    }
                    _ => {
                        stem = format!("【演示】关于“{kp}”的单选题第{n}题：下列说法正确的是（　）。");
                        let options = (1..=4).map(|o| format!("{kp}的说法{o}")).collect();
                        (options, vec![rng.index(4)])
                    }
                };
                let meta = ItemMeta {
                    subject: bank.subject,
                    level: bank.level,
                    work_type: bank.work_type.map(str::to_owned),
                    kind,
                    difficulty: Difficulty::new(difficulty).unwrap_or(Difficulty::MEDIUM),
                    knowledge_point: kp.to_owned(),
                    points_tenths: points,
                };
                out.push((meta, ItemContent { stem, options, key, marking_guide: String::new(), images: Vec::new() }));
            }
        }
    }
    out
}

/// Practice items per knowledge point in the demo's practice pool (模拟练习): (kind, count,
/// points in tenths). Five knowledge points give 20 items per bank, one practice paper.
pub const DEMO_PRACTICE_CELLS: [(crate::exam::ItemKind, u32, u32); 3] = [
    (crate::exam::ItemKind::SingleChoice, 2, 15),
    (crate::exam::ItemKind::TrueFalse, 1, 10),
    (crate::exam::ItemKind::MultipleChoice, 1, 35),
];

/// Synthetic items of the practice pool for one bank, deterministic from the seed, marked
/// 【演示练习】 and worded apart from [`generate_items`]'s so that no practice item reads like an
/// item of the real pool.
pub fn generate_practice_items(seed: u64, bank: &DemoBank) -> Vec<(crate::item_bank::ItemMeta, crate::item_bank::ItemContent)> {
    use crate::exam::{Difficulty, ItemKind};
    use crate::item_bank::{ItemContent, ItemMeta, TRUE_FALSE_OPTIONS};
    let mut rng = Rng::new(seed, 0x7072_6163_7469_6365 ^ u64::from(bank.level) ^ ((bank.subject as u64) << 8));
    let mut out = Vec::new();
    for kp in bank.knowledge_points {
        for (kind, count, points) in DEMO_PRACTICE_CELLS {
            for n in 1..=count {
                let stem;
                let (options, key): (Vec<String>, Vec<usize>) = match kind {
                    ItemKind::TrueFalse => {
                        stem = format!("【演示练习】“{kp}”判断练习{n}：{kp}只在考核期间需要遵守。");
                        (TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(), vec![rng.index(2)])
                    }
                    ItemKind::MultipleChoice => {
                        stem = format!("【演示练习】“{kp}”多选练习{n}：下列各项中属于{kp}要求的有（　）。");
                        let options = (1..=5).map(|o| format!("{kp}练习要点{o}")).collect();
                        let first = rng.index(3);
                        (options, vec![first, first + 1 + rng.index(2)])
                    }
                    _ => {
                        stem = format!("【演示练习】“{kp}”单选练习{n}：关于{kp}，下列理解最恰当的是（　）。");
                        let options = (1..=4).map(|o| format!("{kp}练习理解{o}")).collect();
                        (options, vec![rng.index(4)])
                    }
                };
                let meta = ItemMeta {
                    subject: bank.subject,
                    level: bank.level,
                    work_type: bank.work_type.map(str::to_owned),
                    kind,
                    difficulty: Difficulty::MEDIUM,
                    knowledge_point: kp.to_owned(),
                    points_tenths: points,
                };
                out.push((meta, ItemContent { stem, options, key, marking_guide: String::new(), images: Vec::new() }));
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::credit_code::CreditCode;
    use crate::id_number::IdNumber;
    use crate::jurisdiction::{henan_2020_agencies, validate_unit_name};
    use crate::person::{Mobile, validate_person_name};
    use crate::work_type::henan_2019_known_catalogue;
    use std::collections::HashMap;
    use time::macros::date;

    const REFERENCE: Date = date!(2020 - 04 - 02);

    fn sample(units: usize, applicants: usize) -> (Vec<AgencySeed>, Vec<DemoUnit>, Vec<DemoApplicant>) {
        let agencies = henan_2020_agencies();
        let u = generate_units(42, units, &agencies);
        let a = generate_applicants(42, applicants, &u, &agencies, REFERENCE);
        (agencies, u, a)
    }

    #[test]
    fn splitmix_matches_reference_output() {
        // First output of SplitMix64 seeded with 0 (Vigna's reference implementation).
        let mut rng = Rng(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn rng_helpers_stay_in_range() {
        let mut rng = Rng::new(7, 0);
        for _ in 0..1000 {
            assert!(rng.below(7) < 7);
            let r = rng.range(-3, 3);
            assert!((-3..=3).contains(&r));
            assert!(rng.weighted(&[0, 5, 0]) == 1);
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.range(5, 5), 5);
    }

    #[test]
    fn chinese_numbers() {
        let got: Vec<String> = [1, 9, 10, 11, 12, 20, 21, 47, 99].iter().map(|&n| chinese_number(n)).collect();
        assert_eq!(got, ["一", "九", "十", "十一", "十二", "二十", "二十一", "四十七", "九十九"]);
    }

    #[test]
    fn organisation_code_check_matches_gb_11714() {
        // Weighted sum of 12345678 is 3+14+27+40+25+48+28+16 = 201; 201 mod 11 = 3; 11-3 = 8.
        assert_eq!(organisation_code_check("12345678"), '8');
        assert_eq!(organisation_code_check("00000000"), '0');
    }

    #[test]
    fn same_seed_same_output_and_different_seeds_differ() {
        let agencies = henan_2020_agencies();
        let a = generate_units(9, 50, &agencies);
        let b = generate_units(9, 50, &agencies);
        assert_eq!(a, b);
        assert_ne!(a, generate_units(10, 50, &agencies));
        let pa = generate_applicants(9, 200, &a, &agencies, REFERENCE);
        let pb = generate_applicants(9, 200, &b, &agencies, REFERENCE);
        assert_eq!(pa, pb);
        assert_ne!(pa, generate_applicants(10, 200, &a, &agencies, REFERENCE));
    }

    #[test]
    fn empty_inputs_give_empty_outputs() {
        assert!(generate_units(1, 10, &[]).is_empty());
        assert!(generate_applicants(1, 10, &[], &henan_2020_agencies(), REFERENCE).is_empty());
        assert!(generate_units(1, 0, &henan_2020_agencies()).is_empty());
    }

    #[test]
    fn units_are_valid_unique_and_spread_like_henan() {
        let agencies = henan_2020_agencies();
        let units = generate_units(2020, 2000, &agencies);
        assert_eq!(units.len(), 2000);
        let names: HashSet<_> = units.iter().map(|u| &u.name).collect();
        let codes: HashSet<_> = units.iter().map(|u| &u.credit_code).collect();
        assert_eq!(names.len(), units.len(), "unique names");
        assert_eq!(codes.len(), units.len(), "unique codes");

        let mut per_agency: HashMap<&str, usize> = HashMap::new();
        for u in &units {
            assert!(validate_unit_name(&u.name).is_ok(), "{}", u.name);
            let code = CreditCode::parse(&u.credit_code).unwrap();
            let prefix = match u.unit_type {
                UnitType::Organ => "11",
                UnitType::Institution => "12",
            };
            assert!(u.credit_code.starts_with(prefix), "{} {}", u.name, u.credit_code);
            assert_eq!(code.region_code(), u.agency_code);
            assert!(!u.supervising_department.is_empty());
            assert_ne!(u.supervising_department, u.name);
            match u.category {
                UnitCategory::Local => assert_ne!(u.agency_code, "410000"),
                _ => assert_eq!(u.agency_code, "410000"),
            }
            *per_agency.entry(u.agency_code.as_str()).or_default() += 1;
        }
        let share = |c: UnitCategory| units.iter().filter(|u| u.category == c).count() * 1000 / units.len();
        assert!((55..=105).contains(&share(UnitCategory::Provincial)), "{}", share(UnitCategory::Provincial));
        assert!((8..=35).contains(&share(UnitCategory::Central)), "{}", share(UnitCategory::Central));

        let zhengzhou = per_agency["410100"];
        for (code, n) in &per_agency {
            if *code != "410100" && *code != "410000" {
                assert!(zhengzhou > *n, "郑州 {zhengzhou} vs {code} {n}");
            }
        }
        assert!(per_agency.len() >= 25, "most agencies get units");
    }

    #[test]
    fn unit_names_look_real() {
        let (_, units, _) = sample(400, 0);
        assert!(units.iter().any(|u| u.name.starts_with("郑州市") && u.category == UnitCategory::Local));
        assert!(units.iter().any(|u| u.name.starts_with("河南") && u.category == UnitCategory::Provincial));
        for u in &units {
            assert!(!u.name.contains('{'), "{}", u.name);
            assert!(!u.supervising_department.contains('{'), "{}", u.supervising_department);
        }
        let hospital = units.iter().find(|u| u.name.contains("人民医院") && u.category == UnitCategory::Local).unwrap();
        assert!(hospital.supervising_department.ends_with("卫生健康委员会"), "{:?}", hospital);
        assert_eq!(hospital.unit_type, UnitType::Institution);
    }

    #[test]
    fn county_units_are_named_after_the_county() {
        let agencies = henan_2020_agencies();
        let units = generate_units(5, 1500, &agencies);
        let gongyi: Vec<_> = units.iter().filter(|u| u.agency_code == "410181").collect();
        assert!(!gongyi.is_empty());
        for u in gongyi {
            assert!(u.name.starts_with("巩义市"), "{}", u.name);
        }
    }

    #[test]
    fn overflowing_requests_stay_unique() {
        let agencies: Vec<_> = henan_2020_agencies().into_iter().filter(|a| a.kind == AgencyKind::ProvinceCentre).collect();
        let units = generate_units(1, 300, &agencies);
        let names: HashSet<_> = units.iter().map(|u| &u.name).collect();
        assert_eq!(names.len(), 300);
        assert!(units.iter().all(|u| validate_unit_name(&u.name).is_ok()));
    }

    #[test]
    fn applicants_are_valid_and_consistent() {
        let (agencies, units, applicants) = sample(300, 5000);
        assert_eq!(applicants.len(), 5000);
        let catalogue = henan_2019_known_catalogue();
        let mut ids = HashSet::new();
        let mut mobiles = HashSet::new();
        let mut names_per_unit: HashMap<usize, HashSet<&str>> = HashMap::new();
        for a in &applicants {
            let id = IdNumber::parse(&a.id_number).unwrap();
            assert_eq!(id.sex(), a.sex);
            assert_eq!(id.birth_date(), a.birth_date);
            assert!(ids.insert(a.id_number.clone()), "duplicate id {}", a.id_number);
            let mobile = Mobile::parse(&a.mobile).unwrap();
            assert!(mobiles.insert(mobile.as_str().to_owned()));
            assert!(validate_person_name(&a.name, "name").is_ok(), "{}", a.name);
            assert!(names_per_unit.entry(a.unit_index).or_default().insert(&a.name), "{}", a.name);
            assert!(a.unit_index < units.len());
            assert!(catalogue.contains(&a.work_type.as_str()), "{}", a.work_type);
            assert!(EDUCATIONS.contains(&a.education.as_str()));

            let age = full_years(a.birth_date, REFERENCE);
            assert!((22..=59).contains(&age), "age {age}");
            let start_age = full_years(a.birth_date, a.work_start_date);
            assert!((18..=24).contains(&start_age), "start age {start_age}");
            assert!(a.work_start_date <= REFERENCE);

            let unit = &units[a.unit_index];
            let addr = id.address_code();
            assert!(addr.starts_with("41"), "{addr}");
            let agency = agencies.iter().find(|g| g.code == unit.agency_code).unwrap();
            match agency.kind {
                AgencyKind::City => {
                    assert_eq!(&addr[..4], &agency.code[..4], "{} {}", unit.name, addr)
                }
                AgencyKind::DirectCounty if agency.code == "410783" => assert_eq!(addr, "410728"),
                AgencyKind::DirectCounty | AgencyKind::Jiyuan => assert_eq!(addr, agency.code),
                AgencyKind::ProvinceCentre => {}
            }
        }
    }

    #[test]
    fn applicant_distributions_are_plausible() {
        let (_, _, applicants) = sample(300, 5000);
        let n = applicants.len();
        let males = applicants.iter().filter(|a| a.sex == Sex::Male).count();
        assert!((50..=60).contains(&(males * 100 / n)), "{males}");
        let mid = applicants.iter().filter(|a| (35..=55).contains(&full_years(a.birth_date, REFERENCE))).count();
        assert!(mid * 100 / n >= 60, "skewed to 35–55: {mid}");
        let women = applicants.iter().filter(|a| a.sex == Sex::Female);
        let (young_women, all_women) = women.fold((0, 0), |(y, t), a| (y + usize::from(full_years(a.birth_date, REFERENCE) <= 50), t + 1));
        assert!(young_women * 100 / all_women >= 90, "{young_women}/{all_women}");

        let count_work = |w: &str| applicants.iter().filter(|a| a.work_type == w).count();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for a in &applicants {
            *counts.entry(a.work_type.as_str()).or_default() += 1;
        }
        let mut top: Vec<_> = counts.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        assert_eq!(top[0].0, "汽车驾驶员", "{top:?}");
        assert!(top[..3].iter().any(|(w, _)| *w == "护理员"), "{top:?}");
        assert!(count_work("汽车驾驶员") > count_work("电工"));

        let level_count = |l: Option<Level>| applicants.iter().filter(|a| a.current_level == l).count();
        assert!(level_count(Some(Level::L4)) > level_count(Some(Level::L2)));
        assert!(level_count(Some(Level::L3)) > level_count(Some(Level::L2)));
        assert!(level_count(Some(Level::L2)) > level_count(Some(Level::L1)));
        for a in &applicants {
            let years = full_years(a.work_start_date, REFERENCE);
            if years <= 2 {
                assert!(matches!(a.current_level, None | Some(Level::L5)), "{a:?}");
            }
        }
        let young: Vec<_> = applicants.iter().filter(|a| full_years(a.work_start_date, REFERENCE) <= 2).collect();
        let young_none = young.iter().filter(|a| a.current_level.is_none()).count();
        assert!(young.is_empty() || young_none * 100 / young.len() >= 70);
    }

    #[test]
    fn names_stay_unique_in_one_crowded_unit() {
        let agencies = henan_2020_agencies();
        let units = generate_units(3, 1, &agencies);
        let applicants = generate_applicants(3, 3000, &units, &agencies, REFERENCE);
        let names: HashSet<_> = applicants.iter().map(|a| &a.name).collect();
        assert_eq!(names.len(), 3000);
        assert!(applicants.iter().all(|a| validate_person_name(&a.name, "name").is_ok()));
    }

    #[test]
    fn generates_5000_applicants_quickly() {
        let agencies = henan_2020_agencies();
        let started = std::time::Instant::now();
        let units = generate_units(1, 500, &agencies);
        let applicants = generate_applicants(1, 5000, &units, &agencies, REFERENCE);
        let elapsed = started.elapsed();
        assert_eq!(applicants.len(), 5000);
        assert!(elapsed < std::time::Duration::from_secs(1), "{elapsed:?}");
    }

    #[test]
    fn demo_items_are_valid_and_fill_their_cells() {
        for bank in &DEMO_BANKS {
            let items = generate_items(7, bank);
            assert_eq!(items.len(), 5 * 12 * DEMO_FORMS as usize);
            for (meta, content) in &items {
                crate::item_bank::validate(meta, content).unwrap();
            }
        }
        let points: u32 = DEMO_CELLS.iter().map(|(_, _, n, p)| n * p).sum::<u32>() * 5;
        assert_eq!(points, 1000);
        assert_eq!(generate_items(7, &DEMO_BANKS[0])[3].1, generate_items(7, &DEMO_BANKS[0])[3].1);
    }

    #[test]
    fn demo_practice_items_are_valid_and_unlike_the_real_ones() {
        for bank in &DEMO_BANKS {
            let practice = generate_practice_items(7, bank);
            assert_eq!(practice.len(), crate::exam::practice::MAX_PRACTICE_ITEMS);
            let real: std::collections::HashSet<String> = generate_items(7, bank).into_iter().map(|(_, c)| c.stem).collect();
            for (meta, content) in &practice {
                crate::item_bank::validate(meta, content).unwrap();
                assert!(content.stem.starts_with("【演示练习】") && !real.contains(&content.stem));
            }
        }
    }
}
