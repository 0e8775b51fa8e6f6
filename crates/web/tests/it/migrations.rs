//! Migrations on both engines, including a backfill over rows that existed before it.
use gongkao_storage::Store;
use gongkao_storage::migration::Migrator;
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::MigratorTrait;

use crate::kit::{database_url, drop_database};

#[tokio::test]
async fn name_sort_backfill_and_pinyin_order() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = database_url(&dir).await;
    let store = Store::connect(&url).await.unwrap();
    let db = store.conn();
    // Up to the migration before the sort keys, then rows as an older release wrote them.
    Migrator::up(db, Some(3)).await.unwrap();
    let backend = db.get_database_backend();
    for (i, name) in ["郑州市中医院", "安阳市人民医院", "开封市水利局"].iter().enumerate() {
        let sql = "INSERT INTO unit (name, credit_code, unit_type, category, supervising_department, agency_code, status, created_at, updated_at) VALUES ($1, $2, 'organ', 'local', '人民政府', '410100', 'active', 0, 0)";
        db.execute_raw(Statement::from_sql_and_values(backend, sql, [(*name).into(), format!("CODE{i}").into()])).await.unwrap();
    }
    store.migrate().await.unwrap();
    assert!(store.pending_migrations().await.unwrap().is_empty());
    let page = gongkao_storage::units::list(db, &Default::default(), gongkao_domain::paging::Page::new(None, None)).await.unwrap();
    let names: Vec<&str> = page.items.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["安阳市人民医院", "开封市水利局", "郑州市中医院"]);
    assert!(page.items.iter().all(|u| u.version == 1), "old rows got the default version");
    assert!(page.items[0].name_sort.starts_with("an yang shi "), "{}", page.items[0].name_sort);
    store.close().await.unwrap();
    drop_database(pg.as_ref()).await;
}
