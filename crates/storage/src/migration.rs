//! One migration history for SQLite and PostgreSQL. DDL is built with sea-query so each engine
//! gets its own dialect from the same description; only the portable subset is used (TEXT,
//! BIGINT, BOOLEAN; instants as UTC epoch milliseconds, dates as ISO `YYYY-MM-DD` text).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Foundation),
            Box::new(M0002AuditSeal),
            Box::new(M0003UnitVersion),
            Box::new(M0004NameSort),
            Box::new(M0005Applications),
            Box::new(M0006AgencyReview),
            Box::new(M0007Files),
            Box::new(M0008Fees),
            Box::new(M0009ItemBank),
            Box::new(M0010ExamSites),
            Box::new(M0011Jobs),
            Box::new(M0012Papers),
            Box::new(M0013AgencyListIndexes),
            Box::new(M0014TicketSettings),
            Box::new(M0015Training),
            Box::new(M0016Delivery),
            Box::new(M0017Practice),
            Box::new(M0018AnswersClustered),
        ]
    }
}

/// Each migration names itself explicitly: `DeriveMigrationName` would take the file name, and
/// every migration lives in this one file.
struct M0001Foundation;

impl MigrationName for M0001Foundation {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

fn table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).if_not_exists().to_owned()
}

fn unique_index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table).unique().if_not_exists();
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table).if_not_exists();
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

