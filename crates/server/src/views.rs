//! The API's shapes of companies and connections (Codat's `Company` and `Connection`),
//! built from what the store holds.

use prestalink_store::{Company, Connection, ConnectionError, Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// What was found when the store was checked (Codat has no such object; PrestaShop's
/// specifics live here).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// The store's base address, as linked.
    pub store_url: String,
    /// `basic` or `ws_key`.
    pub auth_mode: Option<String>,
    /// `rewrite` (`/api/`) or `dispatcher` (`dispatcher.php`).
    pub url_mode: Option<String>,
    /// PrestaShop version.
    pub version: Option<String>,
    /// Installed languages.
    #[schema(value_type = Vec<Object>)]
    pub languages: Value,
    /// Shops.
    #[schema(value_type = Vec<Object>)]
    pub shops: Value,
    /// `PS_TIMEZONE`.
    pub timezone: Option<String>,
    /// Default currency (ISO 4217).
    pub currency: Option<String>,
    /// Warnings of the last check (code, message, fix).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Value,
    /// Resources the key cannot read, with the data types that need them.
    #[schema(value_type = Vec<Object>)]
    pub missing_permissions: Value,
}

/// A connection to a PrestaShop store (Codat's `Connection`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// Connection id.
    pub id: String,
    /// Always `prestashop`.
    pub integration_key: String,
    /// Always `prestashop`.
    pub source_id: String,
    /// Always `PrestaShop`.
    pub platform_name: String,
    /// Always `Commerce`.
    pub source_type: String,
    /// `PendingAuth`, `Linked`, `Deauthorized` or `Unlinked`.
    pub status: String,
    /// The Link page of the connection's company.
    pub link_url: String,
    /// When it was created.
    pub created: String,
    /// When a sync of it last completed.
    pub last_sync: Option<String>,
    /// The Webservice key, masked (`••••1234`).
    pub webservice_key: String,
    /// Why the connection failed, newest first.
    pub data_connection_errors: Vec<ConnectionErrorView>,
    /// What the last check found.
    pub connection_info: ConnectionInfo,
}

/// One entry of `dataConnectionErrors`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionErrorView {
    /// Machine code (`invalid_key`, `unreachable`…).
    pub status_code: String,
    /// Short text.
    pub status_text: String,
    /// What happened.
    pub error_message: String,
    /// When.
    pub errored_on_utc: String,
    /// When the connection was linked again.
    pub resolved_on_utc: Option<String>,
}

impl From<ConnectionError> for ConnectionErrorView {
    fn from(e: ConnectionError) -> Self {
        ConnectionErrorView {
            status_code: e.status_code,
            status_text: e.status_text,
            error_message: e.error_message,
            errored_on_utc: e.errored_on_utc,
            resolved_on_utc: e.resolved_on_utc,
        }
    }
}

/// A company (Codat's `Company`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyView {
    /// Company id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Tags.
    #[schema(value_type = Object)]
    pub tags: Value,
    /// The Link page where the merchant connects the store.
    pub redirect: String,
    /// When it was created.
    pub created: String,
    /// When a sync of one of its connections last completed.
    pub last_sync: Option<String>,
    /// Its connections.
    pub data_connections: Vec<ConnectionView>,
}

/// The Link page of a company.
pub fn link_url(base_url: &str, company_id: &str) -> String {
    format!("{base_url}/link/{company_id}")
}

/// The masked key: bullets and the last four characters.
fn masked(connection: &Connection) -> String {
    let hint = connection.key_masked.trim_start_matches('*');
    format!("••••{hint}")
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn list(v: &Value, key: &str) -> Value {
    match v.get(key) {
        Some(Value::Array(a)) => Value::Array(a.clone()),
        _ => Value::Array(Vec::new()),
    }
}

/// The newest completion time of the connection's syncs.
async fn last_sync(store: &Store, connection_id: &str) -> Result<Option<String>, StoreError> {
    Ok(store
        .data_status(connection_id)
        .await?
        .into_iter()
        .filter_map(|s| s.last_successful_sync)
        .max())
}

/// A connection as the API shows it.
pub async fn connection_view(
    store: &Store,
    base_url: &str,
    connection: &Connection,
) -> Result<ConnectionView, StoreError> {
    let s = &connection.settings;
    Ok(ConnectionView {
        id: connection.id.clone(),
        integration_key: "prestashop".to_string(),
        source_id: "prestashop".to_string(),
        platform_name: "PrestaShop".to_string(),
        source_type: "Commerce".to_string(),
        status: connection.status.as_str().to_string(),
        link_url: link_url(base_url, &connection.company_id),
        created: connection.created_at.clone(),
        last_sync: last_sync(store, &connection.id).await?,
        webservice_key: masked(connection),
        data_connection_errors: store
            .connection_errors(&connection.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        connection_info: ConnectionInfo {
            store_url: connection.store_url.clone(),
            auth_mode: text(s, "authMode"),
            url_mode: text(s, "urlMode"),
            version: text(s, "version"),
            languages: list(s, "languages"),
            shops: list(s, "shops"),
            timezone: text(s, "timezone"),
            currency: text(s, "currency"),
            warnings: list(s, "warnings"),
            missing_permissions: list(s, "missingPermissions"),
        },
    })
}

/// A company as the API shows it, with its connections.
pub async fn company_view(
    store: &Store,
    base_url: &str,
    company: &Company,
) -> Result<CompanyView, StoreError> {
    let mut connections = Vec::new();
    for c in store.list_connections(Some(&company.id)).await? {
        connections.push(connection_view(store, base_url, &c).await?);
    }
    Ok(CompanyView {
        id: company.id.clone(),
        name: company.name.clone(),
        description: company.description.clone(),
        tags: company.tags.clone(),
        redirect: link_url(base_url, &company.id),
        created: company.created_at.clone(),
        last_sync: connections.iter().filter_map(|c| c.last_sync.clone()).max(),
        data_connections: connections,
    })
}
