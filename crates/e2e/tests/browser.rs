//! Browser tests of the login UI contract, in headless Chromium through chromedriver.
//!
//! One `gongkao demo` server (seeding the demo takes a while) and one chromedriver serve every
//! scenario; each scenario gets a fresh browser session. All scenarios run, then the test fails
//! listing every failed one, with a screenshot and the page source of each, and the server log.
//!
//! `GONGKAO_E2E_ONLY=<text>` runs only the scenarios whose name contains `<text>`.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use support::{Context, Driver, Outcome, Server, count_css, wait_css, wait_path};

const PASSWORD: &str = "Gongkao@2020";
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);

struct Account {
    username: &'static str,
    role: &'static str,
    label: &'static str,
}

const fn account(username: &'static str, role: &'static str, label: &'static str) -> Account {
    Account { username, role, label }
}

/// The demo accounts and the role each one lands in.
const ACCOUNTS: &[Account] = &[
    account("sysadmin", "system_admin", "系统管理员"),
    account("secadmin", "security_admin", "安全保密管理员"),
    account("auditadmin", "audit_admin", "安全审计员"),
    account("prov.reviewer", "agency_reviewer", "工考管理机构审核员"),
    account("zz.reviewer", "agency_reviewer", "工考管理机构审核员"),
    account("zz.cashier", "agency_cashier", "工考管理机构收费员"),
    account("zz.examofficer", "agency_exam_officer", "工考管理机构考务员"),
    account("zz.chief", "centre_chief", "考点主考"),
    account("zz.proctor", "proctor", "监考员"),
    account("zz.tech", "site_technician", "考点技术员"),
    account("examiner", "examiner", "考评员"),
    account("expert", "panel_expert", "综合评审专家"),
    account("unitadmin", "unit_admin", "单位管理员"),
    account("demo.applicant", "applicant", "申报人员"),
];

struct Suite {
    server: Server,
    driver: Driver,
    artifacts: PathBuf,
    only: Option<String>,
    results: Vec<(String, Outcome, Duration)>,
}

