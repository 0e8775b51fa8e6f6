//! The eligibility engine through HTTP: the API for one person, the roster round trip.
use calamine::{Reader, Xlsx};

use crate::kit::TestApp;

fn rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

#[tokio::test]
async fn api_evaluates_one_person_with_trace_and_names_bad_fields() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.reviewer").await;
    let facts = serde_json::json!({
        "id_number": "34052419800101001X", "staff_type": "在岗正式工作人员", "in_post": true, "retired": false,
        "work_start_date": "1998-07-01", "regularised_on": "1999-07-01", "education": "高中", "current_work_type": "汽车驾驶员",
        "certificates": [{"level": 4, "work_type": "汽车驾驶员", "issued_on": "2010-10-20", "source": "exam"}]
    });
    let r = c
        .post(app.url("/api/v1/eligibility/evaluate"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({ "campaign": 2020, "date": "2020-04-13", "levels": [3], "facts": facts }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["rule_set_id"], "HN-GK-2020");
    let level = &v["levels"][0];
    assert_eq!(level["level"], 3);
    assert_eq!(level["verdict"], "eligible", "{level}");
    let results = level["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["source"]["document"].as_str().is_some_and(|d| !d.is_empty())));
    // An unknown fact is named, and nothing is evaluated.
    let r = c
        .post(app.url("/api/v1/eligibility/evaluate"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({ "levels": [9], "facts": { "id_numbr": "x" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["error"]["fields"][0]["field"], "facts");
    assert!(err["error"]["message"].as_str().unwrap().contains("id_numbr"));
    app.cleanup().await;
}

#[tokio::test]
async fn roster_comes_back_annotated_row_by_row() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.unitadmin").await;
    let template = c.get(app.url("/eligibility/roster-template.xlsx")).send().await.unwrap().bytes().await.unwrap().to_vec();
    let header = rows(template)[0].clone();
    assert_eq!(header.len(), gongkao_web::services::eligibility::ROSTER_COLUMNS.len());
    // Three people: level 4 on ten working years; a bad date; level 3 without the years.
    let people: [[&str; 23]; 3] = [
        [
            "王一",
            "34052419800101001X",
            "男",
            "1980-01-01",
            "在岗正式工作人员",
            "是",
            "2005-07-01",
            "2006-07-01",
            "高中",
            "汽车驾驶员",
            "",
            "4",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "李二",
            "11010519491231002X",
            "女",
            "1949-13-31",
            "聘用工作人员",
            "是",
            "1970-07-01",
            "",
            "初中",
            "护理员",
            "",
            "4",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "张三",
            "513101198201130014",
            "男",
            "1982-01-13",
            "在岗正式工作人员",
            "是",
            "2012-07-01",
            "2013-07-01",
            "高中",
            "汽车驾驶员",
            "",
            "3",
            "4",
            "汽车驾驶员",
            "2018-06-01",
            "考核取得",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (i, h) in header.iter().enumerate() {
        ws.write_string(0, u16::try_from(i).unwrap(), h).unwrap();
    }
    for (r, person) in people.iter().enumerate() {
        for (i, v) in person.iter().enumerate() {
            ws.write_string(u32::try_from(r + 1).unwrap(), u16::try_from(i).unwrap(), *v).unwrap();
        }
    }
    let part = reqwest::multipart::Part::bytes(book.save_to_buffer().unwrap()).file_name("roster.xlsx");
    let r = c
        .post(app.url(&format!("/eligibility/roster?csrf_token={csrf}")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = rows(r.bytes().await.unwrap().to_vec());
    assert_eq!(out.len(), 4);
    let verdict = |row: usize| out[row][23].clone();
    let reasons = |row: usize| out[row][24].clone();
    assert_eq!(verdict(1), "四级：符合", "{}", reasons(1));
    assert_eq!(verdict(2), "资料有误");
    assert!(reasons(2).contains("第 3 行 D 列（出生日期）"), "{}", reasons(2));
    assert_eq!(verdict(3), "三级：不符合", "{}", reasons(3));
    assert!(!reasons(3).is_empty());
    assert!(out[1][25].starts_with("HN-GK-2020 v"));
    // A file that is not the template is refused, naming the cell.
    let part = reqwest::multipart::Part::bytes(gongkao_web::services::campaigns::work_type_template().unwrap()).file_name("w.xlsx");
    let r = c
        .post(app.url(&format!("/eligibility/roster?csrf_token={csrf}")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("第 1 行 A 列"));
    app.cleanup().await;
}

#[tokio::test]
async fn single_person_check_shows_the_trace_or_names_the_field() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.applicant").await;
    let form = |birth: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("id_number", "34052419800101001X".to_owned()),
            ("birth_date", birth.to_owned()),
            ("staff_type", "在岗正式工作人员".to_owned()),
            ("work_start_date", "2005-07-01".to_owned()),
            ("regularised_on", "2006-07-01".to_owned()),
            ("education", "高中".to_owned()),
            ("current_work_type", "汽车驾驶员".to_owned()),
            ("levels", "4".to_owned()),
        ]
    };
    let r = c.post(app.url("/eligibility/check")).form(&form("1980-01-01")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("四级（中级工）：<span class=\"badge open\">符合</span>"), "{}", &page[page.len().saturating_sub(3000)..]);
    assert!(page.contains("豫人社工考〔2013〕1号"));
    let r = c.post(app.url("/eligibility/check")).form(&form("1980-02-30")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("出生日期：“1980-02-30”不是有效日期"));
    app.cleanup().await;
}
