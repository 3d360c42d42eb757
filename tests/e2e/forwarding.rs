use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack, release_notice_json};

/// A region file for a second region that serves Haarlemmermeer.
fn haarlemmermeer_region(slug: &str) -> String {
    format!(
        "name = \"Test Amstelland\"\nslug = \"{slug}\"\ncentrumgemeente = \"GM0394\"\n\n\
         [[municipalities]]\ncode = \"GM0394\"\nname = \"Haarlemmermeer\"\nresidential_pc4 = [\"2131-2136\"]\npo_box_pc4 = []\n"
    )
}

fn write(dir: &std::path::Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write a region file");
    path
}

#[tokio::test]
async fn a_notice_for_a_municipality_of_another_region_arrives_there_as_a_case_and_is_acknowledged()
{
    let dir =
        std::env::temp_dir().join(format!("rcn-forwarding-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // Region B serves Haarlemmermeer; region A (Kennemerland's table) forwards there.
    let b_file = write(&dir, "b.toml", &haarlemmermeer_region("test-b"));
    let b = TestStack::spawn_with(|c| c.region_file = Some(b_file)).await;
    let kennemerland = include_str!("../../shared/contracts/regions/kennemerland.toml").replace(
        "region = \"amsterdam-amstelland\"",
        &format!("region = \"{}\"", b.env.config.region),
    );
    let a_file = write(&dir, "a.toml", &kennemerland);
    let a = TestStack::spawn_with(|c| c.region_file = Some(a_file)).await;

    let mut notice = release_notice_json();
    notice["notice_id"] = "to-haarlemmermeer".into();
    notice["person"]["brp_municipality"] = "GM0394".into();
    assert_eq!(a.post_notice(&notice).await.status(), 202);

    let (outcome, code, _) = a.wait_for_decision("PI-HAARLEM:to-haarlemmermeer").await;
    assert_eq!(
        (outcome.as_str(), code.as_deref()),
        ("out_of_region", Some("GM0394"))
    );
    // Region B routes it to its own municipality and opens the case there.
    let case = b.wait_for_case("PI-HAARLEM:to-haarlemmermeer").await;
    assert_eq!(case.gemeentecode, "GM0394");
    assert_eq!(a.count("SELECT count(*) FROM casework.cases").await, 0);
    // And region A's forward is acknowledged.
    eventually(PATIENCE, "the forward to be acknowledged", || async {
        let acked: Option<Option<chrono::DateTime<chrono::Utc>>> =
            sqlx::query_scalar("SELECT acknowledged_at FROM router.forwards WHERE notice_key = $1")
                .bind("PI-HAARLEM:to-haarlemmermeer")
                .fetch_optional(&a.db)
                .await
                .ok()
                .flatten();
        acked.flatten()
    })
    .await;
    a.stop().await;
    b.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