impl Suite {
    /// Runs one scenario in a fresh browser session and records its outcome.
    async fn scenario(&mut self, name: &str, body: impl AsyncFnOnce(&Client, &Server) -> Outcome) {
        if let Some(only) = &self.only
            && !name.contains(only.as_str())
        {
            return;
        }
        let started = Instant::now();
        let outcome = match self.driver.new_browser().await {
            Err(e) => Err(e),
            Ok(browser) => {
                let run = tokio::time::timeout(SCENARIO_TIMEOUT, body(&browser.client, &self.server));
                let mut outcome = match run.await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(format!("did not finish within {SCENARIO_TIMEOUT:?}")),
                };
                if let Err(message) = &mut outcome {
                    for line in browser.save_evidence(&self.artifacts, name).await {
                        message.push_str("\n    ");
                        message.push_str(&line);
                    }
                }
                browser.close().await;
                outcome
            }
        };
        let took = started.elapsed();
        match &outcome {
            Ok(()) => eprintln!("e2e: ok      {name} ({:.1}s)", took.as_secs_f64()),
            Err(e) => eprintln!("e2e: FAILED  {name} ({:.1}s)\n    {e}", took.as_secs_f64()),
        }
        self.results.push((name.to_owned(), outcome, took));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and a built gongkao binary: run by .ci/run with --ignored"]
async fn login_ui_in_chromium() {
    // Chromium and chromedriver first: they are the cheap, likely-missing part.
    let driver = match Driver::start() {
        Ok(driver) => driver,
        Err(e) => panic!("browser tests cannot run: {e}"),
    };
    let server = match Server::start() {
        Ok(server) => server,
        Err(e) => panic!("browser tests cannot run: {e}"),
    };
    let mut suite = Suite {
        server,
        driver,
        artifacts: support::artifacts_dir(),
        only: std::env::var("GONGKAO_E2E_ONLY").ok().filter(|s| !s.is_empty()),
        results: Vec::new(),
    };

    for account in ACCOUNTS {
        let name = format!("login-logout {}", account.username);
        suite.scenario(&name, async |c: &Client, s: &Server| login_logout(c, s, account).await).await;
    }
    suite.scenario("wrong password", wrong_password).await;
    suite.scenario("keyboard-only login", keyboard_only_login).await;
    suite.scenario("login page fits 1366x768", login_page_fits).await;
    for (user, path) in WIDE_PAGES {
        let name = format!("{path} fits 1366x768 for {user}");
        suite.scenario(&name, async |c: &Client, s: &Server| page_fits(c, s, user, path).await).await;
    }
    suite.scenario("unit-admin onboarding (附件2)", onboarding).await;
    suite.scenario("registration, unit initial review and agency review", registration_and_review).await;
    suite.scenario("item bank: write, submit, second-person review", item_review).await;
    suite.scenario("admission ticket: pledge and seat move", ticket_pledge_and_seat_move).await;
    suite.scenario("practice (模拟练习): keyboard answers, submission, feedback", practice).await;
    // Last: it moves the server's clock to the exam day by restarting it.
    suite.scenario("computer-based exam: reload, server killed, offline answers, receipt", exam_day).await;

    let failed: Vec<&(String, Outcome, Duration)> = suite.results.iter().filter(|(_, o, _)| o.is_err()).collect();
    eprintln!("e2e: {} scenarios, {} passed, {} failed", suite.results.len(), suite.results.len() - failed.len(), failed.len());
    if !failed.is_empty() {
        let log = suite.server.log_path.clone();
        let kept = suite.artifacts.join("gongkao.log");
        if std::fs::create_dir_all(&suite.artifacts).is_ok() && std::fs::copy(&log, &kept).is_ok() {
            eprintln!("e2e: server log kept at {}", kept.display());
        }
        suite.server.show_log();
        let mut report = String::new();
        for (name, outcome, _) in &failed {
            if let Err(e) = outcome {
                report.push_str(&format!("\n- {name}: {e}"));
            }
        }
        panic!("{} browser scenario(s) failed:{report}", failed.len());
    }
    assert!(!suite.results.is_empty(), "no browser scenario ran (GONGKAO_E2E_ONLY={:?})", suite.only);
}

// ---------------------------------------------------------------------------------------------
// Steps

/// Opens /login and checks the form contract: fields, hidden CSRF token, submit button.
async fn open_login(c: &Client, s: &Server) -> Outcome {
    c.goto(&s.url("/login")).await.ctx("opening /login")?;
    wait_css(c, "input#username[name=username]").await?;
    let password = wait_css(c, "input#password[name=password]").await?;
    let kind = password.attr("type").await.ctx("reading #password type")?;
    if kind.as_deref() != Some("password") {
        return Err(format!("#password has type {kind:?}, expected \"password\""));
    }
    let csrf = wait_css(c, "input[name=csrf_token]").await?;
    let csrf_kind = csrf.attr("type").await.ctx("reading csrf_token type")?;
    let csrf_value = csrf.prop("value").await.ctx("reading csrf_token value")?;
    if csrf_kind.as_deref() != Some("hidden") || csrf_value.unwrap_or_default().trim().is_empty() {
        return Err(format!("the login form needs a hidden, non-empty csrf_token input (type {csrf_kind:?})"));
    }
    let submit = wait_css(c, "button#login-submit").await?;
    let submit_type = submit.attr("type").await.ctx("reading #login-submit type")?;
    if submit_type.as_deref() != Some("submit") {
        return Err(format!("#login-submit has type {submit_type:?}, expected \"submit\""));
    }
    Ok(())
}

async fn fill_and_submit(c: &Client, username: &str, password: &str) -> Outcome {
    let user = c.find(Locator::Id("username")).await.ctx("finding #username")?;
    user.clear().await.ctx("clearing #username")?;
    user.send_keys(username).await.ctx("typing into #username")?;
    let pass = c.find(Locator::Id("password")).await.ctx("finding #password")?;
    pass.clear().await.ctx("clearing #password")?;
    pass.send_keys(password).await.ctx("typing into #password")?;
    c.find(Locator::Id("login-submit")).await.ctx("finding #login-submit")?.click().await.ctx("clicking #login-submit")
}

/// After a login: on `/`, `main[data-role=<role>]`, `#current-user` shows name and role label.
async fn expect_home(c: &Client, account: &Account) -> Outcome {
    let main = wait_css(c, "main[data-role]")
        .await
        .map_err(|e| format!("{} did not land on a page with main[data-role]: {e}", account.username))?;
    wait_path(c, "/").await?;
    let role = main.attr("data-role").await.ctx("reading main[data-role]")?;
    if role.as_deref() != Some(account.role) {
        return Err(format!("{}: main has data-role={role:?}, expected {:?}", account.username, account.role));
    }
    let who = wait_css(c, "#current-user").await?;
    let text = who.text().await.ctx("reading #current-user")?;
    if !text.contains(account.label) {
        return Err(format!("{}: #current-user reads {text:?}, which lacks the role label {:?}", account.username, account.label));
    }
    // Besides the role label, the display name must be shown.
    let rest = text.replacen(account.label, "", 1);
    if !rest.chars().any(char::is_alphanumeric) {
        return Err(format!("{}: #current-user reads {text:?}: no display name besides the role label", account.username));
    }
    Ok(())
}

/// Whether the browser has a session: `/` must not show a signed-in page.
async fn expect_signed_out(c: &Client, s: &Server, when: &str) -> Outcome {
    c.goto(&s.url("/")).await.ctx("opening /")?;
    let mains = count_css(c, "main[data-role]").await?;
    let logouts = count_css(c, "#logout").await?;
    if mains + logouts > 0 {
        let url = c.current_url().await.ctx("reading the current URL")?;
        return Err(format!("{when}, / ({url}) still shows a signed-in page (main[data-role]: {mains}, #logout: {logouts})"));
    }
    Ok(())
}

async fn logout(c: &Client) -> Outcome {
    let button = wait_css(c, "button#logout").await?;
    let method = c
        .execute(
            "const f = document.getElementById('logout').closest('form'); \
             return f ? (f.getAttribute('method') || 'get').toLowerCase() : null;",
            vec![],
        )
        .await
        .ctx("inspecting the form of #logout")?;
    if method.as_str() != Some("post") {
        return Err(format!("#logout must sit in a POST form; its form method is {method}"));
    }
    button.click().await.ctx("clicking #logout")?;
    wait_path(c, "/login").await?;
    wait_css(c, "#username").await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn login_logout(c: &Client, s: &Server, account: &Account) -> Outcome {
    open_login(c, s).await?;
    fill_and_submit(c, account.username, PASSWORD).await?;
    expect_home(c, account).await?;
    logout(c).await?;
    expect_signed_out(c, s, "after logout").await
}

async fn wrong_password(c: &Client, s: &Server) -> Outcome {
    open_login(c, s).await?;
    fill_and_submit(c, "sysadmin", "Not-The-Password-1").await?;
    let error = wait_css(c, ".form-error").await?;
    let text = error.text().await.ctx("reading .form-error")?;
    if !text.contains("用户名或密码错误") {
        return Err(format!(".form-error reads {text:?}, expected it to contain \"用户名或密码错误\""));
    }
    wait_path(c, "/login").await?;
    if count_css(c, "main[data-role]").await? > 0 {
        return Err("a wrong password showed a signed-in page".into());
    }
    expect_signed_out(c, s, "after a wrong password").await
}

/// Focus #username, type, Tab to #password, type, Enter: signed in without the mouse.
async fn keyboard_only_login(c: &Client, s: &Server) -> Outcome {
    let account = ACCOUNTS.iter().find(|a| a.username == "zz.chief").ok_or("zz.chief is missing from ACCOUNTS")?;
    open_login(c, s).await?;
    let focused = c
        .execute(
            "document.getElementById('username').focus(); \
             return document.activeElement ? document.activeElement.id : null;",
            vec![],
        )
        .await
        .ctx("focusing #username")?;
    if focused.as_str() != Some("username") {
        return Err(format!("could not focus #username (active element: {focused})"));
    }
    type_keys(c, account.username, Some(Key::Tab)).await?;
    let active = focused_element(c).await?;
    if active != "input#password" {
        return Err(format!("Tab from #username moved focus to {active:?}, expected input#password"));
    }
    type_keys(c, PASSWORD, Some(Key::Enter)).await?;
    expect_home(c, account).await
}

async fn login_page_fits(c: &Client, s: &Server) -> Outcome {
    open_login(c, s).await?;
    let sizes = c
        .execute("return [document.documentElement.scrollWidth, window.innerWidth, window.innerHeight];", vec![])
        .await
        .ctx("measuring the login page")?;
    let numbers: Vec<f64> = sizes.as_array().map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect()).unwrap_or_default();
    let [scroll_width, inner_width, inner_height] = numbers[..] else {
        return Err(format!("unexpected measurement {sizes}"));
    };
    // Make sure we measured the intended window, or the check below would prove nothing.
    if !(1300.0..=1366.0).contains(&inner_width) || !(500.0..=768.0).contains(&inner_height) {
        return Err(format!("the browser viewport is {inner_width}×{inner_height}, expected about 1366×768"));
    }
    if scroll_width > inner_width {
        return Err(format!("the login page scrolls sideways at 1366×768: scrollWidth {scroll_width} > innerWidth {inner_width}"));
    }
    Ok(())
}

/// The widest staff pages, each with an account that sees all of it.
const WIDE_PAGES: [(&str, &str); 11] = [
    ("demo.applicant", "/application"),
    ("demo.candidate", "/application/ticket"),
    ("zz.examofficer", "/seating"),
    ("item.reviewer", "/items"),
    ("item.reviewer", "/blueprints"),
    ("unitadmin", "/unit-applications"),
    ("zz.reviewer", "/units"),
    ("zz.reviewer", "/"),
    ("prov.examofficer", "/campaign"),
    ("auditadmin", "/audit"),
    ("sysadmin", "/accounts"),
];

async fn signed_in(c: &Client, s: &Server, username: &str, password: &str) -> Outcome {
    open_login(c, s).await?;
    fill_and_submit(c, username, password).await?;
    wait_css(c, "main[data-role]").await.map(|_| ())
}

async fn fits(c: &Client, what: &str) -> Outcome {
    let sizes = c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.ctx("measuring the page")?;
    let numbers: Vec<f64> = sizes.as_array().map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect()).unwrap_or_default();
    let [scroll_width, inner_width] = numbers[..] else {
        return Err(format!("unexpected measurement {sizes}"));
    };
    if scroll_width > inner_width {
        return Err(format!("{what} scrolls sideways at 1366×768: scrollWidth {scroll_width} > innerWidth {inner_width}"));
    }
    Ok(())
}

