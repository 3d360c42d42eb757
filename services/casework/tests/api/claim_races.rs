//! Claiming a whole case and many of its tasks at the same moment (issue 10): `claim_case` and
//! `claim_many` once locked a case's tasks in different orders and PostgreSQL broke the deadlock
//! by failing one of them (`internal`), after making everyone wait. Now every request is answered
//! quickly and for a reason, each task ends with one holder, and each task's history adds up. A
//! request PostgreSQL aborts for a conflict all the same runs again, and is at worst answered
//! "try again", never "internal".

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rcn_casework::error::CaseworkError;
use rcn_casework::retry::{ATTEMPTS, retrying};

use rcn_contracts::Condition;
use rcn_contracts::casework_api::{BulkReply, ErrorCode, InboxPage, TaskView};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::Identity;
use serde_json::json;
use uuid::Uuid;

use crate::casework_support::{App, CaseworkProblem, one, staff, task};
use crate::helpers::days_from_today;

/// In the order conditions are declared, as a client lists them.
const ALL: [Condition; 5] = [
    Condition::Id,
    Condition::Housing,
    Condition::Income,
    Condition::Debts,
    Condition::Care,
];

/// The longest any request may take, racing or not.
const QUICK: Duration = Duration::from_secs(1);

#[tokio::test]
async fn claiming_a_case_and_many_of_its_tasks_at_once_answers_quickly_and_leaves_one_holder() {
    let mut app = App::spawn().await;
    // Every condition unknown: all five tasks open, so both verbs lock all five rows.
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |n| {
            n.conditions = Default::default()
        })
        .await;
    let people: Vec<Identity> = (0..20)
        .map(|i| staff(&format!("colleague-{i}"), "GM0392"))
        .collect();
    // Warm the API up first, so every request below really races.
    let _: InboxPage = app.call(&people[0], "inbox", &json!({})).await.unwrap();
    let many = json!({"tasks": ALL.map(|c| task(case, c))});

    for round in 1..=3 {
        let calls = people.iter().enumerate().map(|(i, who)| {
            let (app, many) = (&app, &many);
            async move {
                let started = Instant::now();
                let reply: Result<BulkReply, ApiProblem> = if i % 2 == 0 {
                    app.call(who, "claim_case", &json!({"case_id": case})).await
                } else {
                    app.call(who, "claim_many", many).await
                };
                (who.user_id.clone(), started.elapsed(), reply)
            }
        });
        let results = futures::future::join_all(calls).await;

        let mut won: Vec<(Condition, String)> = Vec::new();
        for (who, took, reply) in &results {
            let reply = reply
                .as_ref()
                .unwrap_or_else(|e| panic!("round {round}: {who} was answered {e:?}"));
            assert!(took < &QUICK, "round {round}: {who} waited {took:?}");
            for r in &reply.results {
                match &r.error {
                    None => won.push((r.task.condition, who.clone())),
                    Some(e) => {
                        assert_eq!(e.code(), ErrorCode::ClaimedByOther, "round {round}: {e:?}")
                    }
                }
            }
        }
        won.sort();
        let held = holders(&app, case).await;
        assert_eq!(
            won, held,
            "round {round}: each task has the one holder whose claim succeeded"
        );
        assert_eq!(held.len(), ALL.len(), "round {round}: every task is held");
        history_adds_up(&app, case).await;

        // Every holder gives their tasks back, so the next round races for all of them again.
        for (condition, holder) in held {
            let _: TaskView = app
                .call(&staff(&holder, "GM0392"), "unclaim", &one(case, condition))
                .await
                .unwrap();
        }
    }
    history_adds_up(&app, case).await;
    app.stop_all().await;
}

/// (condition, holder) of every held task of `case`, sorted.
async fn holders(app: &App, case: Uuid) -> Vec<(Condition, String)> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT condition, claimed_by FROM casework.condition_tasks WHERE case_id = $1",
    )
    .bind(case)
    .fetch_all(&app.db)
    .await
    .expect("readable");
    let mut held: Vec<(Condition, String)> = rows
        .into_iter()
        .filter_map(|(c, h)| Some((Condition::parse(&c).expect("readable"), h?)))
        .collect();
    held.sort();
    held
}

/// Each task's changes of holder form one chain — every change starts from whom the previous one
/// left it with — ending at its holder now.
async fn history_adds_up(app: &App, case: Uuid) {
    let now: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT condition, claimed_by FROM casework.condition_tasks WHERE case_id = $1",
    )
    .bind(case)
    .fetch_all(&app.db)
    .await
    .expect("readable");
    for (condition, holder) in now {
        let changes: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT change, from_holder, to_holder FROM casework.task_history
             WHERE case_id = $1 AND condition = $2
               AND change IN ('claimed', 'unclaimed', 'handed_over', 'reassigned', 'lapsed')
             ORDER BY id",
        )
        .bind(case)
        .bind(&condition)
        .fetch_all(&app.db)
        .await
        .expect("readable");
        let mut last: Option<String> = None;
        for (change, from, to) in &changes {
            assert_eq!(
                from, &last,
                "{condition}: {change} from {from:?} while {last:?} held it: {changes:?}"
            );
            assert_ne!(from, to, "{condition}: {change} changed nothing");
            last.clone_from(to);
        }
        assert_eq!(last, holder, "{condition}: the history ends at the holder");
    }
}

/// PostgreSQL's own abort, as it reports a deadlock or a serialization failure.
async fn aborted_by_postgres(db: &sqlx::PgPool, sqlstate: &str) -> Result<(), CaseworkError> {
    let sql = format!(
        "DO $$ BEGIN RAISE EXCEPTION 'aborted for a concurrent transaction' USING ERRCODE = '{sqlstate}'; END $$"
    );
    sqlx::query(&sql).execute(db).await?;
    Ok(())
}

#[tokio::test]
async fn a_request_postgres_aborts_for_a_deadlock_runs_again_and_is_never_answered_internal() {
    let mut app = App::spawn().await;
    let runs = AtomicU32::new(0);
    let outcome = retrying(|| async {
        let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
        if run < 3 {
            aborted_by_postgres(&app.db, if run == 1 { "40P01" } else { "40001" }).await?;
        }
        Ok(run)
    })
    .await;
    assert_eq!(outcome.unwrap(), 3, "run again until it went through");

    // A conflict that does not go away: a bounded number of runs, then "try again".
    let runs = AtomicU32::new(0);
    let e = retrying(|| async {
        runs.fetch_add(1, Ordering::SeqCst);
        aborted_by_postgres(&app.db, "40P01").await
    })
    .await
    .unwrap_err();
    assert_eq!(runs.load(Ordering::SeqCst), ATTEMPTS);
    let answer = e.to_problem();
    assert_eq!(answer.code(), ErrorCode::Unavailable, "{answer:?}");
    assert!(answer.detail.contains("try again"), "{}", answer.detail);

    // Any other database error is not retried.
    let runs = AtomicU32::new(0);
    let e = retrying(|| async {
        runs.fetch_add(1, Ordering::SeqCst);
        aborted_by_postgres(&app.db, "23505").await
    })
    .await
    .unwrap_err();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(e.to_problem().code(), ErrorCode::Internal);
    app.stop_all().await;
}
