//! Blueprints and assembly through HTTP: points must sum to 100, a short pool names each short
//! cell, parallel forms share no item when the pool allows, only reviewers assemble.
use std::collections::HashSet;

use gongkao_domain::exam::assembly::FormItem;
use gongkao_domain::exam::{Difficulty, ItemKind, Subject};
use gongkao_domain::item_bank::{ItemContent, ItemMeta, TRUE_FALSE_OPTIONS};
use gongkao_storage::papers as store;
use gongkao_web::services::Actor;
use gongkao_web::services::items::{self, ItemInput};

use crate::kit::{TestApp, post};

/// An active 职业道德 item of level 3, written by one person and approved by another.
async fn active_item(app: &TestApp, kind: ItemKind, difficulty: u8, n: usize) -> i64 {
    let content = if kind == ItemKind::TrueFalse {
        ItemContent {
            stem: format!("判断{n}"),
            options: TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(),
            key: vec![n % 2],
            ..Default::default()
        }
    } else {
        ItemContent {
            stem: format!("单选{n}"),
            options: vec!["甲".into(), "乙".into(), "丙".into()],
            key: vec![n % 3],
            ..Default::default()
        }
    };
    let meta = ItemMeta {
        subject: Subject::Ethics,
        level: 3,
        work_type: None,
        kind,
        difficulty: Difficulty::new(difficulty).unwrap(),
        knowledge_point: "职业守则".into(),
        points_tenths: 10,
    };
    let writer =
        Actor { username: "t.itemwriter".into(), role: "item_writer".into(), jurisdiction: "410000".into(), client_ip: "test".into() };
    let reviewer =
        Actor { username: "t.itemreviewer".into(), role: "item_reviewer".into(), jurisdiction: "410000".into(), client_ip: "test".into() };
    let id = items::create(&app.state, &writer, ItemInput { meta, content }, Vec::new()).await.unwrap();
    items::act(&app.state, &writer, id, 1, gongkao_domain::item_bank::ItemAction::SubmitForReview, "").await.unwrap();
    items::act(&app.state, &reviewer, id, 1, gongkao_domain::item_bank::ItemAction::Approve, "").await.unwrap();
    id
}

#[tokio::test]
async fn blueprints_are_checked_and_forms_are_assembled_from_active_items() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.login("t.itemreviewer").await;
    let base = [("subject", "ethics"), ("level", "3"), ("duration_minutes", "90"), ("pass_mark", "60"), ("forms_per_sitting", "2")];

    let mut bad = base.to_vec();
    bad.push(("cells", "单选题,3,职业守则,2,30\n判断题,2,职业守则,3,10\n填空题,3,x,1,1"));
    let r = post(&c, &app, "/blueprints", &csrf, &bad).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("第3行题型“填空题”无法识别"));
    let mut short = base.to_vec();
    short.push(("cells", "单选题,3,职业守则,2,30\n判断题,2,职业守则,3,10"));
    let r = post(&c, &app, "/blueprints", &csrf, &short).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("总分：各题分值之和应为100分，现为90分"));
    assert!(store::blueprints(app.state.store().conn()).await.unwrap().is_empty(), "nothing saved");

    let mut good = base.to_vec();
    good.push(("cells", "单选题,3,职业守则,2,30\n判断题,2,职业守则,4,10"));
    let r = post(&c, &app, "/blueprints", &csrf, &good).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let id: i64 = r.headers()["location"].to_str().unwrap().trim_start_matches("/blueprints/").split('?').next().unwrap().parse().unwrap();

    // An empty pool: every short cell is named, nothing is stored.
    let r = post(&c, &app, &format!("/blueprints/{id}/assemble"), &csrf, &[]).await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("单选题·难度3·职业守则：需要"), "{body}");
    assert!(body.contains("判断题·难度2·职业守则"));
    assert!(store::forms(app.state.store().conn(), id).await.unwrap().is_empty());

    // Exactly enough items for two forms that share none.
    for n in 0..4 {
        active_item(&app, ItemKind::SingleChoice, 3, n).await;
    }
    for n in 0..8 {
        active_item(&app, ItemKind::TrueFalse, 2, n).await;
    }
    let r = post(&c, &app, &format!("/blueprints/{id}/assemble"), &csrf, &[]).await;
    assert_eq!(r.status(), 303);
    let forms = store::forms(app.state.store().conn(), id).await.unwrap();
    assert_eq!(forms.len(), 2);
    let mut seen = HashSet::new();
    for f in &forms {
        assert_eq!((f.item_count, f.total_tenths), (6, 1000));
        let items: Vec<FormItem> = serde_json::from_str(&f.items).unwrap();
        for i in items {
            assert!(seen.insert(i.item_id), "item {} on two forms", i.item_id);
            assert_eq!(i.version, 1);
        }
    }
    let page = c.get(app.url(&format!("/blueprints/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("A卷") && page.contains("B卷"));

    let (w, _) = app.login("t.itemwriter").await;
    assert_eq!(w.get(app.url("/blueprints")).send().await.unwrap().status(), 403);
    app.cleanup().await;
}
