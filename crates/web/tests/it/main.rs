//! HTTP integration tests: the real router on a real socket against a real database (SQLite by
//! default, PostgreSQL when GONGKAO_TEST_DATABASE_URL is set; each test gets its own database).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod applications;
mod bulk;
mod delivery;
mod eligibility;
mod exam_sites;
mod fees;
mod files;
mod flows;
mod items;
mod jobs;
mod kit;
mod matrix;
mod migrations;
mod papers;
mod practice;
mod review;
mod training;
