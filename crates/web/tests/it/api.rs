//! The JSON API: bearer tokens scoped like a role, errors as JSON, the OpenAPI document.
use gongkao_web::services::{Actor, tokens};

use crate::kit::TestApp;

#[tokio::test]
async fn bearer_token_is_scoped_like_its_role_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    let admin = Actor::system("test");
    let (id, token) = tokens::create(&app.state, &admin, "政务服务网", "agency_reviewer", "410100").await.unwrap();
    let c = app.client();
    let r = c.get(app.url("/api/v1/units")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|u| u["agency_code"] == "410100"), "{body}");
    // Asking for another city's units gives nothing from it.
    let r: serde_json::Value =
        c.get(app.url("/api/v1/units?agency=410200")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["total"], 0);
    // A token cannot do what its role cannot: the audit log is not an API of an agency.
    let r = c.get(app.url("/api/v1/campaign")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Revoked: 401 as JSON with a Chinese message.
    tokens::revoke(&app.state, &admin, id).await.unwrap();
    let r = c.get(app.url("/api/v1/units")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unauthenticated");
    assert!(err["error"]["message"].as_str().unwrap().contains("登录"));
    // A made-up token too.
    let r = c.get(app.url("/api/v1/units")).bearer_auth("gk_not-a-token").send().await.unwrap();
    assert_eq!(r.status(), 401);
    app.cleanup().await;
}

#[tokio::test]
async fn token_creation_validates_every_field() {
    let app = TestApp::spawn().await;
    let err = tokens::create(&app.state, &Actor::system("test"), "x", "system_admin", "999999").await.err().unwrap();
    let gongkao_web::error::AppError::Invalid(fields) = err else { panic!("expected field errors") };
    assert!(fields.get("name").is_some());
    assert!(fields.get("role").is_some());
    assert!(fields.get("agency_code").is_some());
    assert!(gongkao_storage::misc::api_tokens(app.state.store().conn()).await.unwrap().is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.client().get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"].as_str().unwrap().chars().next(), Some('3'));
    for path in ["/api/v1/campaign", "/api/v1/agencies", "/api/v1/units"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Every API route of the table is documented.
    for spec in gongkao_web::routes::table() {
        if spec.path.starts_with("/api/v1/") {
            assert!(doc["paths"][spec.path].is_object(), "{} is not in the OpenAPI document", spec.path);
        }
    }
    let page = app.client().get(app.url("/api/docs")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("GET /api/v1/units"));
    app.cleanup().await;
}
