//! The figures tools read through casework's library instead of its tables (`rcn bench`): how
//! many cases and applied notices there are, and when a notice was applied; and synthetic cases
//! seeded through casework's own seeding count as cases.

use rcn_casework::stats;

use crate::helpers::{TestCasework, days_from_today, gm, routed_notice, today};

#[tokio::test]
async fn stats_count_applied_notices_and_cases_including_synthetic_ones() {
    let casework = TestCasework::spawn().await;
    let pool = stats::open(casework.database_url(), 2)
        .await
        .expect("casework's schema opens");
    assert_eq!(stats::case_count(&pool).await.expect("counted"), 0);
    assert_eq!(
        stats::applied_notice_count(&pool).await.expect("counted"),
        0
    );

    let first = routed_notice("PI-HAARLEM:s1", "episode-s1", days_from_today(30), |_| {});
    let second = routed_notice("PI-HAARLEM:s2", "episode-s2", days_from_today(40), |_| {});
    casework.publish(&first, "event-s1").await;
    casework.publish(&second, "event-s2").await;
    casework.wait_for_case("PI-HAARLEM:s1").await;
    casework.wait_for_case("PI-HAARLEM:s2").await;

    assert_eq!(stats::case_count(&pool).await.expect("counted"), 2);
    assert_eq!(
        stats::applied_notice_count(&pool).await.expect("counted"),
        2
    );
    let keys = vec![
        "PI-HAARLEM:s1".to_owned(),
        "PI-HAARLEM:never-sent".to_owned(),
    ];
    let applied = stats::applied_at(&pool, &keys).await.expect("read");
    assert_eq!(
        applied.len(),
        1,
        "only the notice that was applied: {applied:?}"
    );
    assert_eq!(applied[0].0, "PI-HAARLEM:s1");
    assert!(applied[0].1 <= chrono::Utc::now());

    let settings = rcn_casework::Settings::default();
    let added = rcn_casework::seed::synthetic_cases(
        &pool,
        25,
        &[gm("GM0392")],
        &settings.conditions,
        today(),
        |_| {},
    )
    .await
    .expect("seeded");
    assert_eq!(added, 25);
    assert_eq!(stats::case_count(&pool).await.expect("counted"), 27);
    assert_eq!(
        stats::applied_notice_count(&pool).await.expect("counted"),
        2,
        "synthetic cases are history, not applied notices"
    );
    casework.stop().await;
}