fn fk(from_table: &'static str, col: &'static str, to_table: &'static str, to_col: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from_table, col).to(to_table, to_col).on_delete(ForeignKeyAction::Restrict).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Foundation {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("work_type_catalogue")
                .col(big_pk_auto("id"))
                .col(string_uniq("doc_number"))
                .col(string("title"))
                .col(big_integer("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("work_type")
                .col(big_pk_auto("id"))
                .col(big_integer("catalogue_id"))
                .col(string("name"))
                .foreign_key(&mut fk("work_type", "catalogue_id", "work_type_catalogue", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("work_type", "ux_work_type_catalogue_name", &["catalogue_id", "name"])).await?;

        m.create_table(
            table("campaign")
                .col(big_pk_auto("id"))
                .col(integer_uniq("year"))
                .col(string("title"))
                .col(text("doc_numbers"))
                .col(string("rule_set_id"))
                .col(big_integer("catalogue_id"))
                .col(big_integer_null("unit_name_lock_at"))
                .col(string("status"))
                .col(big_integer_null("copied_from"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("campaign", "catalogue_id", "work_type_catalogue", "id"))
                .check(Expr::col("status").is_in(["draft", "active", "archived"]))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("campaign_window")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("kind"))
                .col(big_integer("starts_at"))
                .col(big_integer("ends_at"))
                .foreign_key(&mut fk("campaign_window", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("campaign_window", "ux_campaign_window_kind", &["campaign_id", "kind"])).await?;
        m.create_table(
            table("campaign_level1_work_type")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("name"))
                .foreign_key(&mut fk("campaign_level1_work_type", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("campaign_level1_work_type", "ux_level1_work_type", &["campaign_id", "name"])).await?;
        m.create_table(
            table("fee_item")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(integer("level"))
                .col(string("item"))
                .col(big_integer("amount_fen"))
                .foreign_key(&mut fk("fee_item", "campaign_id", "campaign", "id"))
                .check(Expr::col("amount_fen").gte(0))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("fee_item", "ux_fee_item", &["campaign_id", "level", "item"])).await?;

        m.create_table(
            table("agency")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("code"))
                .col(string("name"))
                .col(string("region_name"))
                .col(string("kind"))
                .col(string_null("parent_code"))
                .foreign_key(&mut fk("agency", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("agency", "ux_agency_campaign_code", &["campaign_id", "code"])).await?;
        m.create_table(
            table("agency_local_date")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(string("kind"))
                .col(string("starts_on"))
                .col(string("ends_on"))
                .col(big_integer("updated_at"))
                .col(string("updated_by"))
                .foreign_key(&mut fk("agency_local_date", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("agency_local_date", "ux_agency_local_date", &["campaign_id", "agency_code", "kind"])).await?;

        m.create_table(
            table("unit")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string_uniq("credit_code"))
                .col(string("unit_type"))
                .col(string("category"))
                .col(string("supervising_department"))
                .col(string("agency_code"))
                .col(string("status"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .check(Expr::col("status").is_in(["active", "deleted"]))
                .to_owned(),
        )
        .await?;
        m.create_index(index("unit", "ix_unit_agency", &["agency_code", "name"])).await?;

        m.create_table(
            table("applicant")
                .col(big_pk_auto("id"))
                .col(string_uniq("id_number"))
                .col(string("name"))
                .col(string("sex"))
                .col(string("birth_date"))
                .col(string("mobile"))
                .col(big_integer_null("unit_id"))
                .col(string_null("work_type"))
                .col(integer_null("current_level"))
                .col(string_null("work_start_date"))
                .col(string_null("education"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("applicant", "unit_id", "unit", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("applicant", "ix_applicant_unit", &["unit_id"])).await?;

        m.create_table(
            table("account")
                .col(big_pk_auto("id"))
                .col(string_uniq("username"))
                .col(string("display_name"))
                .col(string("role"))
                .col(string_null("agency_code"))
                .col(big_integer_null("unit_id"))
                .col(big_integer_null("applicant_id"))
                .col(string_null("holder_id_number"))
                .col(string_null("mobile"))
                .col(text_null("password_hash"))
                .col(boolean("must_change_password"))
                .col(string("status"))
                .col(integer("failed_logins"))
                .col(big_integer_null("locked_until"))
                .col(big_integer_null("last_login_at"))
                .col(big_integer_null("password_changed_at"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("account", "unit_id", "unit", "id"))
                .foreign_key(&mut fk("account", "applicant_id", "applicant", "id"))
                .check(Expr::col("status").is_in(["active", "disabled"]))
                .to_owned(),
        )
        .await?;
        m.create_index(index("account", "ix_account_role_scope", &["role", "agency_code"])).await?;
        m.create_index(index("account", "ix_account_unit", &["unit_id"])).await?;

        m.create_table(
            table("session")
                .col(string("id_hash").primary_key())
                .col(big_integer("account_id"))
                .col(string("csrf_token"))
                .col(big_integer("created_at"))
                .col(big_integer("last_seen_at"))
                .col(big_integer("expires_at"))
                .col(string("client_ip"))
                .foreign_key(&mut fk("session", "account_id", "account", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("session", "ix_session_account", &["account_id"])).await?;
        m.create_table(
            table("ip_throttle")
                .col(string("ip").primary_key())
                .col(integer("failures"))
                .col(big_integer("window_started_at"))
                .col(big_integer_null("locked_until"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            table("audit_log")
                .col(big_integer("seq").primary_key())
                .col(big_integer("at_ms"))
                .col(string("actor"))
                .col(string("role"))
                .col(string("jurisdiction"))
                .col(string("action"))
                .col(text("target"))
                .col(text("summary"))
                .col(string("client_ip"))
                .col(string("outcome"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_log", "ix_audit_log_at", &["at_ms"])).await?;
        m.create_index(index("audit_log", "ix_audit_log_actor", &["actor"])).await?;
        m.create_table(table("audit_head").col(integer("id").primary_key()).col(big_integer("seq")).col(string("hash")).to_owned()).await?;
        let genesis = Query::insert()
            .into_table("audit_head")
            .columns(["id", "seq", "hash"])
            .values_panic([1.into(), 0i64.into(), gongkao_domain::audit::GENESIS_HASH.into()])
            .to_owned();
        m.exec_stmt(genesis).await?;

        m.create_table(
            table("setting")
                .col(string("key").primary_key())
                .col(text("value"))
                .col(big_integer("updated_at"))
                .col(string("updated_by"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            table("unit_admin_request")
                .col(big_pk_auto("id"))
                .col(string_uniq("reference_no"))
                .col(big_integer("campaign_id"))
                .col(big_integer_null("existing_unit_id"))
                .col(string("unit_name"))
                .col(string("credit_code"))
                .col(string("unit_type"))
                .col(string("category"))
                .col(string("supervising_department"))
                .col(string("agency_code"))
                .col(string("person_name"))
                .col(string("sex"))
                .col(string("department"))
                .col(string("post"))
                .col(string("office_phone"))
                .col(string("mobile"))
                .col(string("status"))
                .col(big_integer("submitted_at"))
                .col(big_integer_null("decided_at"))
                .col(string_null("decided_by"))
                .col(text_null("decision_reason"))
                .col(big_integer_null("account_id"))
                .foreign_key(&mut fk("unit_admin_request", "campaign_id", "campaign", "id"))
                .check(Expr::col("status").is_in(["pending", "approved", "rejected"]))
                .to_owned(),
        )
        .await?;
        m.create_index(index("unit_admin_request", "ix_uar_agency_status", &["agency_code", "status"])).await?;

        m.create_table(
            table("verification_code")
                .col(big_pk_auto("id"))
                .col(string("purpose"))
                .col(string("mobile"))
                .col(string("code_hash"))
                .col(big_integer("created_at"))
                .col(big_integer("expires_at"))
                .col(big_integer_null("used_at"))
                .col(integer("attempts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("verification_code", "ix_verification_mobile", &["mobile", "purpose"])).await?;

        m.create_table(
            table("api_token")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string_uniq("token_hash"))
                .col(string("role"))
                .col(string_null("agency_code"))
                .col(big_integer_null("unit_id"))
                .col(string("created_by"))
                .col(big_integer("created_at"))
                .col(big_integer_null("revoked_at"))
                .col(big_integer_null("last_used_at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // Government records are never dropped by a migration; roll back from a backup instead.
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Adds the keyed seal to audit entries and to the head (see `gongkao_domain::audit::seal`).
struct M0002AuditSeal;

impl MigrationName for M0002AuditSeal {
    fn name(&self) -> &str {
        "m0002_audit_seal"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002AuditSeal {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE statement.
        for table in ["audit_log", "audit_head"] {
            m.alter_table(Table::alter().table(table).add_column(ColumnDef::new("seal").string().not_null().default("")).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// A row version for optimistic concurrency on units: a timestamp can repeat within a
/// millisecond (and does under a test clock), a counter cannot.
struct M0003UnitVersion;

impl MigrationName for M0003UnitVersion {
    fn name(&self) -> &str {
        "m0003_unit_version"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003UnitVersion {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("unit").add_column(ColumnDef::new("version").integer().not_null().default(1)).to_owned()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Pinyin sort keys for unit and applicant names (see `gongkao_domain::sort_key`), with a
/// backfill of existing rows computed in Rust.
struct M0004NameSort;

impl MigrationName for M0004NameSort {
    fn name(&self) -> &str {
        "m0004_name_sort"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004NameSort {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm::Statement;
        for table in ["unit", "applicant"] {
            m.alter_table(Table::alter().table(table).add_column(ColumnDef::new("name_sort").string().not_null().default("")).to_owned())
                .await?;
            let db = m.get_connection();
            let backend = db.get_database_backend();
            let rows = db.query_all_raw(Statement::from_string(backend, format!("SELECT id, name FROM {table}"))).await?;
            for row in rows {
                let id: i64 = row.try_get("", "id")?;
                let name: String = row.try_get("", "name")?;
                let key = gongkao_domain::sort_key::pinyin_key(&name);
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("UPDATE {table} SET name_sort = $1 WHERE id = $2"),
                    [key.into(), id.into()],
                ))
                .await?;
            }
            m.create_index(index(table, if table == "unit" { "ix_unit_name_sort" } else { "ix_applicant_name_sort" }, &["name_sort"]))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Applications (申报) and their history. One live application per person and campaign is a
/// partial unique index, which both engines support with the same SQL.
struct M0005Applications;

impl MigrationName for M0005Applications {
    fn name(&self) -> &str {
        "m0005_applications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005Applications {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("application")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("applicant_id"))
                .col(big_integer_null("unit_id"))
                .col(string("work_type"))
                .col(integer("target_level"))
                .col(text("facts"))
                .col(string("status"))
                .col(string("verdict"))
                .col(string("rule_set_id"))
                .col(integer("rule_set_version"))
                .col(text("trace"))
                .col(string_null("previous_verdict"))
                .col(big_integer_null("verdict_changed_at"))
                .col(big_integer_null("pledged_at"))
                .col(big_integer_null("submitted_at"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .col(integer("version"))
                .foreign_key(&mut fk("application", "campaign_id", "campaign", "id"))
                .foreign_key(&mut fk("application", "applicant_id", "applicant", "id"))
                .foreign_key(&mut fk("application", "unit_id", "unit", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("application", "ix_application_unit_status", &["unit_id", "status"])).await?;
        m.create_index(index("application", "ix_application_campaign", &["campaign_id", "id"])).await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_application_live ON application (campaign_id, applicant_id) \
                 WHERE status NOT IN ('withdrawn', 'voided', 'unit_rejected')",
            )
            .await?;
        m.create_table(
            table("application_event")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(big_integer("at"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("from_status"))
                .col(string("to_status"))
                .col(text("reason"))
                .col(text_null("facts_before"))
                .foreign_key(&mut fk("application_event", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("application_event", "ix_application_event_app", &["application_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// The agency's review (资格审查): the agency over the unit kept on the application so the
/// agency's list filters on one indexed column, the unit's per-field check against the
/// personnel file, the on-site note, reopening after the deadline, and level-1 dossiers.
struct M0006AgencyReview;

impl MigrationName for M0006AgencyReview {
    fn name(&self) -> &str {
        "m0006_agency_review"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006AgencyReview {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for col in [
            ColumnDef::new("agency_code").string().null().to_owned(),
            ColumnDef::new("unit_checks").text().null().to_owned(),
            ColumnDef::new("unit_reviewed_at").big_integer().null().to_owned(),
            ColumnDef::new("on_site_note").text().null().to_owned(),
            ColumnDef::new("reopened_until").big_integer().null().to_owned(),
        ] {
            m.alter_table(Table::alter().table("application").add_column(col).to_owned()).await?;
        }
        m.get_connection()
            .execute_unprepared(
                "UPDATE application SET agency_code = (SELECT unit.agency_code FROM unit WHERE unit.id = application.unit_id)",
            )
            .await?;
        m.create_index(index("application", "ix_application_agency_status", &["campaign_id", "agency_code", "status", "id"])).await?;
        m.create_index(index("application", "ix_application_agency_id", &["campaign_id", "agency_code", "id"])).await?;
        // The province centre filters the whole campaign by state.
        m.create_index(index("application", "ix_application_status", &["campaign_id", "status", "id"])).await?;
        // The two filters agencies use most besides the state: level and work type.
        m.create_index(index("application", "ix_application_level", &["campaign_id", "target_level", "status", "id"])).await?;
        m.create_index(index("application", "ix_application_work_type", &["campaign_id", "work_type", "status", "id"])).await?;
        // The applicant's own page looks up their latest application on every load.
        m.create_index(index("application", "ix_application_applicant", &["campaign_id", "applicant_id", "id"])).await?;
        m.create_table(
            table("level1_dossier")
                .col(big_integer("application_id").primary_key())
                .col(text("received"))
                .col(string("state"))
                .col(text("note"))
                .col(string("checked_by"))
                .col(big_integer("checked_at"))
                .col(integer("version"))
                .foreign_key(&mut fk("level1_dossier", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Fees collected by an agency's cashier (收费员), per unit batch (交款批次): the batch with its
/// receipt number, one line per application and fee item, refunds, and the per-agency receipt
/// counter. Named m0008: m0006 and m0007 belong to work on other branches.
struct M0008Fees;

impl MigrationName for M0008Fees {
    fn name(&self) -> &str {
        "m0008_fees"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0008Fees {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("fee_batch")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("unit_id"))
                .col(string("agency_code"))
                .col(string("receipt_no"))
                .col(string("payer_name"))
                .col(string("payment_method"))
                .col(big_integer("total_fen"))
                .col(big_integer("refunded_fen"))
                .col(string("cashier"))
                .col(string("cashier_name"))
                .col(big_integer("recorded_at"))
                .col(string("idempotency_key"))
                .foreign_key(&mut fk("fee_batch", "campaign_id", "campaign", "id"))
                .foreign_key(&mut fk("fee_batch", "unit_id", "unit", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("fee_batch", "ux_fee_batch_receipt_no", &["receipt_no"])).await?;
        m.create_index(unique_index("fee_batch", "ux_fee_batch_idempotency", &["idempotency_key"])).await?;
        m.create_index(index("fee_batch", "ix_fee_batch_agency", &["campaign_id", "agency_code", "id"])).await?;
        m.create_index(index("fee_batch", "ix_fee_batch_unit", &["unit_id", "id"])).await?;
        m.create_table(
            table("fee_line")
                .col(big_pk_auto("id"))
                .col(big_integer("batch_id"))
                .col(big_integer("application_id"))
                .col(integer("level"))
                .col(string("item"))
                .col(integer("count"))
                .col(big_integer("unit_fen"))
                .col(big_integer("amount_fen"))
                .foreign_key(&mut fk("fee_line", "batch_id", "fee_batch", "id"))
                .foreign_key(&mut fk("fee_line", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("fee_line", "ix_fee_line_batch", &["batch_id", "id"])).await?;
        m.create_index(index("fee_line", "ix_fee_line_application", &["application_id"])).await?;
        m.create_table(
            table("fee_refund")
                .col(big_pk_auto("id"))
                .col(big_integer("batch_id"))
                .col(big_integer_null("application_id"))
                .col(big_integer("amount_fen"))
                .col(text("reason"))
                .col(string("actor"))
                .col(big_integer("at"))
                .foreign_key(&mut fk("fee_refund", "batch_id", "fee_batch", "id"))
                .foreign_key(&mut fk("fee_refund", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("fee_refund", "ix_fee_refund_batch", &["batch_id", "id"])).await?;
        m.create_table(
            table("fee_receipt_counter")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(big_integer("last_no"))
                .foreign_key(&mut fk("fee_receipt_counter", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("fee_receipt_counter", "ux_fee_receipt_counter", &["campaign_id", "agency_code"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Photos and attachments of applications. At most one live photo per application is a partial
/// unique index, like the one live application per person.
struct M0007Files;

impl MigrationName for M0007Files {
    fn name(&self) -> &str {
        "m0007_files"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0007Files {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("application_file")
                .col(big_pk_auto("id"))
                .col(string("public_id"))
                .col(big_integer("application_id"))
                .col(string("kind"))
                .col(string("original_name"))
                .col(string("content_type"))
                .col(big_integer("byte_size"))
                .col(string("content_hash"))
                .col(string("uploaded_by"))
                .col(big_integer("uploaded_at"))
                .col(big_integer_null("removed_at"))
                .col(string_null("removed_by"))
                .foreign_key(&mut fk("application_file", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("application_file", "ux_application_file_public_id", &["public_id"])).await?;
        m.create_index(index("application_file", "ix_application_file_app", &["application_id", "id"])).await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_application_file_photo ON application_file (application_id) \
                 WHERE kind = 'photo' AND removed_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// The item bank: `item` holds the metadata assembly selects on and the current version;
/// `item_version` holds every version's content, encrypted (SM4-GCM or AES-256-GCM under a key
/// kept outside the database), never in the clear.
struct M0009ItemBank;

impl MigrationName for M0009ItemBank {
    fn name(&self) -> &str {
        "m0009_item_bank"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0009ItemBank {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("item")
                .col(big_pk_auto("id"))
                .col(string("uid"))
                .col(string("subject"))
                .col(integer("level"))
                .col(string_null("work_type"))
                .col(string("kind"))
                .col(integer("difficulty"))
                .col(string("knowledge_point"))
                .col(integer("points_tenths"))
                .col(string("status"))
                .col(integer("current_version"))
                .col(string("created_by"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .col(string_null("reviewed_by"))
                .col(big_integer_null("reviewed_at"))
                .col(string_null("review_note"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("item", "ux_item_uid", &["uid"])).await?;
        m.create_index(index("item", "ix_item_cell", &["subject", "level", "work_type", "status", "kind"])).await?;
        m.create_index(index("item", "ix_item_status", &["status", "id"])).await?;
        m.create_table(
            table("item_version")
                .col(big_pk_auto("id"))
                .col(big_integer("item_id"))
                .col(integer("version"))
                .col(string("kind"))
                .col(integer("difficulty"))
                .col(string("knowledge_point"))
                .col(integer("points_tenths"))
                .col(string("cipher"))
                .col(string("key_id"))
                .col(blob("nonce"))
                .col(blob("ciphertext"))
                .col(string("created_by"))
                .col(big_integer("created_at"))
                .col(string_null("change_note"))
                .foreign_key(&mut fk("item_version", "item_id", "item", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("item_version", "ux_item_version", &["item_id", "version"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Test centres (考点) with rooms (考场), sittings (场次) and the seating plan (编排): one row
/// per candidate and sitting with room, seat and admission-ticket number.
struct M0010ExamSites;

impl MigrationName for M0010ExamSites {
    fn name(&self) -> &str {
        "m0010_exam_sites"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010ExamSites {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("test_centre")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(integer("number"))
                .col(string("name"))
                .col(string("address"))
                .col(string("contact"))
                .col(string("phone"))
                .col(big_integer("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk("test_centre", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("test_centre", "ux_test_centre_number", &["campaign_id", "agency_code", "number"])).await?;
        m.create_table(
            table("exam_room")
                .col(big_pk_auto("id"))
                .col(big_integer("centre_id"))
                .col(integer("number"))
                .col(string("name"))
                .col(integer("seat_count"))
                .col(integer("spare_seats"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("exam_room", "centre_id", "test_centre", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("exam_room", "ux_exam_room_number", &["centre_id", "number"])).await?;
        m.create_table(
            table("sitting")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(string("subject"))
                .col(string("exam_date"))
                .col(big_integer("starts_at"))
                .col(big_integer("ends_at"))
                .col(big_integer("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk("sitting", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sitting", "ix_sitting_agency", &["campaign_id", "agency_code", "starts_at"])).await?;
        m.create_table(
            table("seat_assignment")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(big_integer("application_id"))
                .col(big_integer("sitting_id"))
                .col(big_integer("room_id"))
                .col(integer("seat"))
                .col(string("ticket_no"))
                .col(big_integer("assigned_at"))
                .foreign_key(&mut fk("seat_assignment", "application_id", "application", "id"))
                .foreign_key(&mut fk("seat_assignment", "sitting_id", "sitting", "id"))
                .foreign_key(&mut fk("seat_assignment", "room_id", "exam_room", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("seat_assignment", "ux_seat_taken", &["sitting_id", "room_id", "seat"])).await?;
        m.create_index(unique_index("seat_assignment", "ux_seat_candidate", &["application_id", "sitting_id"])).await?;
        m.create_index(index("seat_assignment", "ix_seat_agency", &["campaign_id", "agency_code", "room_id", "seat"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Blueprints (试卷蓝图, the domain's JSON) and the parallel forms assembled from them in
/// advance. `work_type` is empty for subjects shared by all work types, so the unique index
/// covers them too (NULLs never collide in a unique index).
struct M0012Papers;

impl MigrationName for M0012Papers {
    fn name(&self) -> &str {
        "m0012_papers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0012Papers {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("blueprint")
                .col(big_pk_auto("id"))
                .col(string("subject"))
                .col(integer("level"))
                .col(string("work_type"))
                .col(text("body"))
                .col(string("updated_by"))
                .col(big_integer("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("blueprint", "ux_blueprint_cell", &["subject", "level", "work_type"])).await?;
        m.create_table(
            table("paper_form")
                .col(big_pk_auto("id"))
                .col(big_integer("blueprint_id"))
                .col(integer("number"))
                .col(string("seed"))
                .col(text("items"))
                .col(integer("item_count"))
                .col(integer("total_tenths"))
                .col(string("created_by"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("paper_form", "blueprint_id", "blueprint", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("paper_form", "ux_paper_form_number", &["blueprint_id", "number"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// A city's review list counted its total by reading every matching row of the province to
/// check the agency (the level and work-type indexes do not hold `agency_code`); these let
/// SQLite and PostgreSQL answer the city's counts from the index alone (BENCHMARKS.md).
struct M0013AgencyListIndexes;

impl MigrationName for M0013AgencyListIndexes {
    fn name(&self) -> &str {
        "m0013_agency_list_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0013AgencyListIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "application",
            "ix_application_agency_work_type",
            &["campaign_id", "agency_code", "work_type", "status", "id"],
        ))
        .await?;
        m.create_index(index(
            "application",
            "ix_application_agency_level",
            &["campaign_id", "agency_code", "target_level", "status", "verdict", "id"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// The background job queue (后台任务): long work (batch PDFs, imports, exports, assembly) kept
/// in the database so any node can run it and a crash loses nothing. A job is claimed with a
/// guarded update and held by a lease (`locked_by`, `locked_until`); the result file is in the
/// content-addressed `BlobStore`, only its name, type and SM3 hash are here.
struct M0011Jobs;

impl MigrationName for M0011Jobs {
    fn name(&self) -> &str {
        "m0011_jobs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0011Jobs {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("job")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(text("payload"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(integer("max_attempts"))
                .col(big_integer("run_after"))
                .col(string_null("locked_by"))
                .col(big_integer_null("locked_until"))
                .col(big_integer("progress_done"))
                .col(big_integer("progress_total"))
                .col(text_null("message"))
                .col(string_null("result_name"))
                .col(string_null("result_content_type"))
                .col(string_null("result_hash"))
                .col(text_null("error"))
                .col(string("owner"))
                .col(big_integer("created_at"))
                .col(big_integer_null("started_at"))
                .col(big_integer_null("finished_at"))
                .col(boolean("cancel_requested"))
                .check(Expr::col("status").is_in(["queued", "running", "succeeded", "failed", "cancelled"]))
                .check(Expr::col("max_attempts").gte(1))
                .to_owned(),
        )
        .await?;
        // Claiming looks for due queued jobs (and running ones whose lease ran out) by state and
        // time; the owner's page lists their jobs newest first.
        m.create_index(index("job", "ix_job_claim", &["status", "run_after"])).await?;
        m.create_index(index("job", "ix_job_lease", &["status", "locked_until"])).await?;
        m.create_index(index("job", "ix_job_owner", &["owner", "id"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Admission-ticket settings and facts: the agency's print window, the campaign's pledge
/// (承诺书) and who accepted which text (by SM3 of the text, so a changed pledge is accepted
/// anew), and whether a candidate's ticket has been printed (a seat moved after that is told
/// to the candidate); each seat's parallel form; and an index to find a seated candidate by
/// ticket number.
struct M0014TicketSettings;

impl MigrationName for M0014TicketSettings {
    fn name(&self) -> &str {
        "m0014_ticket_settings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0014TicketSettings {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("ticket_window")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(big_integer("opens_at"))
                .col(big_integer("closes_at"))
                .col(big_integer("updated_at"))
                .col(string("updated_by"))
                .foreign_key(&mut fk("ticket_window", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("ticket_window", "ux_ticket_window_agency", &["campaign_id", "agency_code"])).await?;
        m.create_table(
            table("ticket_pledge")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("campaign_id"))
                .col(text("body"))
                .col(string("body_sm3"))
                .col(big_integer("updated_at"))
                .col(string("updated_by"))
                .foreign_key(&mut fk("ticket_pledge", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("ticket_pledge_acceptance")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(string("body_sm3"))
                .col(big_integer("accepted_at"))
                .foreign_key(&mut fk("ticket_pledge_acceptance", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("ticket_pledge_acceptance", "ux_ticket_pledge_acceptance", &["application_id", "body_sm3"])).await?;
        m.create_table(
            table("ticket_print")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("application_id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(big_integer("first_printed_at"))
                .col(big_integer("last_printed_at"))
                .col(integer("prints"))
                .foreign_key(&mut fk("ticket_print", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ticket_print", "ix_ticket_print_agency", &["campaign_id", "agency_code"])).await?;
        // Which parallel form (1, 2, …) of the sitting's blueprint the seat gets; empty until
        // the blueprint has forms.
        m.alter_table(Table::alter().table("seat_assignment").add_column(ColumnDef::new("form_number").integer().null()).to_owned())
            .await?;
        // The exam officer finds a candidate to move by ticket number.
        m.create_index(index("seat_assignment", "ix_seat_ticket", &["campaign_id", "agency_code", "ticket_no"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Training classes (培训班, notice §三(四): May to July, levels 5–2), who is enrolled in each
/// (one class per application: the unique index on `application_id`) and the attendance of each
/// enrolled person per class day.
struct M0015Training;

impl MigrationName for M0015Training {
    fn name(&self) -> &str {
        "m0015_training"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0015Training {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("training_class")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("agency_code"))
                .col(string("name"))
                .col(string("place"))
                .col(string("organiser"))
                .col(integer("level"))
                .col(string_null("work_type"))
                .col(string("starts_on"))
                .col(string("ends_on"))
                .col(integer("capacity"))
                .col(big_integer("created_at"))
                .col(string("created_by"))
                .col(big_integer("updated_at"))
                .col(integer("version"))
                .check(Expr::col("level").between(2, 5))
                .check(Expr::col("capacity").between(1, 500))
                .check(Expr::col("starts_on").lte(Expr::col("ends_on")))
                .foreign_key(&mut fk("training_class", "campaign_id", "campaign", "id"))
                .to_owned(),
        )
        .await?;
        // The officer's list: the agency's classes of the campaign, by start date.
        m.create_index(index("training_class", "ix_training_class_agency", &["campaign_id", "agency_code", "starts_on"])).await?;
        m.create_table(
            table("training_enrolment")
                .col(big_pk_auto("id"))
                .col(big_integer("class_id"))
                .col(big_integer("application_id"))
                .col(big_integer("enrolled_at"))
                .col(string("enrolled_by"))
                .foreign_key(&mut fk("training_enrolment", "class_id", "training_class", "id"))
                .foreign_key(&mut fk("training_enrolment", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("training_enrolment", "ux_training_enrolment_class", &["class_id", "application_id"])).await?;
        m.create_index(unique_index("training_enrolment", "ux_training_enrolment_application", &["application_id"])).await?;
        m.create_table(
            table("training_attendance")
                .col(big_pk_auto("id"))
                .col(big_integer("class_id"))
                .col(big_integer("application_id"))
                .col(string("day"))
                .col(string("mark"))
                .col(big_integer("recorded_at"))
                .col(string("recorded_by"))
                .check(Expr::col("mark").is_in(["present", "absent", "excused"]))
                .foreign_key(&mut fk("training_attendance", "class_id", "training_class", "id"))
                .foreign_key(&mut fk("training_attendance", "application_id", "application", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("training_attendance", "ux_training_attendance_day", &["class_id", "application_id", "day"])).await?;
        // The applicant's page reads their own marks.
        m.create_index(index("training_attendance", "ix_training_attendance_application", &["application_id", "day"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Computer-based delivery (人机对话考试): each room's clock per sitting and its access code
/// (`sitting_room`), one attempt per seat (`exam_attempt`: the candidate's session, status,
/// recorded shuffle seed, extension, the objective score and the signed receipt), the answers
/// (`attempt_response`: one row per item, the highest sequence number wins), and what the
/// proctors did (`proctor_event`: start, pause, extension, absence, violation, seat move).
struct M0016Delivery;

impl MigrationName for M0016Delivery {
    fn name(&self) -> &str {
        "m0016_delivery"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0016Delivery {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("sitting_room")
                .col(big_pk_auto("id"))
                .col(big_integer("sitting_id"))
                .col(big_integer("room_id"))
                .col(string("access_code"))
                .col(big_integer_null("started_at"))
                .col(string_null("started_by"))
                .col(big_integer_null("paused_at"))
                .col(big_integer("paused_total_ms").default(0))
                .col(text("record").default(""))
                .col(integer("version"))
                .foreign_key(&mut fk("sitting_room", "sitting_id", "sitting", "id"))
                .foreign_key(&mut fk("sitting_room", "room_id", "exam_room", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("sitting_room", "ux_sitting_room", &["sitting_id", "room_id"])).await?;
        m.create_table(
            table("exam_attempt")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("seat_assignment_id"))
                .col(big_integer("sitting_id"))
                .col(big_integer("room_id"))
                .col(big_integer("application_id"))
                .col(big_integer_null("form_id"))
                .col(string("candidate_seed"))
                .col(string("status"))
                .col(string_null("session_hash"))
                .col(big_integer_null("logged_in_at"))
                .col(big_integer_null("confirmed_at"))
                .col(big_integer_null("began_at"))
                .col(big_integer("extension_ms").default(0))
                .col(integer("seat"))
                .col(big_integer_null("submitted_at"))
                .col(string_null("submitted_by"))
                .col(integer_null("objective_tenths"))
                .col(integer_null("answered"))
                .col(integer_null("for_marking"))
                .col(text_null("item_scores"))
                .col(text_null("key_versions"))
                .col(string_null("receipt_digest"))
                .col(string_null("receipt_signature"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .check(Expr::col("status").is_in(["waiting", "answering", "submitted", "absent", "ended"]))
                .foreign_key(&mut fk("exam_attempt", "seat_assignment_id", "seat_assignment", "id"))
                .foreign_key(&mut fk("exam_attempt", "sitting_id", "sitting", "id"))
                .foreign_key(&mut fk("exam_attempt", "application_id", "application", "id"))
                .foreign_key(&mut fk("exam_attempt", "form_id", "paper_form", "id"))
                .to_owned(),
        )
        .await?;
        // The proctor's console reads a room; the clock's sweep finds attempts still open.
        m.create_index(index("exam_attempt", "ix_attempt_room", &["sitting_id", "room_id"])).await?;
        m.create_index(index("exam_attempt", "ix_attempt_status", &["status", "sitting_id"])).await?;
        m.create_index(index("exam_attempt", "ix_attempt_session", &["session_hash"])).await?;
        m.create_table(
            table("attempt_response")
                .col(big_integer("attempt_id"))
                .col(integer("position"))
                .col(text("answer"))
                .col(boolean("flagged"))
                .col(big_integer("seq"))
                .col(big_integer("saved_at"))
                .primary_key(Index::create().col("attempt_id").col("position"))
                .foreign_key(&mut fk("attempt_response", "attempt_id", "exam_attempt", "id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("proctor_event")
                .col(big_pk_auto("id"))
                .col(big_integer("sitting_id"))
                .col(big_integer("room_id"))
                .col(big_integer_null("attempt_id"))
                .col(string("kind"))
                .col(string_null("category"))
                .col(integer_null("minutes"))
                .col(text("reason"))
                .col(string("actor"))
                .col(big_integer("at"))
                .foreign_key(&mut fk("proctor_event", "sitting_id", "sitting", "id"))
                .foreign_key(&mut fk("proctor_event", "attempt_id", "exam_attempt", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("proctor_event", "ix_proctor_event_room", &["sitting_id", "room_id", "at"])).await?;
        // A candidate logs in at the seat with the ticket number alone (no agency known yet).
        m.create_index(index("seat_assignment", "ix_seat_ticket_only", &["ticket_no"])).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// Practice (模拟练习): each item's pool (`item.pool`: `exam`, the real exam's pool that
/// assembly draws from, or `practice`; every item written before this migration is an exam
/// item), and the practice attempts of candidates in training classes (`practice_attempt`: the
/// subject, the recorded seed, the items drawn at their versions, the score after submission)
/// with their answers (`practice_response`, the highest sequence number winning). Practice never
/// writes to the exam's tables, and the exam's never read these.
struct M0017Practice;

impl MigrationName for M0017Practice {
    fn name(&self) -> &str {
        "m0017_practice"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0017Practice {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("item")
                .add_column(
                    ColumnDef::new("pool")
                        .string()
                        .not_null()
                        .default("exam")
                        .check(Expr::col("pool").is_in(["exam", "practice"]))
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        // Assembly and practice each select the active items of one pool and cell.
        m.create_index(index("item", "ix_item_pool_cell", &["pool", "subject", "level", "work_type", "status"])).await?;
        m.create_table(
            table("practice_attempt")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("application_id"))
                .col(big_integer("applicant_id"))
                .col(string("subject"))
                .col(integer("level"))
                .col(string("work_type"))
                .col(string("seed"))
                .col(text("items"))
                .col(string("scoring"))
                .col(integer("total_tenths"))
                .col(string("status"))
                .col(big_integer("started_at"))
                .col(big_integer_null("submitted_at"))
                .col(integer_null("objective_tenths"))
                .col(integer_null("objective_total_tenths"))
                .col(integer_null("answered"))
                .col(integer_null("for_marking"))
                .col(text_null("item_scores"))
                .col(big_integer("updated_at"))
                .check(Expr::col("status").is_in(["answering", "submitted"]))
                .foreign_key(&mut fk("practice_attempt", "campaign_id", "campaign", "id"))
                .foreign_key(&mut fk("practice_attempt", "application_id", "application", "id"))
                .foreign_key(&mut fk("practice_attempt", "applicant_id", "applicant", "id"))
                .to_owned(),
        )
        .await?;
        // The applicant's list of their own attempts, newest first.
        m.create_index(index("practice_attempt", "ix_practice_attempt_applicant", &["applicant_id", "id"])).await?;
        m.create_table(
            table("practice_response")
                .col(big_integer("attempt_id"))
                .col(integer("position"))
                .col(text("answer"))
                .col(boolean("flagged"))
                .col(big_integer("seq"))
                .col(big_integer("saved_at"))
                .primary_key(Index::create().col("attempt_id").col("position"))
                .foreign_key(&mut fk("practice_response", "attempt_id", "practice_attempt", "id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}

/// The exam's answers clustered by attempt on SQLite: `attempt_response` rebuilt as a
/// `WITHOUT ROWID` table, so a save finds and rewrites its row in the one B-tree of the primary
/// key (attempt, position) instead of looking the row up in the key's index and then in the
/// rowid table. The single writer spends less per answer, and one candidate's answers sit
/// together. The columns and constraints are those of m0016; PostgreSQL has no rowid table and
/// is left as it is. One transaction on both engines, so the rebuild is whole or not at all.
struct M0018AnswersClustered;

impl MigrationName for M0018AnswersClustered {
    fn name(&self) -> &str {
        "m0018_answers_clustered"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0018AnswersClustered {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
            return Ok(());
        }
        for sql in [
            "CREATE TABLE \"attempt_response_rebuilt\" ( \"attempt_id\" integer NOT NULL, \"position\" integer NOT NULL, \
             \"answer\" text NOT NULL, \"flagged\" boolean NOT NULL, \"seq\" integer NOT NULL, \"saved_at\" integer NOT NULL, \
             PRIMARY KEY (\"attempt_id\", \"position\"), \
             FOREIGN KEY (\"attempt_id\") REFERENCES \"exam_attempt\" (\"id\") ON DELETE RESTRICT ) WITHOUT ROWID",
            "INSERT INTO attempt_response_rebuilt (attempt_id, position, answer, flagged, seq, saved_at) \
             SELECT attempt_id, position, answer, flagged, seq, saved_at FROM attempt_response",
            "DROP TABLE attempt_response",
            "ALTER TABLE attempt_response_rebuilt RENAME TO attempt_response",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("迁移不可回退：请从备份恢复".to_owned()))
    }
}