async fn page_fits(c: &Client, s: &Server, user: &str, path: &str) -> Outcome {
    signed_in(c, s, user, PASSWORD).await?;
    c.goto(&s.url(path)).await.ctx("opening the page")?;
    wait_css(c, "main[data-role] h1").await?;
    fits(c, path).await
}

/// The demo has a pending 附件2 form from 郑州市城市照明管理处: the 郑州 reviewer approves it,
/// the new unit admin signs in with the one-time password, must set a new one, and then lands
/// on the unit admin's home page.
async fn onboarding(c: &Client, s: &Server) -> Outcome {
    signed_in(c, s, "zz.reviewer", PASSWORD).await?;
    c.goto(&s.url("/unit-admin-requests")).await.ctx("opening the forms")?;
    let link = c.find(Locator::LinkText("DJ202000001")).await.ctx("finding form DJ202000001 in the list")?;
    link.click().await.ctx("opening the form")?;
    let page = c.source().await.ctx("reading the form page")?;
    if !page.contains("郑州市城市照明管理处") {
        return Err("the form page does not show the unit".into());
    }
    if page.contains("开封市市政设施管理处") {
        return Err("the 郑州 reviewer can see 开封's form".into());
    }
    c.find(Locator::Css("form[action$='/approve'] button")).await.ctx("finding the approve button")?.click().await.ctx("approving")?;
    let username = wait_css(c, "#secret-subject").await?.text().await.ctx("reading the user name")?;
    let otp = wait_css(c, "#secret").await?.text().await.ctx("reading the one-time password")?;
    if otp.trim().chars().count() < 10 {
        return Err(format!("one-time password {otp:?} is too short"));
    }
    logout(c).await?;
    open_login(c, s).await?;
    fill_and_submit(c, username.trim(), otp.trim()).await?;
    wait_path(c, "/account/password").await?;
    wait_css(c, ".warn").await?;
    // Anything else is refused until the password is changed.
    c.goto(&s.url("/units")).await.ctx("trying another page")?;
    wait_path(c, "/account/password").await?;
    let new_password = "Zhaoming-2020!";
    for (id, value) in [("current_password", otp.trim()), ("new_password", new_password), ("confirm_password", new_password)] {
        c.find(Locator::Id(id)).await.ctx(format!("finding #{id}"))?.send_keys(value).await.ctx(format!("typing #{id}"))?;
    }
    c.find(Locator::Css("form[action='/account/password'] button[type=submit]")).await.ctx("finding save")?.click().await.ctx("saving")?;
    wait_path(c, "/login").await?;
    fill_and_submit(c, username.trim(), new_password).await?;
    let main = wait_css(c, "main[data-role]").await?;
    let role = main.attr("data-role").await.ctx("reading the role")?;
    if role.as_deref() != Some("unit_admin") {
        return Err(format!("the new account landed as {role:?}, expected unit_admin"));
    }
    c.goto(&s.url("/units")).await.ctx("opening the own unit")?;
    let h1 = wait_css(c, "h1").await?.text().await.ctx("reading the heading")?;
    if !h1.contains("郑州市城市照明管理处") {
        return Err(format!("the unit admin's unit page reads {h1:?}"));
    }
    Ok(())
}

