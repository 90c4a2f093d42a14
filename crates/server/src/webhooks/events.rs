//! The events and their messages, in Codat's shape: `{id, eventType, generatedDate,
//! payload: {referenceCompany, …}}`. Emitting queues one delivery per subscribed consumer in
//! the database and wakes the sender; it never fails its caller.

use prestalink_store::{format_timestamp, Company, Dataset};
use serde_json::{json, Map, Value};

use crate::state::AppState;

/// The company as every payload names it.
pub fn reference_company(company: &Company) -> Value {
    json!({
        "id": company.id,
        "name": company.name,
        "description": company.description,
        "tags": company.tags,
        "createdDate": company.created_at,
    })
}

/// The `payload` of a connection event: the company, the connection and `detail`'s fields.
pub fn connection_payload(company: &Company, connection_id: &str, detail: Value) -> Value {
    let mut payload = Map::new();
    payload.insert("referenceCompany".into(), reference_company(company));
    payload.insert("connectionId".into(), Value::from(connection_id));
    if let Value::Object(fields) = detail {
        for (k, v) in fields {
            payload.entry(k).or_insert(v);
        }
    }
    Value::Object(payload)
}

/// One entry of `payload.dataTypes`.
pub fn data_type_entry(dataset: &Dataset) -> Value {
    let issues: Vec<Value> = dataset
        .error_message
        .iter()
        .map(|message| json!({"type": "error", "message": message}))
        .collect();
    json!({
        "connectionId": dataset.connection_id,
        "dataType": dataset.data_type,
        "recordsModified": dataset.records_modified,
        "status": dataset.status,
        "issues": issues,
    })
}

/// The `payload` of a read event.
pub fn read_payload(company: &Company, datasets: &[&Dataset]) -> Value {
    let mut payload = Map::new();
    payload.insert("referenceCompany".into(), reference_company(company));
    let mut connections: Vec<&str> = datasets.iter().map(|d| d.connection_id.as_str()).collect();
    connections.sort_unstable();
    connections.dedup();
    if let [connection_id] = connections[..] {
        payload.insert("connectionId".into(), Value::from(connection_id));
    }
    payload.insert(
        "dataTypes".into(),
        Value::Array(datasets.iter().map(|d| data_type_entry(d)).collect()),
    );
    Value::Object(payload)
}

/// Queues `payload` as an `event_type` message for its subscribers and wakes the sender.
pub async fn queue(state: &AppState, event_type: &str, payload: Value) {
    let message_id = crate::random_id();
    let now = state.clock.now();
    let message = json!({
        "id": message_id,
        "eventType": event_type,
        "generatedDate": format_timestamp(now),
        "payload": payload,
    });
    match state
        .store
        .queue_webhook_event(event_type, &message_id, &message.to_string(), now)
        .await
    {
        Ok(0) => {}
        Ok(queued) => {
            tracing::debug!(event_type, message_id, queued, "webhook event queued");
            state.events_queued.notify_one();
        }
        Err(e) => {
            tracing::warn!(event_type, message_id, error = %e, "webhook event not queued");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company() -> Company {
        Company {
            id: "c1".into(),
            name: "Acme".into(),
            description: None,
            tags: json!({"region": "eu"}),
            created_at: "2025-01-01T00:00:00.000Z".into(),
        }
    }

    fn dataset(data_type: &str, status: &str, error: Option<&str>, initial: bool) -> Dataset {
        Dataset {
            id: format!("d-{data_type}"),
            company_id: "c1".into(),
            connection_id: "k1".into(),
            data_type: data_type.into(),
            status: status.into(),
            status_description: None,
            error_message: error.map(str::to_string),
            requested: "2025-01-01T00:00:00.000Z".into(),
            completed: Some("2025-01-01T00:01:00.000Z".into()),
            progress: 100,
            records_modified: 7,
            initial,
            trigger: "manual".into(),
            job_id: Some(1),
            run_id: None,
        }
    }

    #[test]
    fn reference_company_has_codats_fields() {
        assert_eq!(
            reference_company(&company()),
            json!({"id": "c1", "name": "Acme", "description": null, "tags": {"region": "eu"},
                   "createdDate": "2025-01-01T00:00:00.000Z"})
        );
    }

    #[test]
    fn connection_payload_merges_the_detail_without_overriding() {
        let p = connection_payload(
            &company(),
            "k1",
            json!({"status": "Deauthorized", "connectionId": "spoofed"}),
        );
        assert_eq!(p["connectionId"], "k1");
        assert_eq!(p["status"], "Deauthorized");
        assert_eq!(p["referenceCompany"]["id"], "c1");
    }

    #[test]
    fn read_payload_lists_data_types_with_issues() {
        let ok = dataset("commerce-orders", "Complete", None, true);
        let failed = dataset("commerce-products", "FetchError", Some("HTTP 500"), false);
        let p = read_payload(&company(), &[&ok, &failed]);
        assert_eq!(p["connectionId"], "k1");
        assert_eq!(
            p["dataTypes"],
            json!([
                {"connectionId": "k1", "dataType": "commerce-orders", "recordsModified": 7,
                 "status": "Complete", "issues": []},
                {"connectionId": "k1", "dataType": "commerce-products", "recordsModified": 7,
                 "status": "FetchError", "issues": [{"type": "error", "message": "HTTP 500"}]},
            ])
        );
    }
}
