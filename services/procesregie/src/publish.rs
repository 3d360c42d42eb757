//! Procesregie's events go out only through the outbox, in the transaction that makes the change.

use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::procesregie_events::ProcesregieEvent;
use rcn_runtime::outbox;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Procesregie;
use crate::access::db;
use rcn_runtime::trace_context::TraceContext;

impl Procesregie {
    /// Records `payload` (whose id is `event_id`) for publication on `event`'s subject.
    pub async fn announce<T: Serialize>(
        &self,
        tx: &mut PgConnection,
        event: ProcesregieEvent,
        event_id: Uuid,
        payload: &T,
        trace: Option<&TraceContext>,
    ) -> Result<(), ApiProblem> {
        outbox::enqueue(
            tx,
            outbox::Event {
                event_id,
                subject: self.subjects.procesregie_event(event),
                payload,
                trace,
            },
        )
        .await
        .map_err(db)
    }
}