/// The demo applicant files (or finds filed) an application and submits it with the pledge; the
/// unit admin confirms each fact against the personnel file and approves; the 郑州 reviewer
/// approves it online. Each step is read back from the page the next person sees.
async fn registration_and_review(c: &Client, s: &Server) -> Outcome {
    signed_in(c, s, "demo.applicant", PASSWORD).await?;
    c.goto(&s.url("/application")).await.ctx("opening the application")?;
    let status = wait_css(c, "#application-status").await?.text().await.ctx("reading the status")?;
    if status.contains("尚未填写") || status.contains("草稿") {
        // Date inputs take typed text differently per locale, so the values are set directly.
        let fill = r#"
            const v = {target_level: "4", staff_type: "在岗正式工作人员", in_post: "是", work_start_date: "1995-07-01",
                       regularised_on: "1996-07-01", education: "高中", current_work_type: "绿化工"};
            for (const [k, x] of Object.entries(v)) { const e = document.getElementById(k); if (e) e.value = x; }
        "#;
        c.execute(fill, vec![]).await.ctx("filling the form")?;
        c.find(Locator::Id("save-application")).await.ctx("finding save")?.click().await.ctx("saving")?;
        wait_css(c, "section.trace").await.ctx("the saved application shows its eligibility trace")?;
        // A portrait photo, uploaded through the page's file input as a candidate would.
        let dir = tempfile::tempdir().ctx("a folder for the photo")?;
        let path = dir.path().join("证件照.png");
        image::RgbImage::from_fn(590, 826, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 180]))
            .save(&path)
            .ctx("writing the photo")?;
        c.find(Locator::Id("photo-file"))
            .await
            .ctx("finding the photo input")?
            .send_keys(&path.to_string_lossy())
            .await
            .ctx("choosing the photo")?;
        c.find(Locator::Css("form[action='/application/photo'] button[type=submit]"))
            .await
            .ctx("finding the photo upload button")?
            .click()
            .await
            .ctx("uploading the photo")?;
        wait_css(c, ".photo-box img").await.ctx("the uploaded photo is shown")?;
        c.find(Locator::Id("pledge")).await.ctx("finding the pledge")?.click().await.ctx("ticking the pledge")?;
        c.find(Locator::Id("submit-application")).await.ctx("finding submit")?.click().await.ctx("submitting")?;
    }
    // The submit navigates: read the status once the new page is there.
    let mut seen = String::new();
    let mut id = String::new();
    for _ in 0..50 {
        if let Ok(el) = c.find(Locator::Id("application-status")).await
            && let Ok(text) = el.text().await
        {
            seen = text;
            if seen.contains("已提交") {
                id = el.attr("data-application").await.ctx("reading the application id")?.unwrap_or_default();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if id.is_empty() {
        return Err(format!("after submitting, the status reads {seen:?}"));
    }
    logout(c).await?;

    signed_in(c, s, "unitadmin", PASSWORD).await?;
    c.goto(&s.url("/unit-applications")).await.ctx("opening the unit's list")?;
    let link = format!("a[href='/applications/{id}']");
    wait_css(c, &link).await.ctx("the submitted application is in the unit's list")?.click().await.ctx("opening it")?;
    for check in c.find_all(Locator::Css("input[name=checked]")).await.ctx("finding the checks")? {
        check.click().await.ctx("confirming a fact against the personnel file")?;
    }
    c.find(Locator::Css("button[name=decision][value=approve]")).await.ctx("finding approve")?.click().await.ctx("approving")?;
    page_shows(c, &["单位初审通过", "与人事档案一致"], "after the unit's approval").await?;
    logout(c).await?;

    signed_in(c, s, "zz.reviewer", PASSWORD).await?;
    c.goto(&s.url("/agency-applications")).await.ctx("opening the agency's list")?;
    fits(c, "/agency-applications").await?;
    c.goto(&s.url(&format!("/applications/{id}"))).await.ctx("opening the application")?;
    c.find(Locator::Css("form[action$='/agency-decision'] button[value=approve]"))
        .await
        .ctx("finding the agency's approve")?
        .click()
        .await
        .ctx("approving online")?;
    page_shows(c, &["网上资格审查通过"], "after the agency's approval").await
}

/// A writer drafts a single-choice item in the form and submits it; the writer cannot approve
/// it, a second reviewer does, and the item is active.
async fn item_review(c: &Client, s: &Server) -> Outcome {
    signed_in(c, s, "item.writer", PASSWORD).await?;
    c.goto(&s.url("/items/new")).await.ctx("opening the item form")?;
    wait_css(c, "#stem").await?;
    let fill = r#"
        const v = {subject: "ethics", level: "4", kind: "single_choice", difficulty: "3", knowledge_point: "职业守则",
                   points: "1", option_a: "爱岗敬业", option_b: "敷衍了事", option_c: "推诿扯皮", option_d: "弄虚作假"};
        for (const [k, x] of Object.entries(v)) { const e = document.getElementById(k); if (e) e.value = x; }
        document.querySelector("input[name=key][value=A]").checked = true;
    "#;
    c.execute(fill, vec![]).await.ctx("filling the item form")?;
    c.find(Locator::Id("stem"))
        .await
        .ctx("finding the stem")?
        .send_keys("浏览器测试：工勤技能人员应当具备的职业态度是")
        .await
        .ctx("typing the stem")?;
    c.find(Locator::Css("form[action='/items'] button[type=submit]")).await.ctx("finding save")?.click().await.ctx("saving the draft")?;
    page_shows(c, &["浏览器测试：工勤技能人员应当具备的职业态度是", "草稿"], "after saving the item").await?;
    let item_path = c.current_url().await.ctx("reading the item's address")?.path().to_owned();
    c.find(Locator::Id("submit-review")).await.ctx("finding submit for review")?.click().await.ctx("submitting for review")?;
    page_shows(c, &["待审核"], "after submitting the item").await?;
    logout(c).await?;

    signed_in(c, s, "item.reviewer", PASSWORD).await?;
    c.goto(&s.url(&item_path)).await.ctx("opening the submitted item")?;
    wait_css(c, "#approve").await.ctx("a second person may approve")?.click().await.ctx("approving")?;
    page_shows(c, &["已启用", "item.reviewer"], "after the review").await
}

/// The seated demo candidate signs the pledge (refused unticked, then with the keyboard); the
/// exam officer moves them to a spare seat with a reason; the candidate's page shows the new seat.
async fn ticket_pledge_and_seat_move(c: &Client, s: &Server) -> Outcome {
    signed_in(c, s, "demo.candidate", PASSWORD).await?;
    c.goto(&s.url("/application/ticket")).await.ctx("opening the ticket page")?;
    let ticket = wait_css(c, "#ticket-number").await?.text().await.ctx("reading the ticket number")?;
    if ticket.len() != 17 {
        return Err(format!("the ticket number reads {ticket:?}"));
    }
    page_shows(c, &["考生承诺书", "当前不在打印时间内"], "on the ticket page at the demo's date").await?;
    c.find(Locator::Id("accept-pledge")).await.ctx("finding the pledge button")?.click().await.ctx("signing unticked")?;
    page_shows(c, &["承诺：请阅读承诺书并勾选"], "after signing unticked").await?;
    c.find(Locator::Id("agree")).await.ctx("finding the tick box")?.send_keys(" ").await.ctx("ticking with the space bar")?;
    c.find(Locator::Id("accept-pledge")).await.ctx("finding the pledge button")?.send_keys("\u{E007}").await.ctx("signing with Enter")?;
    page_shows(c, &["已签署承诺书"], "after signing").await?;
    logout(c).await?;

    signed_in(c, s, "zz.examofficer", PASSWORD).await?;
    c.goto(&s.url("/seating")).await.ctx("opening the seating page")?;
    wait_css(c, "#move-seat").await?;
    // The last room's last seat is a spare, free after automatic seating.
    let pick = r#"
        const rooms = document.getElementById("room_id");
        rooms.selectedIndex = rooms.options.length - 1;
        const m = rooms.options[rooms.selectedIndex].text.match(/（(\d+)座/);
        document.getElementById("seat").value = m ? m[1] : "";
        return [rooms.options[rooms.selectedIndex].text.split(" ")[1].split("（")[0], m ? m[1] : ""];
    "#;
    let picked = c.execute(pick, vec![]).await.ctx("choosing the room")?;
    let (room, seat) = match picked.as_array().map(|a| a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>()) {
        Some(v) if v.len() == 2 && !v[0].is_empty() && !v[1].is_empty() => (v[0].clone(), format!("<td>{}</td>", v[1])),
        _ => return Err(format!("no room to move to: {picked:?}")),
    };
    c.find(Locator::Id("ticket_no")).await.ctx("finding the ticket field")?.send_keys(&ticket).await.ctx("typing the ticket")?;
    c.find(Locator::Id("reason")).await.ctx("finding the reason")?.send_keys("考位电脑故障").await.ctx("typing the reason")?;
    c.find(Locator::Id("move-seat")).await.ctx("finding move")?.click().await.ctx("moving the seat")?;
    page_shows(c, &["座位已调整。"], "after the move").await?;
    logout(c).await?;

    signed_in(c, s, "demo.candidate", PASSWORD).await?;
    c.goto(&s.url("/application/ticket")).await.ctx("opening the ticket page again")?;
    page_shows(c, &[room.as_str(), seat.as_str(), ticket.as_str(), "您已于"], "on the ticket page after the move").await
}

/// The text between `from` and `to` in the demo's start-up lines.
fn between(text: &str, from: &str, to: &str) -> Outcome<String> {
    let start = text.find(from).ok_or_else(|| format!("the demo log does not say {from:?}"))? + from.len();
    let len = text[start..].find(to).ok_or_else(|| format!("the demo log has nothing after {from:?} up to {to:?}"))?;
    Ok(text[start..start + len].to_owned())
}

/// Waits (up to `secs`) until the element's text contains `want`.
async fn text_becomes(c: &Client, css: &str, want: &str, secs: u64) -> Outcome {
    let mut last = String::new();
    for _ in 0..secs * 10 {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            last = e.text().await.unwrap_or_default();
            if last.contains(want) {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{css} reads {last:?}, not {want:?}"))
}

/// The exam day with the demo's `demo.candidate`: the server restarts at 10:58 on 2020-07-18,
/// the proctor starts the room, the candidate logs in with ticket, ID number and access code,
/// confirms identity, answers with the keyboard, reloads the page (answers and clock are back);
/// then the server is killed (SIGKILL) and stays down for 30 seconds while the candidate
/// answers: the page keeps the answer in local storage and says so; the server comes back
/// (clock at 11:31) and the queued answer arrives by itself; the candidate submits and sees the
/// receipt; the proctor's console shows the submission.
async fn exam_day(c: &Client, s: &Server) -> Outcome {
    s.restart_at("2020-07-18 10:58", 2)?;
    // Read after the restart: an earlier scenario may have moved the candidate to another room.
    let log = s.restart_log(2);
    let ticket = between(&log, "用准考证号 ", "、")?;
    let id_number = between(&log, "身份证号 ", "、")?;
    let code = between(&log, "考场登录码 ", " 登录")?;
    let console = format!("/proctor/rooms/{}", between(&log, "/proctor/rooms/", " 开考")?);

    signed_in(c, s, "zz.proctor", PASSWORD).await?;
    c.goto(&s.url(&console)).await.ctx("opening the room's console")?;
    wait_css(c, "#room-start").await?.click().await.ctx("starting the room")?;
    page_shows(c, &["本考场已开考", code.as_str()], "after starting the room").await?;
    logout(c).await?;

    c.goto(&s.url("/exam/login")).await.ctx("opening the exam login")?;
    wait_css(c, "#ticket_no").await?.send_keys(&ticket).await.ctx("typing the ticket number")?;
    c.find(Locator::Id("id_number")).await.ctx("finding the ID field")?.send_keys(&id_number).await.ctx("typing the ID number")?;
    c.find(Locator::Id("access_code")).await.ctx("finding the code field")?.send_keys(&code).await.ctx("typing the code")?;
    c.find(Locator::Id("exam-login-submit")).await.ctx("finding login")?.click().await.ctx("logging in")?;
    wait_css(c, "#identity-confirm").await?.click().await.ctx("confirming identity")?;
    wait_css(c, "#goto-1").await.ctx("the paper opens once the room has started")?;
    // Item 1 is a true/false item (they come first): "A" is 正确.
    type_keys(c, "a", None).await?;
    text_becomes(c, "#item-saved", "已保存", 10).await?;
    type_keys(c, "", Some(Key::PageDown)).await?;
    text_becomes(c, "#item-title", "第2题", 5).await?;
    type_keys(c, "b", None).await?;
    text_becomes(c, "#item-saved", "已保存", 10).await?;

    c.refresh().await.ctx("reloading the exam page")?;
    text_becomes(c, "#goto-1", "✓", 10).await.ctx("after the reload, answer 1 is back")?;
    text_becomes(c, "#goto-2", "✓", 5).await.ctx("after the reload, answer 2 is back")?;
    text_becomes(c, "#timer", "剩余时间 1:2", 5).await.ctx("after the reload, the clock is back")?;

    // Power cut on the server side: the page keeps answering into its queue.
    s.kill()?;
    c.find(Locator::Id("goto-3")).await.ctx("finding item 3")?.click().await.ctx("opening item 3")?;
    type_keys(c, "a", None).await?;
    text_becomes(c, "#net", "网络中断，答案已暂存，恢复后自动提交", 15).await?;
    text_becomes(c, "#item-saved", "保存中", 2).await.ctx("an unacknowledged answer is not shown as saved")?;
    let queued = c
        .execute(
            "return JSON.parse(localStorage.getItem('gk-exam-' + document.getElementById('exam').dataset.attempt)).queue.length",
            vec![],
        )
        .await
        .ctx("reading the local queue")?;
    if queued.as_u64() != Some(1) {
        return Err(format!("the local queue holds {queued:?}, not one answer"));
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
    s.restart_at("2020-07-18 11:31", 3)?;
    text_becomes(c, "#item-saved", "已保存", 20).await.ctx("the queued answer arrives after the outage")?;
    text_becomes(c, "#goto-3", "✓", 2).await?;

    c.find(Locator::Id("submit-open")).await.ctx("finding submit")?.click().await.ctx("opening the confirmation")?;
    text_becomes(c, "#confirm-text", "题未作答", 5).await?;
    c.find(Locator::Id("submit-confirm")).await.ctx("finding confirm")?.click().await.ctx("submitting")?;
    wait_path(c, "/exam/receipt").await?;
    page_shows(c, &["交卷回执", "已答 3 题", "答卷摘要（SM3）", ticket.as_str()], "on the receipt").await?;

    signed_in(c, s, "zz.proctor", PASSWORD).await?;
    c.goto(&s.url(&console)).await.ctx("opening the console again")?;
    page_shows(c, &["已交卷", ticket.as_str(), "开考"], "on the console after the submission").await
}

/// Practice with the demo's `demo.candidate` (admitted, in the level-3 training class): the
/// practice page offers the application's subjects; the candidate starts 职业道德, gets the
/// exam's page with a practice paper and the time spent, answers with the keyboard (A–H,
/// PageDown), reloads (the answers are back), submits through the confirmation and sees the
/// score, the keys and each verdict; the attempt is listed with its score.
async fn practice(c: &Client, s: &Server) -> Outcome {
    signed_in(c, s, "demo.candidate", PASSWORD).await?;
    c.find(Locator::Css("nav.main a[href='/practice']"))
        .await
        .ctx("finding 模拟练习 in the menu")?
        .click()
        .await
        .ctx("opening 模拟练习")?;
    wait_path(c, "/practice").await?;
    page_shows(c, &["模拟练习", "职业道德", "职业能力", "练习记录"], "on the practice page").await?;
    wait_css(c, "#start-ethics").await?.click().await.ctx("starting 职业道德")?;
    wait_css(c, "#goto-1").await.ctx("the practice paper opens")?;
    let path = c.current_url().await.ctx("reading the paper's address")?.path().to_owned();
    if !path.starts_with("/practice/") {
        return Err(format!("the paper is at {path}, not under /practice/"));
    }
    text_becomes(c, "#timer", "已用时间", 5).await?;
    text_becomes(c, "#item-title", "第1题", 5).await?;
    // Item 1 is a true/false item (they come first): "A" is 正确.
    type_keys(c, "a", None).await?;
    text_becomes(c, "#item-saved", "已保存", 10).await?;
    type_keys(c, "", Some(Key::PageDown)).await?;
    text_becomes(c, "#item-title", "第2题", 5).await?;
    type_keys(c, "b", None).await?;
    text_becomes(c, "#item-saved", "已保存", 10).await?;
    c.find(Locator::Id("flag")).await.ctx("finding the flag")?.click().await.ctx("flagging item 2")?;
    text_becomes(c, "#goto-2", "⚑", 5).await?;
    type_keys(c, "", Some(Key::PageDown)).await?;
    text_becomes(c, "#item-title", "第3题", 5).await?;
    type_keys(c, "a", None).await?;
    text_becomes(c, "#item-saved", "已保存", 10).await?;

    c.refresh().await.ctx("reloading the practice page")?;
    text_becomes(c, "#goto-1", "✓", 10).await.ctx("after the reload, answer 1 is back")?;
    text_becomes(c, "#goto-2", "✓⚑", 5).await.ctx("after the reload, answer 2 and its flag are back")?;
    text_becomes(c, "#goto-3", "✓", 5).await?;

    c.find(Locator::Id("submit-open")).await.ctx("finding submit")?.click().await.ctx("opening the confirmation")?;
    text_becomes(c, "#confirm-text", "您还有 17 题未作答", 5).await?;
    c.find(Locator::Id("submit-confirm")).await.ctx("finding confirm")?.click().await.ctx("submitting")?;
    wait_path(c, &format!("{path}/feedback")).await?;
    page_shows(
        c,
        &["模拟练习成绩", "已答 3 题，共 20 题", "折合百分制", "正确答案", "未作答", "练习成绩不计入考核结果"],
        "on the feedback",
    )
    .await?;
    let first = c.find(Locator::Css("#feedback-1 .your-answer")).await.ctx("finding item 1's answer")?.text().await.ctx("reading it")?;
    if first.trim() != "A" {
        return Err(format!("item 1's answer reads {first:?}, not A"));
    }
    fits(c, "the practice feedback").await?;
    c.goto(&s.url("/practice")).await.ctx("back to the practice page")?;
    page_shows(c, &["已交卷", "查看解析"], "in the list of attempts").await
}

/// Waits (up to 5 s) for the page that a form post leads to, until it shows every text.
async fn page_shows(c: &Client, texts: &[&str], when: &str) -> Outcome {
    let mut last = String::new();
    for _ in 0..50 {
        if let Ok(source) = c.source().await {
            if texts.iter().all(|t| source.contains(t)) {
                return Ok(());
            }
            last = source;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<&&str> = texts.iter().filter(|t| !last.contains(**t)).collect();
    Err(format!("{when}, the page does not show {missing:?}"))
}

// ---------------------------------------------------------------------------------------------
// Keyboard helpers

/// Types `text` (and then `then`) into whatever has focus, as key presses.
async fn type_keys(c: &Client, text: &str, then: Option<Key>) -> Outcome {
    let mut keys = KeyActions::new("keyboard".to_owned());
    for ch in text.chars().chain(then.map(char::from)) {
        keys = keys.then(KeyAction::Down { value: ch }).then(KeyAction::Up { value: ch });
    }
    c.perform_actions(keys).await.ctx("pressing keys")?;
    c.release_actions().await.ctx("releasing keys")
}

/// The focused element as `tag#id` (or `tag` without an id).
async fn focused_element(c: &Client) -> Outcome<String> {
    let described = c
        .execute(
            "const e = document.activeElement; \
             return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') : '';",
            vec![],
        )
        .await
        .ctx("reading the focused element")?;
    Ok(described.as_str().unwrap_or_default().to_owned())
}
